import RLWatchCore

/// A monitored run, as the store keeps it.
public struct RunRecord: Sendable, Hashable {
    public var runID: String
    public var framework: String
    /// Seconds since 1970 when the run was first registered.
    public var startedAt: Double
    /// The resolved configuration as JSON, secrets already redacted by the caller.
    public var configJSON: String
    /// Seconds since 1970 when the run was closed (`finish`, the client's `stop()`); nil while open.
    public var finishedAt: Double?

    public init(runID: String, framework: String, startedAt: Double, configJSON: String, finishedAt: Double? = nil) {
        self.runID = runID
        self.framework = framework
        self.startedAt = startedAt
        self.configJSON = configJSON
        self.finishedAt = finishedAt
    }
}

/// How far a watched source (a log file a trainer writes) has been ingested, saved with the steps it covers.
///
/// `state` is opaque to the store: each reader writes what it needs to resume (a byte offset, a file
/// identity, a count of entries), as JSON by convention.
public struct SourceCheckpoint: Sendable, Hashable {
    /// What is watched, for example the absolute path of a file.
    public var source: String
    public var runID: String
    public var state: String

    public init(source: String, runID: String, state: String) {
        self.source = source
        self.runID = runID
        self.state = state
    }
}

/// The answer given to a batch sent with an idempotency key, kept so that a re-sent batch gets it again
/// instead of being applied twice.
public struct BatchReceipt: Sendable, Hashable {
    public var runID: String
    public var key: String
    /// The response body as it was first sent.
    public var response: String
    /// A digest of the batch the key was first used for, so that the key sent again with other steps is refused
    /// rather than answered with the first batch's receipt (its steps silently dropped); nil in receipts stored
    /// before digests were (SQLite schema v5, PostgreSQL v1), which match any batch.
    public var batchDigest: String?

    public init(runID: String, key: String, response: String, batchDigest: String? = nil) {
        self.runID = runID
        self.key = key
        self.response = response
        self.batchDigest = batchDigest
    }
}

/// What else an append records in the same transaction as its steps and alerts.
public struct AppendOptions: Sendable, Hashable {
    /// Moves a watched source's checkpoint forward with the steps read from it.
    public var checkpoint: SourceCheckpoint?
    /// Records the answer to an idempotent batch.
    public var receipt: BatchReceipt?
    /// When the checkpoint and the receipt were recorded (seconds since 1970, on the caller's wall clock).
    public var time: Double

    public init(checkpoint: SourceCheckpoint? = nil, receipt: BatchReceipt? = nil, at time: Double) {
        self.checkpoint = checkpoint
        self.receipt = receipt
        self.time = time
    }

    /// Nothing besides the steps and alerts.
    public static let none = AppendOptions(at: 0)
}

/// One stored metrics row: a step as it arrived, with the time it arrived.
public struct StoredStep: Sendable, Hashable {
    public var runID: String
    /// Increments each time the step number fails to increase (a resume from a checkpoint).
    public var segment: Int
    public var timestamp: Double
    /// The step after `MetricStep.resolved()`: reward mean/std derived where possible.
    public var metrics: MetricStep

    public init(runID: String, segment: Int, timestamp: Double, metrics: MetricStep) {
        self.runID = runID
        self.segment = segment
        self.timestamp = timestamp
        self.metrics = metrics
    }
}

/// One stored alert, delivered or suppressed.
public struct AlertRecord: Sendable, Hashable {
    /// Assigned by the store; `nil` before insertion.
    public var id: Int64?
    public var runID: String
    public var timestamp: Double
    public var alert: Alert
    public var disposition: AlertDisposition
    /// The channels to deliver a delivered alert to (`slack`, `pagerduty`, …): appending the alert queues one
    /// outbox entry per channel in the same transaction. Not read back: queries return `[]`, see
    /// `Store.deliveries(runID:filter:)` for the queue.
    public var channels: [String]

    public init(
        id: Int64? = nil, runID: String, timestamp: Double, alert: Alert, disposition: AlertDisposition,
        channels: [String] = []
    ) {
        self.id = id
        self.runID = runID
        self.timestamp = timestamp
        self.alert = alert
        self.disposition = disposition
        self.channels = channels
    }
}

/// Which alerts a query returns.
public enum AlertFilter: Sendable, Hashable {
    case all
    case delivered
    case suppressed
}

