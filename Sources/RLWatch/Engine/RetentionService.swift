import Logging
import RLWatchCore
import RLWatchStore
import ServiceLifecycle

/// Applies `storage.retention_days` while a long-running command (serve) runs: prunes at start, then hourly.
///
/// A `Service` beside the server and the alert dispatcher in one `ServiceGroup`, so it stops with them. Every server
/// sharing a database prunes; the deletes are idempotent, so they only repeat each other's work.
public struct RetentionService: Service {
    public let store: any Store
    public let days: Int
    public let interval: Duration
    let clock: AnyWallClock
    let logger: Logger

    /// - Parameters:
    ///   - days: keep this many days of metric rows (`storage.retention_days`, ≥ 1).
    ///   - interval: the pause between two prunes.
    ///   - clock: the wall clock the stored timestamps are in.
    public init(store: any Store, days: Int, interval: Duration = .seconds(3600), clock: AnyWallClock, logger: Logger) {
        self.store = store
        self.days = days
        self.interval = interval
        self.clock = clock
        self.logger = logger
    }

    /// The cutoff for `days` of retention at `now` (seconds since 1970).
    /// The pruning `serve` and a following `watch` run beside the run: `storage.retention_days`, hourly; nil when it is
    /// not set.
    public static func configured(
        for config: RLWatchConfig, store: any Store, clock: AnyWallClock, logger: Logger
    ) -> RetentionService? {
        config.storage.retentionDays > 0
            ? RetentionService(store: store, days: config.storage.retentionDays, clock: clock, logger: logger) : nil
    }

    public static func cutoff(days: Int, now: WallInstant) -> Double {
        now.secondsSince1970 - Double(days) * 86_400
    }

    /// Prunes until the group shuts down.
    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let deleted = try await store.pruneSteps(before: Self.cutoff(days: days, now: clock.now))
                if deleted > 0 { logger.info("retention: deleted \(deleted) metric row(s) older than \(days) day(s)") }
            } catch {
                logger.warning("retention: pruning failed: \(error)")
            }
            do {
                try await cancelWhenGracefulShutdown { try await clock.sleep(for: interval) }
            } catch {
                return
            }
        }
    }
}
