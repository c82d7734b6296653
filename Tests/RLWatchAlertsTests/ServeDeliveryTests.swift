import Foundation
import Logging
import RLWatchAlerts
import RLWatchCore
import RLWatchServer
import RLWatchStore
import RLWatchTesting
import ServiceLifecycle
import Testing

/// `rlwatch serve` end to end: steps in over HTTP, the alert stored with its outbox entry, the dispatcher beside the
/// server delivering it to a real webhook endpoint.
@Suite struct ServeDeliveryTests {
    @Test func anAlertRaisedOverHTTPReachesTheWebhook() async throws {
        try await withFakeEndpoint { base, endpoint in
            var config = RLWatchConfig()
            config.alerts.webhook.enabled = true
            config.alerts.webhook.url = base + "/hook"
            let store = InMemoryStore()
            var logger = Logger(label: "test")
            logger.logLevel = .critical
            let server = MonitorServer(
                settings: ServerSettings(port: 0), config: config, store: store, logger: logger)
            let dispatcher = try #require(server.dispatcher)
            let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
            let group = ServiceGroup(
                configuration: .init(services: [server.service { continuation.yield($0) }, dispatcher], logger: logger))
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                var iterator = ports.makeAsyncIterator()
                let port = try #require(await iterator.next())
                let client = HTTPTestClient(port: port)
                #expect(try await client.post("/api/v1/runs", json: ["run_id": "served"]).status == 201)
                var steps: [[String: Any]] = (1...30).map { ["step": $0, "loss": 0.3] }
                steps.append(["step": 31, "loss": "NaN"])
                let body = try JSONSerialization.data(withJSONObject: steps)
                let reply = try await client.post("/api/v1/runs/served/steps", body: body, contentType: "application/json")
                #expect(reply.status == 200, "\(reply)")
                let clock = ContinuousClock()
                let deadline = clock.now.advanced(by: .seconds(60))
                while clock.now < deadline, endpoint.requests.isEmpty {
                    try await Task.sleep(for: .milliseconds(20))
                }
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            let received = try #require(endpoint.requests.first)
            #expect(received.body.contains(#""detector": "loss_nan""#))
            #expect(received.body.contains(#""run_id": "served""#))
            #expect(try await store.deliveries(runID: "served", filter: .all).map(\.status) == [.delivered])
        }
    }
}
