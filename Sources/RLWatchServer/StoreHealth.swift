import Synchronization

/// Whether the store took the server's last write, for `/healthz`: a server whose every write fails (a read-only
/// file, a full disk, PostgreSQL down) is not healthy, even though it answers.
final class StoreHealth: Sendable {
    struct Failure: Sendable, Equatable {
        /// What went wrong, in a few words (``RLWatchStore/StorageFailure``).
        var summary: String
        /// When writes started failing (Unix seconds).
        var since: Double
    }

    private let failure = Mutex<Failure?>(nil)

    /// The failure since which no write succeeded, or nil.
    var current: Failure? { failure.withLock { $0 } }

    /// A write failed: the store is unwritable from now (or from the earlier failure it continues).
    func writeFailed(_ summary: String, at now: Double) {
        failure.withLock { failure in
            if failure == nil { failure = Failure(summary: summary, since: now) } else { failure?.summary = summary }
        }
    }

    /// A write succeeded: the store is writable again.
    func writeSucceeded() {
        failure.withLock { $0 = nil }
    }
}
