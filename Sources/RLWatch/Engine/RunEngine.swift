import Foundation
import Logging
import RLWatchCore
import RLWatchStore
import ServiceLifecycle
import UnixSignals

/// The long-running parts every command shares, run as `Service`s of a `ServiceGroup`.
///
/// `replay`, `watch`, `demo` and `serve` feed steps through a ``Monitor`` (`replay` and `watch` through one
/// ``RunPipeline``) into a store; what surrounds that is the same for all of them and lives here: SIGINT and SIGTERM
/// end the run gracefully (everything read so far stored), the alert dispatcher sends the outbox beside it and is
/// drained before the command exits, and ``RetentionService`` prunes old rows. The CLI only parses arguments and
/// prints.
public enum RunEngine {
    /// Runs `body` until it returns; SIGINT or SIGTERM (through a `ServiceGroup`, as `serve` stops) set the stop
    /// signal `body` receives, so that it stops between two batches with everything read so far stored. A second
    /// signal while `body` is still stopping exits the process at once (status 128 + the signal).
    ///
    /// - Parameters:
    ///   - logger: the service group's logger.
    ///   - body: the run; it should return soon after its stop signal is set.
    /// - Returns: what `body` returns.
    /// - Throws: what `body` throws.
    public static func untilSignalled<T: Sendable>(
        logger: Logger, _ body: (WatchStopSignal) async throws -> T
    ) async throws -> T {
        let stop = WatchStopSignal()
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: StopOnShutdown(stop: stop))], gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let result: Result<T, any Error>
            do {
                result = .success(try await body(stop))
            } catch {
                result = .failure(error)
            }
            // Cancelled rather than shut down: the stop service may be waiting for a second signal.
            tasks.cancelAll()
            try? await tasks.waitForAll()
            return try result.get()
        }
    }

    /// Runs `body` with `services` (the alert dispatcher, retention) beside it in one `ServiceGroup`; afterwards
    /// gives the outbox up to `drainTimeout` to send what is due (a `--no-follow` watch exits once its alerts are out),
    /// then shuts the services down gracefully. What is still pending (a channel in backoff) stays in the outbox for
    /// the next `watch` or `serve` on the same database.
    ///
    /// - Parameters:
    ///   - services: run while `body` runs; none: `body` runs alone.
    ///   - outbox: the store whose due deliveries are waited for; nil: no wait.
    ///   - clock: the wall clock the outbox's due times are in.
    public static func withServices<T: Sendable>(
        _ services: [any Service], draining outbox: (any Store)?, drainTimeout: Duration = .seconds(15),
        clock: AnyWallClock, logger: Logger, _ body: () async -> T
    ) async -> T {
        guard !services.isEmpty else { return await body() }
        let group = ServiceGroup(configuration: .init(services: services, logger: logger))
        return await withTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try? await group.run() }
            let result = await body()
            if let outbox { await drain(outbox, timeout: drainTimeout, clock: clock) }
            await group.triggerGracefulShutdown()
            await tasks.waitForAll()
            return result
        }
    }

    /// Waits (up to `timeout`) until no outbox entry is due within the next second.
    private static func drain(_ outbox: any Store, timeout: Duration, clock: AnyWallClock) async {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            guard let due = try? await outbox.nextDeliveryDue(), due <= clock.now.secondsSince1970 + 1 else { return }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }
}

/// Sets a stop signal when its group shuts down gracefully (SIGINT, SIGTERM); then a second signal exits at once.
private struct StopOnShutdown: Service {
    let stop: WatchStopSignal

    func run() async throws {
        try? await gracefulShutdown()
        guard !Task.isCancelled else { return }
        stop.stop()
        for await signal in await UnixSignalsSequence(trapping: .sigint, .sigterm) {
            exit(128 + signal.rawValue)
        }
    }
}

/// When a run's alerts fail a CI job (`--fail-on`).
public enum FailOn: String, Sendable, CaseIterable {
    case warning, critical, never

    /// Whether a run whose most severe delivered alert is `worst` fails.
    public func isMet(by worst: Severity?) -> Bool {
        switch (self, worst) {
        case (.warning, .some), (.critical, .critical?): true
        default: false
        }
    }
}

/// What a run judged: the closing summary line of `replay` and `watch`.
public struct RunTally: Sendable {
    /// Steps judged by this command (restored ones not included).
    public var steps = 0
    public var delivered: [Alert] = []
    public var suppressed = 0

    public init(steps: Int = 0, delivered: [Alert] = [], suppressed: Int = 0) {
        self.steps = steps
        self.delivered = delivered
        self.suppressed = suppressed
    }

    /// The most severe delivered alert, if any.
    public var worstSeverity: Severity? { delivered.map(\.severity).max() }

    /// "`verb` N `qualifier`steps`restored` as run ID: A alerts delivered (C critical, W warning), S suppressed."
    public func line(_ verb: String, runID: String, qualifier: String = "", restored: Int = 0) -> String {
        let critical = delivered.filter { $0.severity == .critical }.count
        let after = restored > 0 ? " (after \(restored) restored)" : ""
        return "\(verb) \(steps) \(qualifier)step\(steps == 1 ? "" : "s")\(after) as run \(runID): "
            + "\(delivered.count) alert\(delivered.count == 1 ? "" : "s") delivered (\(critical) critical, "
            + "\(delivered.count - critical) warning), \(suppressed) suppressed."
    }
}