/// Where rlwatch keeps runs, metric rows and alerts.
///
/// Implementations: `InMemoryStore` (tests, `--no-store`), `SQLiteStore` (the embedded default), `PostgresStore`
/// (shared by several servers). Every method may be called from any task; implementations serialise writes
/// themselves.
///
/// What only some stores can do is a requirement here with a default implementation (hummingbird's
/// `PersistDriver` pattern), never a protocol found by a runtime cast: a store answers ``lastActivity(runID:)`` and
/// ``largestStep(runID:)`` with an index lookup where it can, else the defaults read rows; a store shared by several
/// processes says so with ``sharesRuns`` and implements ``withExclusiveRun(_:after:_:)``. The alert outbox and
/// retention have no default: a store without them does not compile, instead of silently sending no alert.
public protocol Store: Sendable {
    /// Registers a run, or updates its framework and config if it exists (its start time is kept).
    func registerRun(_ run: RunRecord) async throws
    /// Appends steps and alerts, and the checkpoint or receipt of `options`, in one transaction: after it
    /// returns, all of them are durable; when it throws, none of them is stored.
    func append(steps: [StoredStep], alerts: [AlertRecord], options: AppendOptions) async throws
    /// Marks a run finished at `time`; a later `registerRun` of the same id (a resume) reopens it.
    func finishRun(id: String, at time: Double) async throws
    /// A watched source's last saved checkpoint, or nil.
    func checkpoint(source: String) async throws -> SourceCheckpoint?
    /// The receipt of a batch sent with this idempotency key, or nil.
    func receipt(runID: String, key: String) async throws -> BatchReceipt?
    /// All runs, newest first (by start time).
    func runs() async throws -> [RunRecord]
    /// One run, or nil.
    func run(id: String) async throws -> RunRecord?
    /// A run's metric rows in arrival order, optionally from a step on and at most `limit` rows.
    func steps(runID: String, sinceStep: Int?, limit: Int?) async throws -> [StoredStep]
    /// A run's alerts in arrival order.
    func alerts(runID: String, filter: AlertFilter) async throws -> [AlertRecord]
    /// The number of metric rows stored for a run.
    func stepCount(runID: String) async throws -> Int

    // MARK: The alert outbox (every store)
    //
    // Entries are created by `append` (one per channel in `AlertRecord.channels`, in the alert's transaction), so an
    // alert is never stored without its deliveries nor queued without being stored. The dispatcher claims due
    // entries with a lease, sends, then records the attempt and the entry's new state in one transaction.

    /// Pending entries due at `time` (oldest due first), at most `limit`; each is leased until `leaseUntil` (its
    /// `nextAttemptAt` moves there) so that a second dispatcher on the same database does not send it too. A
    /// dispatcher that dies mid-send leaves the lease to expire and the entry is retried.
    func claimDueDeliveries(at time: Double, leaseUntil: Double, limit: Int) async throws -> [DueDelivery]
    /// The earliest `nextAttemptAt` of a pending entry, or nil when none is pending.
    func nextDeliveryDue() async throws -> Double?
    /// Logs an attempt and moves its entry to `status` (with `nextAttemptAt` for a pending one) in one transaction.
    /// An entry no longer pending is left as it is (the attempt is still logged).
    func recordDeliveryAttempt(_ attempt: DeliveryAttemptRecord, status: DeliveryStatus, nextAttemptAt: Double)
        async throws
    /// Outbox entries of one run (or all runs when nil), oldest first.
    func deliveries(runID: String?, filter: DeliveryFilter) async throws -> [DeliveryRecord]
    /// The delivery log of one entry, in order.
    func deliveryAttempts(deliveryID: Int64) async throws -> [DeliveryAttemptRecord]
    /// Rung after an append that queued deliveries commits, so that a dispatcher in this process sends the alert
    /// at once instead of at its next poll. Default: nil (the dispatcher then polls).
    var outboxDoorbell: OutboxDoorbell? { get }

    // MARK: Training checkpoints and actions on alerts (every store)

    /// Records a checkpoint the run's trainer saved, so that alerts can name where to resume; the same path reported
    /// again (a retry, `watch` restarted) keeps the first record. A read-only 0.5.1 database knows none.
    ///
    /// - Returns: whether it was new.
    @discardableResult
    func recordTrainingCheckpoint(_ checkpoint: TrainingCheckpoint, runID: String) async throws -> Bool
    /// The run's checkpoints, by step then path.
    func trainingCheckpoints(runID: String) async throws -> [TrainingCheckpoint]
    /// Records an action taken on an alert (a stop, a checkpoint, a command), for the API, the dashboard and
    /// `diagnose`.
    func recordAlertAction(_ action: AlertActionRecord) async throws
    /// The run's actions, oldest first.
    func alertActions(runID: String) async throws -> [AlertActionRecord]

