import Foundation
import Logging
import RLWatchCore
import RLWatchStore
import ServiceLifecycle
import Synchronization

/// Delivers the alert outbox: a `Service` that claims due entries, sends them, and logs every attempt.
///
/// The monitor never sends anything itself: it stores each delivered alert with one outbox entry per channel in
/// the step's transaction, so training and ingest never wait on Slack. The dispatcher then works the queue:
///
/// - an entry is claimed with a lease (its due time moves `lease` ahead) before it is sent, so a second
///   dispatcher on the same database leaves it alone, and one that dies mid-send lets it be retried;
/// - every attempt is logged (alert, channel, attempt number, time, outcome) together with the entry's new state;
/// - a retryable failure reschedules the entry by the ``RetryPolicy`` (the schedule lives in the store, so a
///   restart resumes it); an entry is given up as `failed` after the last attempt, on a non-retryable status or
///   on a configuration error;
/// - an acknowledged entry is `delivered` and never claimed again: an alert is sent to a channel at most once
///   after a 2xx (a crash between the 2xx and its record can repeat the send, the one at-least-once window).
///
/// On graceful shutdown it finishes the attempts in flight (bounded by the channels' timeouts), records them, and
/// returns; what is still pending is resumed by the next dispatcher on the same store.
public struct AlertDispatcher: Service {
    public let store: any Store
    public let config: AlertsConfig
    public let policy: RetryPolicy
    public let pollInterval: Duration
    public let lease: Duration
    public let batchSize: Int
    let transport: (any AlertTransport)?
    /// Runs `actions.command` for the entries of the ``AlertCommand/channel`` channel; nil when none is configured.
    let commands: AlertCommandRunner?
    let logger: Logger
    /// The wall clock the store's times are in.
    let clock: AnyWallClock

    /// - Parameters:
    ///   - store: the outbox.
    ///   - config: `alerts`: the channels' destinations and `alerts.retry`.
    ///   - transport: sends the requests; nil to create an HTTP client for the service's lifetime.
    ///   - pollInterval: how often an idle dispatcher looks for new entries (it wakes at once for an entry queued in
    ///     this process, when the store rings its ``OutboxDoorbell``).
    ///   - lease: how long a claimed entry is reserved for this dispatcher.
    ///   - batchSize: the most sends in flight at once (and the entries one ``deliverDue(using:)`` pass claims).
    ///   - commands: runs `actions.command` for the entries queued for it; nil when none is configured.
    ///   - logger: delivery failures are logged here, secrets scrubbed.
    ///   - clock: the wall clock the store's times are in; tests pass one they step.
    public init(
        store: any Store, config: AlertsConfig, transport: (any AlertTransport)? = nil,
        pollInterval: Duration = .milliseconds(500), lease: Duration = .seconds(300), batchSize: Int = 16,
        commands: AlertCommandRunner? = nil,
        logger: Logger = .current, clock: AnyWallClock = .system
    ) {
        self.commands = commands
        self.store = store
        self.config = config
        self.policy = RetryPolicy(config.retry)
        self.transport = transport
        self.pollInterval = pollInterval
        self.lease = lease
        self.batchSize = max(1, batchSize)
        self.logger = logger
        self.clock = clock
    }

    /// The dispatcher `watch` and `serve` run beside a run: `alerts`' channels and `actions.command` (one more outbox
    /// channel) with `alerts.retry`'s lease; nil when neither is configured (alerts are then only printed and stored).
    public static func configured(
        for config: RLWatchConfig, store: any Store, logger: Logger, clock: AnyWallClock
    ) -> AlertDispatcher? {
        guard !config.alerts.activeChannels.isEmpty || !config.actions.command.isEmpty else { return nil }
        return AlertDispatcher(
            store: store, config: config.alerts, lease: .seconds(config.alerts.retry.leaseSeconds),
            commands: AlertCommandRunner.configured(config.actions, store: store, logger: logger), logger: logger,
            clock: clock)
    }

    public func run() async throws {
        if let transport {
            try await loop(transport)
        } else {
            try await withAlertTransport(logger: logger) { transport in try await loop(transport) }
        }
    }

