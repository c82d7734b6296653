import RLWatchCore

/// How far a process has seen a run's stored metric rows: the highest row id it has judged.
///
/// Row ids only grow within a run while its batches are serialised (each batch is written after the previous one
/// committed), so "rows of this run with an id above the cursor" are exactly the rows other processes wrote since.
public struct RunCursor: Sendable, Hashable, Comparable {
    public var rowID: Int64

    public init(rowID: Int64) { self.rowID = rowID }

    /// Before the run's first row.
    public static let start = RunCursor(rowID: 0)

    public static func < (lhs: RunCursor, rhs: RunCursor) -> Bool { lhs.rowID < rhs.rowID }
}

/// A store that several processes share (several `rlwatch serve` behind one load balancer), and that orders the
/// batches of each run among all of them.
///
/// A run's detector state lives in the memory of whichever process judges its batches, and any process may receive
/// the next one. So each batch is judged holding a lock on its run that every process sharing the database honours,
/// after catching up with the rows the others wrote since this process last saw the run. Judging is deterministic,
/// so catching up by replaying those rows (``Monitor/restore(from:)``) brings the detectors to the state the other
/// process had, and the batch gets the alerts a single process would have raised.
///
/// The SQLite and in-memory stores do not conform: one process owns them, and its per-run in-memory lock suffices.
public protocol RunSerializingStore: Store {
    /// Runs `body` as the only writer of `runID` among every process using this database, in one transaction.
    ///
    /// The store's methods called by `body` (directly or through a `Monitor`, in the same task) join that
    /// transaction: `append`, `receipt`, `finishRun`, `run`, `steps`. Everything `body` writes commits together
    /// when it returns, or not at all when it (or the commit) throws. If the process dies, the database drops the
    /// lock with the connection, so another process can take the run over at once; nothing acknowledged is lost,
    /// since an answer is only sent after the commit.
    ///
    /// - Parameters:
    ///   - runID: The run whose batches are serialised.
    ///   - cursor: How far the caller has seen the run's rows (``RunCursor/start`` for nothing).
    ///   - body: Receives the rows stored after `cursor` (written by other processes, in arrival order) and the run
    ///     as stored when it is finished (nil while it is open).
    /// - Returns: `body`'s value and the cursor after everything the transaction wrote.
    func withExclusiveRun<T: Sendable>(
        _ runID: String, after cursor: RunCursor, _ body: (RunCatchUp) async throws -> T
    ) async throws -> (value: T, cursor: RunCursor)
}

/// What a process missed of a run while other processes judged its batches.
public struct RunCatchUp: Sendable {
    /// The run's rows stored after the caller's cursor, in arrival order.
    public var steps: [StoredStep]
    /// The run as stored, when it is finished (another server may have finished it); nil while it is open.
    public var run: RunRecord?

    public init(steps: [StoredStep], run: RunRecord?) {
        self.steps = steps
        self.run = run
    }
}

/// A store that can drop old metric rows (`storage.retention_days`), keeping runs and alerts.
public protocol RetentionStore: Store {
    /// Deletes the metric rows stored before `time` (seconds since 1970) and the batch receipts as old; runs, alerts
    /// and the outbox are kept.
    ///
    /// - Returns: The number of metric rows deleted.
    func pruneSteps(before time: Double) async throws -> Int
}
