import Foundation
import Logging
import RLWatchStore

/// Applies `storage.retention_days` while a long-running command (serve) runs: prunes at start, then hourly.
///
/// Every server sharing a database prunes; the deletes are idempotent, so they only repeat each other's work.
struct RetentionPruner {
    var store: any RetentionStore
    var days: Int
    var interval: Duration = .seconds(3600)
    var logger: Logger

    /// The cutoff for `days` of retention at `now`.
    static func cutoff(days: Int, now: Double = Date().timeIntervalSince1970) -> Double {
        now - Double(days) * 86_400
    }

    /// Prunes until cancelled.
    func run() async {
        while !Task.isCancelled {
            do {
                let deleted = try await store.pruneSteps(before: Self.cutoff(days: days))
                if deleted > 0 { logger.info("retention: deleted \(deleted) metric row(s) older than \(days) day(s)") }
            } catch {
                logger.warning("retention: pruning failed: \(error)")
            }
            do { try await Task.sleep(for: interval) } catch { return }
        }
    }
}
