import Foundation
import RLWatch
import RLWatchCore
import RLWatchSQLite
import RLWatchStore
import Testing

/// The monitor queues delivered alerts for the enabled channels in the step's transaction and sends nothing itself.
@Suite struct MonitorDeliveryQueueTests {
    func config() -> RLWatchConfig {
        var config = RLWatchConfig()
        config.alerts.slack.enabled = true
        config.alerts.slack.webhookURL = "https://hooks.example.invalid/secret-token"
        config.alerts.pagerduty.enabled = true
        config.alerts.pagerduty.routingKey = "routing-key"
        return config
    }

    @Test func queuesOneEntryPerChannelAndPagesOnlyCriticals() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try SQLiteStore(path: dir.appendingPathComponent("metrics.db").path)
        let monitor = try await Monitor(config: config(), runID: "q", store: store, queueDeliveries: true)
        for i in 1...30 { await monitor.log(MetricStep(step: i, loss: 0.3)) }
        let alerts = await monitor.log(MetricStep(step: 31, loss: .nan))
        #expect(alerts.map(\.severity) == [.critical])
        let deliveries = try await store.deliveries(runID: "q", filter: .pending)
        #expect(deliveries.map(\.channel) == ["slack", "pagerduty"])
        let stored = try await store.alerts(runID: "q", filter: .delivered)
        #expect(Set(deliveries.map(\.alertID)) == Set(stored.compactMap(\.id)))
        #expect(deliveries.allSatisfy { $0.attempts == 0 })
    }

    @Test func queuesNothingUnlessAsked() async throws {
        let store = InMemoryStore()
        let monitor = try await Monitor(config: config(), runID: "q", store: store)
        await monitor.log(MetricStep(step: 1, loss: .nan))
        #expect(try await store.deliveries(runID: "q", filter: .all).isEmpty)
        #expect(try await store.alerts(runID: "q").count == 1)
    }
}