    /// The service's work: a window of at most `batchSize` sends in flight. A free slot is filled with the next
    /// due entry as soon as one send finishes, so a slow or timing-out channel holds one slot, not a whole pass
    /// (a receiver answering in 2 s gets `batchSize` / 2 alerts a second, and a second channel is not held up).
    private func loop(_ transport: any AlertTransport) async throws {
        let inFlight = InFlight()
        await withDiscardingTaskGroup { group in
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                let free = batchSize - inFlight.count
                if free <= 0 {
                    // Every slot holds a send that takes a while: look again shortly.
                    guard await pause(.milliseconds(20)) else { return }
                    continue
                }
                let due = await claim(limit: free)
                // An entry whose lease ran out while this dispatcher still sends it (a lease shorter than the
                // channel's timeout) is claimed again: it is already in flight here, so it is not sent twice.
                for entry in due where inFlight.begin(entry.delivery.id) {
                    group.addTask {
                        await attempt(entry, transport: transport)
                        inFlight.end(entry.delivery.id)
                    }
                }
                if due.count == free { continue }  // There may be more due: fill the window as slots free up.
                var wait = pollInterval
                if due.isEmpty, let next = try? await store.nextDeliveryDue() {
                    let seconds = next - clock.now.secondsSince1970
                    if seconds <= 0 { continue }
                    wait = min(wait, .milliseconds(Int64(seconds * 1000) + 1))
                }
                guard await pause(wait, doorbell: store.outboxDoorbell) else { return }
            }
        }
        // Leaving the group waited for the sends in flight, and recorded them.
    }

    /// Sleeps, or with a doorbell waits until it rings (an entry was queued) or `duration` passes; false when
    /// graceful shutdown or cancellation cut it short.
    private func pause(_ duration: Duration, doorbell: OutboxDoorbell? = nil) async -> Bool {
        do {
            try await cancelWhenGracefulShutdown {
                if let doorbell {
                    await doorbell.wait(upTo: duration)
                    try Task.checkCancellation()
                } else {
                    try await Task.sleep(for: duration)
                }
            }
            return true
        } catch {
            return false
        }
    }

    /// Claims up to `limit` due entries (leased, so no other dispatcher sends them meanwhile).
    private func claim(limit: Int) async -> [DueDelivery] {
        let start = clock.now.secondsSince1970
        do {
            return try await store.claimDueDeliveries(at: start, leaseUntil: start + lease.seconds, limit: limit)
        } catch {
            logger.error("rlwatch could not read the alert outbox: \(error)")
            return []
        }
    }

    /// One pass: claims the entries due now (at most `batchSize`) and attempts each once, concurrently.
    ///
    /// - Parameter transport: sends the requests.
    /// - Returns: how many entries were attempted.
    @discardableResult
    public func deliverDue(using transport: any AlertTransport) async -> Int {
        let due = await claim(limit: batchSize)
        if due.isEmpty { return 0 }
        await withTaskGroup(of: Void.self) { group in
            for entry in due {
                group.addTask { await attempt(entry, transport: transport) }
            }
        }
        return due.count
    }

    /// Sends one entry once and records the outcome.
    private func attempt(_ entry: DueDelivery, transport: any AlertTransport) async {
        let delivery = entry.delivery
        let number = delivery.attempts + 1
        let started = clock.date
        let outcome: AttemptOutcome
        if delivery.channel == AlertCommand.channel {
            outcome =
                await commands?.run(entry.alert, now: started)
                ?? .configurationError(detail: "no actions.command is configured in this process")
        } else if let name = AlertChannelName(rawValue: delivery.channel) {
            let channel = AlertChannels.channel(name, config: config)
            let deliverer = AlertDeliverer(transport: transport, policy: policy, clock: ContinuousClock())
            outcome = await deliverer.attempt(entry.alert.alert, runID: delivery.runID, via: channel, now: started)
        } else {
            outcome = .configurationError(detail: "unknown channel \(delivery.channel.debugDescription)")
        }
        let finished = clock.date
        var status: DeliveryStatus
        var next = finished.timeIntervalSince1970
        var detail = outcome.detail
        switch outcome {
        case .delivered: status = .delivered
        case .failed, .configurationError: status = .failed
        case .skipped: status = .skipped
        case .retryable(_, _, let retryAfter):
            if let wait = policy.delay(afterAttempt: number, retryAfter: retryAfter) {
                status = .pending
                next += wait.seconds
            } else {
                status = .failed
                detail += " (gave up after \(number) attempt\(number == 1 ? "" : "s"))"
            }
        }
        let record = DeliveryAttemptRecord(
            deliveryID: delivery.id, alertID: delivery.alertID, channel: delivery.channel, attempt: number,
            time: started.timeIntervalSince1970, outcome: outcome.code, httpStatus: outcome.status, detail: detail,
            durationSeconds: max(0, finished.timeIntervalSince(started)))
        switch status {
        case .failed:
            logger.error(
                "rlwatch alert \(delivery.alertID) (run \(delivery.runID)) to \(delivery.channel) failed: \(detail)")
        case .pending:
            logger.warning(
                "rlwatch alert \(delivery.alertID) to \(delivery.channel): attempt \(number) failed (\(detail)); retrying")
        case .delivered, .skipped:
            break
        }
        do {
            try await store.recordDeliveryAttempt(record, status: status, nextAttemptAt: next)
        } catch {
            logger.error("rlwatch could not record a delivery attempt of alert \(delivery.alertID): \(error)")
        }
    }
}

/// The outbox entries the dispatcher's window is sending.
private final class InFlight: Sendable {
    private let ids = Mutex(Set<Int64>())
    var count: Int { ids.withLock { $0.count } }
    /// False when `id` is already in flight.
    func begin(_ id: Int64) -> Bool { ids.withLock { $0.insert(id).inserted } }
    func end(_ id: Int64) { _ = ids.withLock { $0.remove(id) } }
}

extension Duration {
    /// The duration in seconds, as a `Double`.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
