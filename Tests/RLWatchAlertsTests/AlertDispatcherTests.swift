import Foundation
import Logging
import RLWatchAlerts
import RLWatchCore
import RLWatchSQLite
import RLWatchStore
import RLWatchTesting
import Synchronization
import Testing

/// The outbox: queued in the alert's transaction, delivered by the dispatcher, resumed after a restart.
@Suite struct AlertDispatcherTests {
    /// A wall clock the test moves by hand, starting just after the real time the store stamps the outbox with.
    final class ManualTime: Sendable {
        let clock = ManualWallClock(secondsSince1970: Date().timeIntervalSince1970 + 1)
        func advance(_ by: Double) { clock.advance(by: .milliseconds(Int64(by * 1000))) }
    }

    static func config(webhookURL: String) -> AlertsConfig {
        var config = AlertsConfig()
        config.webhook.enabled = true
        config.webhook.url = webhookURL
        config.retry.maxAttempts = 3
        config.retry.initialBackoffSeconds = 10
        config.retry.maxBackoffSeconds = 10
        return config
    }

    static func queueAlert(_ store: any Store, channels: [String]) async throws {
        try await store.registerRun(RunRecord(runID: "r", framework: "manual", startedAt: 0, configJSON: "{}"))
        let step = StoredStep(runID: "r", segment: 0, timestamp: 1, metrics: MetricStep(step: 42))
        try await store.append(
            steps: [step],
            alerts: [
                AlertRecord(runID: "r", timestamp: 1, alert: Fixtures.critical, disposition: .delivered, channels: channels),
                AlertRecord(
                    runID: "r", timestamp: 1, alert: Fixtures.warning, disposition: .suppressed(.runCap(limit: 1)),
                    channels: channels),
            ])
    }

    func dispatcher(_ store: any Store, _ config: AlertsConfig, _ time: ManualTime) -> AlertDispatcher {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return AlertDispatcher(store: store, config: config, logger: logger, clock: AnyWallClock(time.clock))
    }

    @Test func retriesOnScheduleAndNeverDeliversTwice() async throws {
        try await withFakeEndpoint([ScriptedResponse(status: 503, body: "down"), .ok]) { base, log in
            let store = InMemoryStore()
            try await Self.queueAlert(store, channels: ["webhook"])
            let time = ManualTime()
            let dispatcher = dispatcher(store, Self.config(webhookURL: base + "/hook"), time)
            try await withTransport { transport in
                #expect(await dispatcher.deliverDue(using: transport) == 1)
                // Not due again before its backoff (5-10 s with jitter).
                #expect(await dispatcher.deliverDue(using: transport) == 0)
                time.advance(11)
                #expect(await dispatcher.deliverDue(using: transport) == 1)
                time.advance(1000)
                #expect(await dispatcher.deliverDue(using: transport) == 0)
            }
            #expect(log.requests.count == 2)
            let deliveries = try await store.deliveries(runID: "r", filter: .all)
            #expect(deliveries.map(\.status) == [.delivered])
            #expect(deliveries.first?.attempts == 2)
            let attempts = try await store.deliveryAttempts(deliveryID: try #require(deliveries.first?.id))
            #expect(attempts.map(\.outcome) == ["retryable", "delivered"])
            #expect(attempts.map(\.httpStatus) == [503, 200])
            #expect(try await store.deliveries(runID: nil, filter: .pending).isEmpty)
        }
    }

    @Test func sqliteOutboxSurvivesARestart() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rlwatch-alerts-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("metrics.db").path
        try await withFakeEndpoint([ScriptedResponse(status: 500), .ok]) { base, log in
            let config = Self.config(webhookURL: base + "/hook")
            let store = try SQLiteStore(path: path)
            try await Self.queueAlert(store, channels: ["webhook", "slack"])
            // The store queues entries due at its own wall-clock time, so the test clock starts after that
            // (starting it before the store opened made the entries not yet due on a loaded machine).
            let time = ManualTime()
            // Slack has no URL in this config: a configuration error, failed for good without a request.
            try await withTransport { transport in
                #expect(await dispatcher(store, config, time).deliverDue(using: transport) == 2)
            }
            try store.close()
            time.advance(11)
            let reopened = try SQLiteStore(path: path)
            #expect(try await reopened.deliveries(runID: "r", filter: .pending).map(\.channel) == ["webhook"])
            try await withTransport { transport in
                #expect(await dispatcher(reopened, config, time).deliverDue(using: transport) == 1)
                time.advance(1000)
                #expect(await dispatcher(reopened, config, time).deliverDue(using: transport) == 0)
            }
            let all = try await reopened.deliveries(runID: "r", filter: .all)
            #expect(all.map(\.channel) == ["webhook", "slack"])
            #expect(all.map(\.status) == [.delivered, .failed])
            #expect(all.last?.lastOutcome == "config_error")
            #expect(try await reopened.deliveries(runID: "r", filter: .failed).map(\.channel) == ["slack"])
            #expect(log.requests.count == 2)
            try reopened.close()
        }
    }

    @Test func givesUpAfterTheLastAttempt() async throws {
        try await withFakeEndpoint([ScriptedResponse(status: 502)]) { base, log in
            let store = InMemoryStore()
            try await Self.queueAlert(store, channels: ["webhook"])
            let time = ManualTime()
            let dispatcher = dispatcher(store, Self.config(webhookURL: base + "/hook"), time)
            try await withTransport { transport in
                for _ in 0..<5 {
                    await dispatcher.deliverDue(using: transport)
                    time.advance(11)
                }
            }
            #expect(log.requests.count == 3)
            let delivery = try #require(try await store.deliveries(runID: "r", filter: .failed).first)
            #expect(delivery.attempts == 3)
            #expect(delivery.lastDetail?.contains("gave up after 3 attempts") == true)
        }
    }