    // MARK: Retention (every store)

    /// Deletes the metric rows stored before `time` (seconds since 1970) and the batch receipts as old; runs, alerts
    /// and the outbox are kept (`storage.retention_days`).
    ///
    /// - Returns: The number of metric rows deleted.
    func pruneSteps(before time: Double) async throws -> Int

    // MARK: Lookups with a default

    /// The schema version stored in the database and the one this build writes (`rlwatch db status`). Default: nil
    /// (a store without a schema, like the in-memory one).
    func schemaVersions() async throws -> (stored: Int, current: Int)?

    /// The run's last stored row by arrival: its step and when it arrived. Default: reads the run's rows.
    func lastActivity(runID: String) async throws -> RunActivity?
    /// The largest step number stored for a run, or nil when it has no rows. Default: gallops then bisects with
    /// one-row `steps(runID:sinceStep:limit:)` queries (about 2·log₂(last step)).
    func largestStep(runID: String) async throws -> Int?

    // MARK: Several processes on one store (default: one process)

    /// Whether several processes share the store (several `rlwatch serve` on one PostgreSQL database), so that each
    /// batch must be judged inside ``withExclusiveRun(_:after:_:)``. Default: false.
    var sharesRuns: Bool { get }
    /// Runs `body` as the only writer of `runID` among every process using this database, in one transaction.
    ///
    /// A run's detector state lives in the memory of whichever process judges its batches, and any process may
    /// receive the next one. So each batch is judged holding a lock on its run that every process sharing the
    /// database honours, after catching up with the rows the others wrote since this process last saw the run.
    /// The store's methods called by `body` (directly or through a `Monitor`, in the same task) join that
    /// transaction. If the process dies, the database drops the lock with the connection.
    ///
    /// Default (one process owns the store, and its per-run in-memory lock suffices): runs `body` with nothing to
    /// catch up and returns `cursor` unchanged.
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

extension Store {
    public func schemaVersions() async throws -> (stored: Int, current: Int)? { nil }

    public var outboxDoorbell: OutboxDoorbell? { nil }

    public func lastActivity(runID: String) async throws -> RunActivity? {
        guard let last = try await steps(runID: runID).last else { return nil }
        return RunActivity(step: last.metrics.step, timestamp: last.timestamp)
    }

    public var sharesRuns: Bool { false }

    public func withExclusiveRun<T: Sendable>(
        _ runID: String, after cursor: RunCursor, _ body: (RunCatchUp) async throws -> T
    ) async throws -> (value: T, cursor: RunCursor) {
        (try await body(RunCatchUp(steps: [], run: nil)), cursor)
    }

    public func largestStep(runID: String) async throws -> Int? {
        guard let first = try await steps(runID: runID, sinceStep: nil, limit: 1).first else { return nil }
        func exists(_ step: Int) async throws -> Bool {
            try await !steps(runID: runID, sinceStep: step, limit: 1).isEmpty
        }
        // Invariant: a row exists at a step ≥ low; none at a step ≥ high.
        var low = first.metrics.step
        var stride = 1
        var high = Int.max
        while true {
            let (candidate, overflow) = low.addingReportingOverflow(stride)
            if overflow { break }
            guard try await exists(candidate) else {
                high = candidate
                break
            }
            low = candidate
            stride = min(stride * 2, Int.max / 4)
        }
        while Int128(high) - Int128(low) > 1 {
            let middle = Int((Int128(low) + Int128(high)) / 2)
            if try await exists(middle) { low = middle } else { high = middle }
        }
        return low
    }
}

extension Store {
    /// Appends steps and alerts in one transaction: after it returns, all of them are durable.
    public func append(steps: [StoredStep], alerts: [AlertRecord]) async throws {
        try await append(steps: steps, alerts: alerts, options: .none)
    }

    public func steps(runID: String) async throws -> [StoredStep] {
        try await steps(runID: runID, sinceStep: nil, limit: nil)
    }

    public func alerts(runID: String) async throws -> [AlertRecord] {
        try await alerts(runID: runID, filter: .all)
    }

    /// The most recently started run, or nil when the store holds none.
    public func latestRun() async throws -> RunRecord? {
        try await runs().first
    }
}
