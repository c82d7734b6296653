import Foundation
import RLWatchTesting
import Synchronization
import Testing

/// `rlwatch serve` killed with SIGKILL again and again while a client streams a run to it, and restarted on the same
/// database each time: every acknowledged step is stored exactly once, and the run's alerts are those of one
/// server that saw the whole run without a kill. The client behaves as the Python client does: one
/// `Idempotency-Key` per batch, retried until a server answers 200.
@Suite("serve killed in a loop under a streaming client", .serialized)
struct KillLoopCLITests {
    static let kills = 20
    static let batches = 60
    static let batchSize = 10

    /// Steps 1…600: entropy drifts down slowly, the loss is NaN at every 9th step (a `loss_nan` each time once the
    /// episode re-armed), and a gradient spike at step 300.
    static func batch(_ index: Int) -> [[String: Any]] {
        (1...batchSize).map { offset in
            let step = index * batchSize + offset
            return [
                "step": step, "entropy": 2.0 - Double(step) * 0.001, "kl": 0.01, "grad_norm": step == 300 ? 500.0 : 1.0,
                "loss": step % 9 == 0 ? "NaN" : 0.3,
            ]
        }
    }

    @Test func sqlite() async throws {
        try await killLoop(database: ["--log-dir", "logs"])
    }

    @Test(.enabled(if: PostgresFixture.isAvailable)) func postgres() async throws {
        try await PostgresFixture.withDatabase { url in
            let migrate = try await CLISandbox().run(["db", "migrate", "--database", url])
            #expect(migrate.status == 0, "\(migrate)")
            try await killLoop(database: ["--database", url])
        }
    }

    private func killLoop(database: [String]) async throws {
        let sandbox = try CLISandbox()
        try sandbox.write("rlwatch.yaml", "alerts:\n  cooldown_steps: 0\n")
        let serve = ["serve", "--port", "0"] + database
        let current = Mutex<(server: BackgroundCommand, port: Int)?>(nil)
        let first = try sandbox.start(serve)
        current.withLock { $0 = (first, 0) }
        let firstPort = try await first.servePort()
        current.withLock { $0 = (first, firstPort) }
        #expect(try await HTTPTestClient(port: firstPort).post("/api/v1/runs", json: ["run_id": "streamed"]).status == 201)

        // The client: each batch until some server answers 200 for it.
        let acknowledged = Atomic<Int>(0)
        let client = Task {
            var retries = 0
            for index in 0..<Self.batches {
                while true {
                    let port = current.withLock { $0?.port ?? 0 }
                    let reply = try? await HTTPTestClient(port: port, timeout: 30).post(
                        "/api/v1/runs/streamed/steps", json: Self.batch(index), headers: ["Idempotency-Key": "batch-\(index)"])
                    if reply?.status == 200 {
                        acknowledged.store(index + 1, ordering: .sequentiallyConsistent)
                        break
                    }
                    retries += 1
                    try await Task.sleep(for: .milliseconds(20))
                }
            }
            return retries
        }
        // The killer: SIGKILL every few batches, at a random moment (between batches or during one), while the
        // stream goes on; restart on the same database.
        var generator = SystemRandomNumberGenerator()
        for kill in 0..<Self.kills {
            while acknowledged.load(ordering: .sequentiallyConsistent) < kill * (Self.batches / Self.kills) + 1 {
                try await Task.sleep(for: .milliseconds(5))
            }
            try await Task.sleep(for: .milliseconds(Int.random(in: 0...30, using: &generator)))
            let victim = try #require(current.withLock { $0?.server })
            let killed = try await victim.stop(signal: SIGKILL)
            #expect(!killed.exited && killed.status == SIGKILL)
            let next = try sandbox.start(serve)
            current.withLock { $0 = (next, 0) }
            let port = try await next.servePort()
            current.withLock { $0 = (next, port) }
        }
        let retries = try await client.value
        print("kill loop (\(database[0])): \(Self.kills) kills, \(retries) batch retries")
        let last = try #require(current.withLock { $0 })
        let survivor = HTTPTestClient(port: last.port)
        let rows = try #require(try await survivor.get("/api/v1/runs/streamed/metrics?limit=100000").object)
        let steps = (rows["steps"] as? [[String: Any]] ?? []).compactMap { $0["step"] as? Int }
        #expect(steps == Array(1...(Self.batches * Self.batchSize)), "every step once, in order (\(retries) retries)")
        let stored = try await Self.alerts(survivor)
        #expect(try await last.server.stop(signal: SIGTERM).status == 0)

        // The reference: one server that is never killed sees the same batches.
        let reference = try sandbox.start(["serve", "--port", "0", "--log-dir", "reference"])
        let referenceClient = HTTPTestClient(port: try await reference.servePort())
        #expect(try await referenceClient.post("/api/v1/runs", json: ["run_id": "streamed"]).status == 201)
        for index in 0..<Self.batches {
            #expect(try await referenceClient.post("/api/v1/runs/streamed/steps", json: Self.batch(index)).status == 200)
        }
        let expected = try await Self.alerts(referenceClient)
        #expect(try await reference.stop(signal: SIGTERM).status == 0)
        #expect(expected.contains { $0.hasPrefix("loss_nan/") }, "the trace raises alerts: \(expected)")
        #expect(stored == expected, "alerts after \(Self.kills) kills")
    }

    /// `detector/step#severity status` of the run's stored alerts, in order.
    static func alerts(_ client: HTTPTestClient) async throws -> [String] {
        let reply = try await client.get("/api/v1/runs/streamed/alerts?status=all")
        let alerts = reply.object?["alerts"] as? [[String: Any]] ?? []
        return alerts.map { "\($0["detector"] ?? "?")/\($0["step"] ?? "?")#\($0["severity"] ?? "?") \($0["status"] ?? "")" }
    }
}
