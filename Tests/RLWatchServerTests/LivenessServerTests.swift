import Foundation
import RLWatchCore
import RLWatchServer
import RLWatchSQLite
import RLWatchStore
import RLWatchTesting
import Testing

/// run_stalled, run_crashed and throughput_drop in a real server, with a test clock stepped by the tests.
@Suite struct LivenessServerTests {
    /// Stall after 60 s, critical after 180 s.
    static let config: RLWatchConfig = {
        var config = RLWatchConfig()
        config.stall.afterSeconds = 60
        config.stall.criticalAfterSeconds = 180
        config.stall.checkIntervalSeconds = 5
        return config
    }()

    /// "detector severity status" of a run's stored liveness alerts and notes, in order.
    static func liveness(_ store: any Store, _ runID: String) async throws -> [String] {
        try await store.alerts(runID: runID).filter { DetectorID.liveness.contains($0.alert.detector) }.map {
            let status =
                switch $0.disposition {
                case .delivered: "delivered"
                case .suppressed(let reason): reason.code
                }
            return "\($0.alert.detector.rawValue) \($0.alert.severity.rawValue) \(status)"
        }
    }

    func send(_ client: HTTPTestClient, _ runID: String, steps: ClosedRange<Int>) async throws {
        let reply = try await client.post(
            "/api/v1/runs/\(runID)/steps", json: steps.map { ["step": $0, "entropy": 1.5, "kl": 0.01] })
        #expect(reply.status == 200, "\(reply)")
    }