    @Test func serviceDeliversAndStopsOnGracefulShutdown() async throws {
        try await withFakeEndpoint { base, log in
            let store = InMemoryStore()
            try await Self.queueAlert(store, channels: ["webhook"])
            var logger = Logger(label: "test")
            logger.logLevel = .critical
            let dispatcher = AlertDispatcher(
                store: store, config: Self.config(webhookURL: base + "/hook"), pollInterval: .milliseconds(20),
                logger: logger)
            try await runService(dispatcher) {
                let clock = ContinuousClock()
                let deadline = clock.now.advanced(by: .seconds(60))
                while clock.now < deadline, try await !store.deliveries(runID: "r", filter: .pending).isEmpty {
                    try await Task.sleep(for: .milliseconds(20))
                }
            }
            #expect(try await store.deliveries(runID: "r", filter: .all).map(\.status) == [.delivered])
            #expect(log.requests.count == 1)
        }
    }

    /// A channel whose answer takes long holds one of the dispatcher's slots, not a whole pass: an alert queued
    /// for another channel meanwhile is sent at once.
    @Test func aSlowChannelHoldsOneSlotNotTheWholeQueue() async throws {
        let gate = Gate()
        defer { gate.open() }
        try await withFakeEndpoint([ScriptedResponse(status: 200, gate: gate)]) { hookBase, hookLog in
            try await withFakeEndpoint([.ok]) { slackBase, slackLog in
                var config = Self.config(webhookURL: hookBase + "/hook")
                config.webhook.timeoutSeconds = 600
                config.slack.enabled = true
                config.slack.webhookURL = slackBase + "/slack"
                let store = InMemoryStore()
                try await Self.queueAlert(store, channels: ["webhook", "slack"])
                var logger = Logger(label: "test")
                logger.logLevel = .critical
                let dispatcher = AlertDispatcher(
                    store: store, config: config, pollInterval: .milliseconds(20), logger: logger)
                let statuses = { @Sendable (channel: String) async throws -> [DeliveryStatus] in
                    try await store.deliveries(runID: "r", filter: .all).filter { $0.channel == channel }.map(\.status)
                }
                try await runService(dispatcher) {
                    // On a failed wait the held send must still be answered, or the shutdown would wait for it.
                    do {
                        try await body()
                    } catch {
                        gate.open()
                        throw error
                    }
                }
                #expect(slackLog.requests.count == 2)
                #expect(hookLog.requests.count == 1)

                func body() async throws {
                    try await waitUntil("the first alert's two sends") {
                        let slack = try await statuses("slack")
                        return hookLog.requests.count == 1 && slack == [.delivered]
                    }
                    var later = Fixtures.critical
                    later.step = 43
                    try await store.append(
                        steps: [StoredStep(runID: "r", segment: 0, timestamp: 2, metrics: MetricStep(step: 43))],
                        alerts: [
                            AlertRecord(runID: "r", timestamp: 2, alert: later, disposition: .delivered, channels: ["slack"])
                        ])
                    try await waitUntil("the later Slack alert, with the webhook's answer still held") {
                        (try await statuses("slack")) == [.delivered, .delivered]
                    }
                    #expect(try await statuses("webhook") == [.pending])
                    #expect(hookLog.requests.count == 1)
                    gate.open()
                    try await waitUntil("the held webhook send") { (try await statuses("webhook")) == [.delivered] }
                }
            }
        }
    }

    /// A lease that runs out while the send is still waiting for its answer makes the entry due again; the
    /// dispatcher that is sending it claims it again but does not send it a second time.
    @Test func anEntryStillInFlightIsNotSentAgainWhenItsLeaseRunsOut() async throws {
        let gate = Gate()
        defer { gate.open() }
        try await withFakeEndpoint([ScriptedResponse(status: 200, gate: gate)]) { base, log in
            var config = Self.config(webhookURL: base + "/hook")
            config.webhook.timeoutSeconds = 600
            let store = InMemoryStore()
            try await Self.queueAlert(store, channels: ["webhook"])
            let time = ManualTime()
            var logger = Logger(label: "test")
            logger.logLevel = .critical
            let dispatcher = AlertDispatcher(
                store: store, config: config, pollInterval: .milliseconds(20), lease: .seconds(30), logger: logger,
                clock: AnyWallClock(time.clock))
            let entry = { @Sendable () async throws -> DeliveryRecord? in
                try await store.deliveries(runID: "r", filter: .all).first
            }
            try await runService(dispatcher) {
                do {
                    try await waitUntil("the first send") { log.requests.count == 1 }
                    let firstLease = try #require(try await entry()).nextAttemptAt
                    time.advance(31)
                    try await waitUntil("the entry claimed again after its lease") {
                        (try await entry()?.nextAttemptAt ?? 0) > firstLease
                    }
                    #expect(log.requests.count == 1)
                    gate.open()
                    try await waitUntil("the send answered") { (try await entry()?.status) == .delivered }
                } catch {
                    gate.open()
                    throw error
                }
            }
            #expect(log.requests.count == 1)
            #expect(try await entry()?.attempts == 1)
        }
    }
}
