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