    @Test func stallWarningAndCriticalAtTheConfiguredTimesThenResumedAndNothingAfterFinish() async throws {
        let store = InMemoryStore()
        let clock = ManualWallClock()
        try await withServer(store: store, config: Self.config, clock: clock) { client, server in
            _ = try await client.post("/api/v1/runs", json: ["run_id": "quiet"])
            _ = try await client.post("/api/v1/runs", json: ["run_id": "never-sent"])
            try await send(client, "quiet", steps: 1...3)
            clock.advance(by: .seconds(59))
            await server.checkLiveness()
            #expect(try await Self.liveness(store, "quiet").isEmpty)
            clock.advance(by: .seconds(1))
            await server.checkLiveness()
            #expect(try await Self.liveness(store, "quiet") == ["run_stalled warning delivered"])
            let alerts = try await client.get("/api/v1/runs/quiet/alerts")
            #expect(alerts.text.contains("run_stalled"), "\(alerts)")
            clock.advance(by: .seconds(119))
            await server.checkLiveness()
            #expect(try await Self.liveness(store, "quiet").count == 1)
            clock.advance(by: .seconds(1))
            await server.checkLiveness()
            #expect(
                try await Self.liveness(store, "quiet") == ["run_stalled warning delivered", "run_stalled critical delivered"])

            // A new step ends the stall with a note, stored and not delivered.
            clock.advance(by: .seconds(30))
            try await send(client, "quiet", steps: 4...4)
            let afterResume = try await Self.liveness(store, "quiet")
            #expect(afterResume.last == "run_stalled critical resolved", "\(afterResume)")
            let note = try #require(try await store.alerts(runID: "quiet").last)
            #expect(note.alert.message.contains("resumed"))
            #expect(note.alert.step == 4)

            // Finished: never stalled, however long.
            #expect(try await client.post("/api/v1/runs/quiet/finish", json: [String: Any]()).status == 200)
            clock.advance(by: .seconds(100_000))
            await server.checkLiveness()
            #expect(try await Self.liveness(store, "quiet").count == 3)
            // A run that never sent a step is never stalled.
            #expect(try await Self.liveness(store, "never-sent").isEmpty)
        }
    }

    @Test func theWatchdogServiceChecksOnItsClock() async throws {
        let store = InMemoryStore()
        let clock = ManualWallClock()
        try await withServer(store: store, config: Self.config, clock: clock, watchdog: true) { client, _ in
            _ = try await client.post("/api/v1/runs", json: ["run_id": "r"])
            try await send(client, "r", steps: 1...2)
            let sentAt = clock.now.secondsSince1970
            // The service sleeps on the clock; each advance wakes it once the check interval has passed.
            var found: [String] = []
            for _ in 0..<600 where found.isEmpty {
                if clock.sleeperCount > 0 { clock.advance(by: .seconds(5)) }
                try await Task.sleep(for: .milliseconds(50))
                found = try await Self.liveness(store, "r")
            }
            #expect(found == ["run_stalled warning delivered"])
            let silence = clock.now.secondsSince1970 - sentAt
            #expect(silence >= 60 && silence < 120, "raised after \(silence) s of silence")
        }
    }

    @Test func aCrashReportRaisesACriticalWithTheExceptionAndClosesTheRun() async throws {
        let store = InMemoryStore()
        let clock = ManualWallClock()
        try await withServer(store: store, config: Self.config, clock: clock) { client, server in
            _ = try await client.post("/api/v1/runs", json: ["run_id": "boom"])
            try await send(client, "boom", steps: 1...5)
            let reply = try await client.post(
                "/api/v1/runs/boom/crash",
                json: ["exception_type": "torch.OutOfMemoryError", "message": "CUDA out of memory. Tried to allocate 2 GiB", "exit_code": 1])
            #expect(reply.status == 200, "\(reply)")
            #expect(alertKeys(reply.object?["alerts"]) == ["5 run_crashed critical"])
            let stored = try #require(try await store.alerts(runID: "boom").last)
            #expect(stored.alert.message.contains("torch.OutOfMemoryError: CUDA out of memory"))
            #expect(stored.alert.recommendation.contains("memory"))
            #expect(try await store.run(id: "boom")?.finishedAt != nil)
            clock.advance(by: .seconds(10_000))
            await server.checkLiveness()
            #expect(try await Self.liveness(store, "boom") == ["run_crashed critical delivered"])

            let bad = try await client.post("/api/v1/runs/boom/crash", json: ["exit_code": "one"])
            #expect(bad.status == 400 && bad.text.contains("exit_code"), "\(bad)")
            let missing = try await client.post("/api/v1/runs/nope/crash", json: ["exception_type": "X"])
            #expect(missing.status == 404, "\(missing)")
        }
    }

    /// Issue 20: a crash report over 64 KB was a 500 (`NIOTooManyBytesError`); it is a 413 like every oversize body,
    /// and the run stays open for a shorter report.
    @Test func anOversizeCrashReportIsA413() async throws {
        let store = InMemoryStore()
        try await withServer(store: store, config: Self.config, clock: ManualWallClock()) { client, _ in
            _ = try await client.post("/api/v1/runs", json: ["run_id": "long"])
            let traceback = String(repeating: "  File \"train.py\", line 1, in <module>\n", count: 2_000)
            let tooBig = try await client.post(
                "/api/v1/runs/long/crash", json: ["exception_type": "RuntimeError", "message": traceback, "exit_code": 1])
            #expect(tooBig.status == 413, "\(tooBig)")
            #expect(tooBig.text.contains("65536"), "\(tooBig)")
            #expect(try await store.run(id: "long")?.finishedAt == nil)
            let short = try await client.post(
                "/api/v1/runs/long/crash", json: ["exception_type": "RuntimeError", "message": String(traceback.suffix(4_000))])
            #expect(short.status == 200, "\(short)")
        }
    }

    @Test func aRestartedServerStallsRunsThatWentSilentWhileDownButNotFinishedOrAbandonedOnes() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("metrics.db").path
            let clock = ManualWallClock(secondsSince1970: Date().timeIntervalSince1970)
            let store = try SQLiteStore(path: path)
            try await withServer(store: store, config: Self.config, clock: clock) { client, _ in
                for run in ["silent", "done"] {
                    _ = try await client.post("/api/v1/runs", json: ["run_id": run])
                    try await send(client, run, steps: 1...3)
                }
                _ = try await client.post("/api/v1/runs/done/finish", json: [String: Any]())
            }
            // An old unfinished run (a 0.5.1 database): silent for longer than stall.forget_after_seconds.
            try await store.registerRun(RunRecord(runID: "ancient", framework: "trl", startedAt: 1_000, configJSON: "{}"))
            try await store.append(
                steps: [StoredStep(runID: "ancient", segment: 0, timestamp: 1_000, metrics: MetricStep(step: 1))], alerts: [])
            try store.close()

            // Down for 2 minutes: the silent run passed its stall time meanwhile.
            clock.advance(by: .seconds(120))
            let reopened = try SQLiteStore(path: path)
            try await withServer(store: reopened, config: Self.config, clock: clock, watchdog: true) { _, _ in
                var found: [String] = []
                for _ in 0..<600 where found.isEmpty {
                    if clock.sleeperCount > 0 { clock.advance(by: .seconds(5)) }
                    try await Task.sleep(for: .milliseconds(50))
                    found = try await Self.liveness(reopened, "silent")
                }
                #expect(found.first == "run_stalled warning delivered" || found.first == "run_stalled critical delivered")
                #expect(try await Self.liveness(reopened, "done").isEmpty)
                #expect(try await Self.liveness(reopened, "ancient").isEmpty)
            }
            // A third start does not raise the same stall again.
            let before = try await Self.liveness(reopened, "silent")
            try await withServer(store: reopened, config: Self.config, clock: clock, watchdog: false) { _, server in
                await server.adoptOpenRuns()
                await server.checkLiveness()
            }
            let after = try await Self.liveness(reopened, "silent")
            #expect(after == before)
            try reopened.close()
        }
    }
}

extension LivenessServerTests {
    @Test func aSecondHangWithinTheStepCooldownIsReportedAgainButTheRunCapHolds() async throws {
        let store = InMemoryStore()
        let clock = ManualWallClock()
        var config = Self.config
        config.alerts.maxAlertsPerRun = 3
        try await withServer(store: store, config: config, clock: clock) { client, server in
            _ = try await client.post("/api/v1/runs", json: ["run_id": "flaky"])
            for hang in 0..<3 {
                try await send(client, "flaky", steps: (hang * 10 + 1)...(hang * 10 + 10))
                clock.advance(by: .seconds(61))
                await server.checkLiveness()
            }
            // Three hangs 10 steps apart (cooldown_steps is 100): each reported; the fourth alert hits the cap.
            try await send(client, "flaky", steps: 31...40)
            clock.advance(by: .seconds(61))
            await server.checkLiveness()
            let kinds = try await Self.liveness(store, "flaky")
            #expect(
                kinds == [
                    "run_stalled warning delivered", "run_stalled warning resolved",
                    "run_stalled warning delivered", "run_stalled warning resolved",
                    "run_stalled warning delivered", "run_stalled warning resolved",
                    "run_stalled warning run_cap",
                ], "\(kinds)")
        }
    }
}
