import Foundation
import RLWatch
import RLWatchCore
import RLWatchStore
import Synchronization

/// One live run on the server: its pipeline (the monitor's detector state, the tally) and the lock that orders its
/// batches.
final class RunSession: Sendable {
    let pipeline: RunPipeline
    let lock = AsyncSerialLock()
    /// The run-level overrides the run was opened with (`POST /api/v1/runs`'s `config`), to tell a repeated open
    /// apart from a conflicting one.
    let overrides: [String: JSONValue]

    /// Set, under ``lock``, when the session leaves the registry (finished, evicted when idle, or after a store
    /// failure). A request that got the session before that finds it set once it holds the lock, and looks the
    /// run up again, so that no batch is ever judged by a session that a newer one has replaced.
    private let retiredFlag = Atomic<Bool>(false)
    /// When a request last used the session (seconds since 1970, as bits).
    private let lastUsedBits: Atomic<UInt64>
    /// With a store shared by several servers (`Store.sharesRuns`): the last stored row of the run that the
    /// monitor has judged or replayed. Read and written under ``lock``.
    private let cursorRowID = Atomic<Int64>(0)

    init(monitor: Monitor, overrides: [String: JSONValue], now: Double) {
        pipeline = RunPipeline(monitor: monitor)
        self.overrides = overrides
        lastUsedBits = Atomic(now.bitPattern)
    }

    /// Whether the note naming which logged key feeds which metric was printed for this run.
    private let keysDescribed = Atomic<Bool>(false)

    /// True the first time it is called: the caller prints the key note.
    func claimKeyNote() -> Bool { !keysDescribed.exchange(true, ordering: .relaxed) }

    var monitor: Monitor { pipeline.monitor }

    var runID: String { monitor.runID }

    var isRetired: Bool { retiredFlag.load(ordering: .acquiring) }

    /// Marks the session retired; call it while holding ``lock``.
    func retire() { retiredFlag.store(true, ordering: .releasing) }

    /// How far the monitor has seen the run's stored rows; move it only while holding ``lock``.
    var cursor: RunCursor {
        get { RunCursor(rowID: cursorRowID.load(ordering: .acquiring)) }
        set { cursorRowID.store(newValue.rowID, ordering: .releasing) }
    }

    var lastUsed: Double { Double(bitPattern: lastUsedBits.load(ordering: .relaxed)) }

    func touch(now: Double) { lastUsedBits.store(now.bitPattern, ordering: .relaxed) }
}
