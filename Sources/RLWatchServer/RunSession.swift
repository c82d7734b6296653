import RLWatch
import RLWatchCore

/// One live run on the server: its monitor (detector state) and the lock that orders its batches.
final class RunSession: Sendable {
    let monitor: Monitor
    let lock = AsyncSerialLock()
    /// The run-level overrides the run was opened with (`POST /api/v1/runs`'s `config`), to tell a repeated open
    /// apart from a conflicting one.
    let overrides: [String: ConfigValue]

    init(monitor: Monitor, overrides: [String: ConfigValue]) {
        self.monitor = monitor
        self.overrides = overrides
    }

    var runID: String { monitor.runID }
}
