import Foundation
import RLWatchCore
import RLWatchServer
import RLWatchSQLite
import RLWatchStore
import RLWatchTesting
import Testing

@Suite("rlwatch serve API")
struct ServerAPITests {
    let trace = SyntheticRuns.entropyCollapseWithKLRunaway(steps: 400, collapseAt: 200, seed: 7)

    @Test func openingARunThenResumingIt() async throws {
        try await withServer(store: InMemoryStore()) { client in
            let first = try await client.post("/api/v1/runs", json: ["run_id": "job-1", "framework": "trl"])
            #expect(first.status == 201, "\(first)")
            #expect(first.object?["run_id"] as? String == "job-1")
            #expect(first.object?["resumed"] as? Bool == false)
            let again = try await client.post("/api/v1/runs", json: ["run_id": "job-1"])
            #expect(again.status == 200 && again.object?["resumed"] as? Bool == true, "\(again)")
            let generated = try await client.post("/api/v1/runs", json: [String: Any]())
            #expect(generated.status == 201)
            #expect((generated.object?["run_id"] as? String)?.hasPrefix("run_") == true)
            let run = try await client.get("/api/v1/runs/job-1")
            #expect(run.status == 200 && run.object?["framework"] as? String == "trl", "\(run)")
            // The run's stored config, in the schema's key order.
            #expect((run.object?["config"] as? [String: Any])?["entropy_collapse"] != nil, "\(run)")
            #expect(run.text.contains("\"config\":{\"run_id\":"), "\(run)")
            let runs = try await client.get("/api/v1/runs")
            #expect((runs.object?["runs"] as? [[String: Any]])?.count == 2)
        }
    }

    @Test func invalidConfigOverridesAreA400NamingTheKey() async throws {
        try await withServer(store: InMemoryStore()) { client in
            let typo = try await client.post("/api/v1/runs", json: ["config": ["kl_explosion": ["sigma_multipler": 4]]])
            #expect(typo.status == 400, "\(typo)")
            let error = typo.object?["error"] as? [String: Any]
            #expect(error?["key"] as? String == "kl_explosion.sigma_multipler")
            #expect((error?["message"] as? String)?.contains("sigma_multiplier") == true)
            let range = try await client.post("/api/v1/runs", json: ["config": ["kl_explosion.sigma_multiplier": -1]])
            #expect(range.status == 400 && (range.object?["error"] as? [String: Any])?["key"] as? String == "kl_explosion.sigma_multiplier")
            // A window the server would have to allocate (32 GB here) is refused before any run exists (issue 20).
            for key in ["kl_explosion.rolling_window", "reward_hacking.baseline_window", "entropy_collapse.baseline_window"] {
                let huge = try await client.post("/api/v1/runs", json: ["run_id": "huge", "config": [key: 4_000_000_000]])
                #expect(huge.status == 400, "\(huge)")
                let error = huge.object?["error"] as? [String: Any]
                #expect(error?["key"] as? String == key, "\(huge)")
                #expect((error?["message"] as? String)?.contains("<= 100000") == true, "\(huge)")
            }
            let nested = try await client.post(
                "/api/v1/runs", json: ["run_id": "huge", "config": ["kl_explosion": ["rolling_window": 4_000_000_000]]])
            #expect(nested.status == 400, "\(nested)")
            #expect(try await client.get("/api/v1/runs/huge").status == 404)
            let badID = try await client.post("/api/v1/runs", json: ["run_id": "a/b"])
            #expect(badID.status == 400)
            let badFramework = try await client.post("/api/v1/runs", json: ["framework": "jax"])
            #expect(badFramework.status == 400)
            let notJSON = try await client.post("/api/v1/runs", body: Data("{nope".utf8), contentType: "application/json")
            #expect(notJSON.status == 400)
        }
    }

    @Test func aBatchIsJudgedStoredAndAnsweredWithItsAlerts() async throws {
        let store = InMemoryStore()
        try await withServer(store: store) { client in
            _ = try await client.post("/api/v1/runs", json: ["run_id": "r"])
            var received: [String] = []
            for chunk in stride(from: 0, to: trace.count, by: 50) {
                let batch = trace[chunk..<min(chunk + 50, trace.count)].map(stepJSON)
                let reply = try await client.post("/api/v1/runs/r/steps", json: batch)
                #expect(reply.status == 200, "\(reply)")
                #expect(reply.object?["accepted"] as? Int == batch.count)
                received += alertKeys(reply.object?["alerts"])
            }
            #expect(try await store.stepCount(runID: "r") == trace.count)
            let expected = offlineAlertKeys(trace, config: RLWatchConfig())
            #expect(!expected.isEmpty)
            #expect(received == expected)
            let stored = try await client.get("/api/v1/runs/r/alerts")
            #expect(alertKeys(stored.object?["alerts"]) == expected)
            let later = try await client.get("/api/v1/runs/r/alerts?since_step=300")
            #expect(alertKeys(later.object?["alerts"]) == expected.filter { Int($0.split(separator: " ")[0])! >= 300 })
        }
    }

    @Test func ndjsonBatchesAreAcceptedToo() async throws {
        let store = InMemoryStore()
        try await withServer(store: store) { client in
            _ = try await client.post("/api/v1/runs", json: ["run_id": "r"])
            let lines = try trace.prefix(30).map { String(decoding: try JSONSerialization.data(withJSONObject: stepJSON($0)), as: UTF8.self) }
            let body = Data((lines.joined(separator: "\n") + "\n\n").utf8)
            let reply = try await client.post("/api/v1/runs/r/steps", body: body, contentType: "application/x-ndjson")
            #expect(reply.status == 200 && reply.object?["accepted"] as? Int == 30, "\(reply)")
            #expect(try await store.steps(runID: "r").map(\.metrics.step) == Array(0..<30))
        }
    }

    /// Issue 20: a 10 MB metric key or 100k keys in one step were accepted (and stored in every row).
    @Test func metricKeysAreCappedInLengthAndNumberPerStep() async throws {
        let store = InMemoryStore()
        try await withServer(store: store) { client in
            _ = try await client.post("/api/v1/runs", json: ["run_id": "r"])
            var wide: [String: Any] = ["step": 1]
            for index in 0..<1_001 { wide["extra/\(index)"] = Double(index) }
            let tooMany = try await client.post("/api/v1/runs/r/steps", json: [wide])
            #expect(tooMany.status == 400, "\(tooMany)")
            #expect(tooMany.text.contains("1001 metric keys; at most 1000"), "\(tooMany)")

            let longKey = String(repeating: "k", count: 257)
            let tooLong = try await client.post("/api/v1/runs/r/steps", json: [["step": 1, longKey: 1.0]])
            #expect(tooLong.status == 400, "\(tooLong)")
            #expect(tooLong.text.contains("257 bytes long; at most 256"), "\(tooLong)")
            #expect(try await store.stepCount(runID: "r") == 0)

            wide["extra/1000"] = nil
            wide[String(repeating: "k", count: 256)] = 1.0
            wide["extra/999"] = nil
            let atTheLimits = try await client.post("/api/v1/runs/r/steps", json: [wide])
            #expect(atTheLimits.status == 200, "\(atTheLimits)")
            #expect(try await store.stepCount(runID: "r") == 1)
        }
    }

    @Test func aMalformedBatchNamesTheStepAndFieldAndStoresNothingOfIt() async throws {
        let store = InMemoryStore()
        try await withServer(store: store) { client in
            _ = try await client.post("/api/v1/runs", json: ["run_id": "r"])
            _ = try await client.post("/api/v1/runs/r/steps", json: trace.prefix(10).map(stepJSON))
            var batch = trace[10..<20].map(stepJSON)
            batch[3]["loss"] = "not a number"
            let reply = try await client.post("/api/v1/runs/r/steps", json: batch)
            #expect(reply.status == 400, "\(reply)")
            let error = reply.object?["error"] as? [String: Any]
            #expect(error?["index"] as? Int == 3 && error?["field"] as? String == "loss", "\(reply)")
            #expect(try await store.stepCount(runID: "r") == 10)

            batch[3].removeValue(forKey: "step")
            batch[3]["loss"] = 1.0
            let missingStep = try await client.post("/api/v1/runs/r/steps", json: batch)
            #expect((missingStep.object?["error"] as? [String: Any])?["field"] as? String == "step", "\(missingStep)")

            let ndjson = Data("{\"step\": 1}\n{\"step\": 2, \"rewards\": [1, \"x\"]}\n".utf8)
            let ndReply = try await client.post("/api/v1/runs/r/steps", body: ndjson, contentType: "application/x-ndjson")
            #expect(ndReply.status == 400 && (ndReply.object?["error"] as? [String: Any])?["index"] as? Int == 1, "\(ndReply)")
            let ndMessage: String = (ndReply.object?["error"] as? [String: Any])?["message"] as? String ?? ""
            #expect(ndMessage.contains("line 2"), "\(ndReply)")
            #expect(try await store.stepCount(runID: "r") == 10)

            // The run goes on where it was: the next good batch is accepted.
            let good = try await client.post("/api/v1/runs/r/steps", json: trace[10..<20].map(stepJSON))
            #expect(good.status == 200)
            #expect(try await store.stepCount(runID: "r") == 20)
        }
    }

    @Test func badInputIsAClear4xxAndTheServerKeepsServing() async throws {
        let store = InMemoryStore()
        let settings = ServerSettings(port: 0, maxBodyBytes: 1 << 20, maxRewardsPerStep: 4096)
        try await withServer(store: store, settings: settings) { client in
            _ = try await client.post("/api/v1/runs", json: ["run_id": "r"])
            _ = try await client.post("/api/v1/runs/r/steps", json: trace.prefix(5).map(stepJSON))

            let notJSON = try await client.post("/api/v1/runs/r/steps", body: Data("[{\"step\": 1,".utf8), contentType: "application/json")
            #expect(notJSON.status == 400, "\(notJSON)")
            let notArray = try await client.post("/api/v1/runs/r/steps", body: Data("{\"steps\": []}".utf8), contentType: "application/json")
            #expect(notArray.status == 400, "\(notArray)")
            let wrongType = try await client.post("/api/v1/runs/r/steps", json: [["step": "five"]])
            #expect(wrongType.status == 400 && (wrongType.object?["error"] as? [String: Any])?["field"] as? String == "step")

            let huge = Data(repeating: UInt8(ascii: " "), count: 10 << 20)
            let tooBig = try await client.post("/api/v1/runs/r/steps", body: huge, contentType: "application/json")
            #expect(tooBig.status == 413, "\(tooBig)")

            let manyRewards = try await client.post(
                "/api/v1/runs/r/steps", json: [["step": 5, "rewards": Array(repeating: 0.5, count: 5000)]])
            #expect(manyRewards.status == 400 && (manyRewards.object?["error"] as? [String: Any])?["field"] as? String == "rewards", "\(manyRewards)")

            let unknown = try await client.post("/api/v1/runs/nobody/steps", json: trace.prefix(1).map(stepJSON))
            #expect(unknown.status == 404)

            var invalid = Data("[{\"step\": 5, \"note\": \"".utf8)
            invalid += Data([0xFF, 0xFE])
            invalid += Data("\"}]".utf8)
            let binary = try await client.post("/api/v1/runs/r/steps", body: invalid, contentType: "application/json")
            #expect(binary.status == 400 && binary.text.contains("UTF-8"), "\(binary)")

            #expect(try await client.get("/healthz").status == 200)
            #expect(try await store.stepCount(runID: "r") == 5)
            let good = try await client.post("/api/v1/runs/r/steps", json: trace[5..<10].map(stepJSON))
            #expect(good.status == 200)
        }
    }

    @Test func withDefaultLimitsAMillionRewardsOrTenMegabytesOfJunkAreA400() async throws {
        let store = InMemoryStore()
        try await withServer(store: store) { client in
            _ = try await client.post("/api/v1/runs", json: ["run_id": "r"])
            let rewards = "[" + Array(repeating: "0.5", count: 1_000_000).joined(separator: ",") + "]"
            let million = try await client.post(
                "/api/v1/runs/r/steps", body: Data("[{\"step\": 1, \"rewards\": \(rewards)}]".utf8), contentType: "application/json")
            #expect(million.status == 400, "\(million)")
            #expect((million.object?["error"] as? [String: Any])?["field"] as? String == "rewards")
            let junk = try await client.post(
                "/api/v1/runs/r/steps", body: Data(repeating: UInt8(ascii: "x"), count: 10 << 20), contentType: "application/json")
            #expect(junk.status == 400, "\(junk)")
            #expect(try await store.stepCount(runID: "r") == 0)
            #expect(try await client.post("/api/v1/runs/r/steps", json: trace.prefix(3).map(stepJSON)).status == 200)
        }
    }

    @Test func aResentBatchWithTheSameIdempotencyKeyIsNotAppliedTwice() async throws {
        let store = InMemoryStore()
        try await withServer(store: store) { client in
            _ = try await client.post("/api/v1/runs", json: ["run_id": "r"])
            let batch = trace.prefix(250).map(stepJSON)
            let first = try await client.post("/api/v1/runs/r/steps", json: batch, headers: ["Idempotency-Key": "b-1"])
            let again = try await client.post("/api/v1/runs/r/steps", json: batch, headers: ["Idempotency-Key": "b-1"])
            #expect(first.status == 200 && again.status == 200)
            #expect(first.text == again.text)
            #expect(try await store.stepCount(runID: "r") == 250)
            let other = try await client.post("/api/v1/runs/r/steps", json: trace[250..<260].map(stepJSON), headers: ["Idempotency-Key": "b-2"])
            #expect(other.status == 200)
            #expect(try await store.stepCount(runID: "r") == 260)
        }
    }

    /// Issue 20: a key reused for other steps (a client bug) silently dropped them — a NaN loss never stored, never
    /// alerted. It is a 422 now, nothing stored; the same steps re-sent in another format are still a retry.
    @Test func anIdempotencyKeyReusedForOtherStepsIsA422() async throws {
        try await withTemporaryDirectory { directory in
            let store = try SQLiteStore(path: directory.appendingPathComponent("metrics.db").path)
            defer { try? store.close() }
            try await withServer(store: store) { client in
                _ = try await client.post("/api/v1/runs", json: ["run_id": "r"])
                let first: [[String: Any]] = [["step": 1, "loss": 0.5], ["step": 2, "loss": 0.5]]
                let reply = try await client.post("/api/v1/runs/r/steps", json: first, headers: ["Idempotency-Key": "k"])
                #expect(reply.status == 200, "\(reply)")
                // The same steps, as NDJSON with the numbers written differently: a retry, answered as the first time.
                let retry = try await client.post(
                    "/api/v1/runs/r/steps", body: Data("{\"step\":1,\"loss\":5e-1}\n{\"step\":2,\"loss\":0.50}\n".utf8),
                    contentType: "application/x-ndjson", headers: ["Idempotency-Key": "k"])
                #expect(retry.status == 200 && retry.text == reply.text, "\(retry)")
                let other: [[String: Any]] = [["step": 3, "loss": 0.5], ["step": 4, "loss": "NaN"]]
                let reused = try await client.post("/api/v1/runs/r/steps", json: other, headers: ["Idempotency-Key": "k"])
                #expect(reused.status == 422, "\(reused)")
                #expect(reused.text.contains("Idempotency-Key"), "\(reused)")
                #expect(try await store.stepCount(runID: "r") == 2)
                let fresh = try await client.post("/api/v1/runs/r/steps", json: other, headers: ["Idempotency-Key": "k2"])
                #expect(fresh.status == 200, "\(fresh)")
                #expect(alertKeys(fresh.object?["alerts"]) == ["4 loss_nan critical"])
                #expect(try await store.stepCount(runID: "r") == 4)
            }
        }
    }

    /// A client that lost the answer re-sends the batch without an `Idempotency-Key` (curl, a proxy retry): the
    /// steps it repeats value for value are recognised, even by a restarted server, and neither stored nor judged
    /// again; a real resume (the same step numbers with other values) still opens a new segment.
    @Test func aBatchSentAgainWithoutAKeyIsNotStoredOrAlertedTwice() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("metrics.db").path
            let store = try SQLiteStore(path: path)
            let batch = trace.prefix(260).map(stepJSON)
            var firstAlerts: [String] = []
            try await withServer(store: store) { client in
                _ = try await client.post("/api/v1/runs", json: ["run_id": "r"])
                let first = try await client.post("/api/v1/runs/r/steps", json: batch)
                firstAlerts = alertKeys(first.object?["alerts"])
                #expect(!firstAlerts.isEmpty, "the trace raises alerts by step 260")
                let again = try await client.post("/api/v1/runs/r/steps", json: batch)
                #expect(again.status == 200, "\(again)")
                let againAlerts = alertKeys(again.object?["alerts"])
                #expect(againAlerts == [])
                // The tail of the batch again, then new steps in the same request.
                let overlap = try await client.post("/api/v1/runs/r/steps", json: trace[240..<280].map(stepJSON))
                #expect(overlap.status == 200)
            }
            try store.close()
            let reopened = try SQLiteStore(path: path)
            try await withServer(store: reopened) { client in
                let afterRestart = try await client.post("/api/v1/runs/r/steps", json: trace[250..<280].map(stepJSON))
                let restartAlerts = alertKeys(afterRestart.object?["alerts"])
                #expect(afterRestart.status == 200 && restartAlerts == [], "\(afterRestart)")
            }
            let rows = try await reopened.steps(runID: "r")
            #expect(rows.map(\.metrics.step) == Array(0..<280).map { trace[$0].step })
            #expect(Set(rows.map(\.segment)) == [0])
            let stored = try await reopened.alerts(runID: "r", filter: .all)
            #expect(stored.filter { $0.alert.step < 260 && $0.disposition.isDelivered }.count == firstAlerts.count)

            // A resume from an earlier checkpoint: the same numbers with other values are new rows, segment 1.
            try await withServer(store: reopened) { client in
                var resumed = Array(trace[270..<280])
                for index in resumed.indices { resumed[index].loss = (resumed[index].loss ?? 0) + 0.5 }
                let reply = try await client.post("/api/v1/runs/r/steps", json: resumed.map(stepJSON))
                #expect(reply.status == 200)
            }
            let after = try await reopened.steps(runID: "r")
            #expect(after.count == 290)
            #expect(after.suffix(10).allSatisfy { $0.segment == 1 })
            try reopened.close()
        }
    }

    @Test func runsAreIsolatedFromEachOther() async throws {
        let store = InMemoryStore()
        let healthy = SyntheticRuns.healthy()
        try await withServer(store: store) { client in
            _ = try await client.post("/api/v1/runs", json: ["run_id": "collapsing"])
            _ = try await client.post("/api/v1/runs", json: ["run_id": "healthy"])
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (id, steps) in [("collapsing", trace), ("healthy", Array(healthy.prefix(400)))] {
                    group.addTask {
                        for chunk in stride(from: 0, to: steps.count, by: 20) {
                            let reply = try await client.post(
                                "/api/v1/runs/\(id)/steps", json: steps[chunk..<min(chunk + 20, steps.count)].map(stepJSON))
                            #expect(reply.status == 200)
                        }
                    }
                }
                try await group.waitForAll()
            }
            let collapsing = try await client.get("/api/v1/runs/collapsing/alerts")
            #expect(alertKeys(collapsing.object?["alerts"]) == offlineAlertKeys(trace, config: RLWatchConfig()))
            let quiet = try await client.get("/api/v1/runs/healthy/alerts")
            #expect(alertKeys(quiet.object?["alerts"]) == offlineAlertKeys(Array(healthy.prefix(400)), config: RLWatchConfig()))
        }
    }

    @Test func perRunConfigOverridesApplyToThatRunOnly() async throws {
        try await withServer(store: InMemoryStore()) { client in
            _ = try await client.post("/api/v1/runs", json: ["run_id": "off", "config": ["entropy_collapse": ["enabled": false]]])
            _ = try await client.post("/api/v1/runs", json: ["run_id": "on"])
            let off = try await client.post("/api/v1/runs/off/steps", json: trace.map(stepJSON))
            let on = try await client.post("/api/v1/runs/on/steps", json: trace.map(stepJSON))
            #expect(alertKeys(on.object?["alerts"]).contains { $0.contains("entropy_collapse") })
            #expect(!alertKeys(off.object?["alerts"]).contains { $0.contains("entropy_collapse") })
            let conflict = try await client.post("/api/v1/runs", json: ["run_id": "on", "config": ["entropy_collapse": ["enabled": false]]])
            #expect(conflict.status == 409)
        }
    }

    @Test func aRestartedServerResumesDetectorsFromTheStoredHistory() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("metrics.db").path
            var received: [String] = []
            let store = try SQLiteStore(path: path)
            try await withServer(store: store) { client in
                _ = try await client.post("/api/v1/runs", json: ["run_id": "r", "config": ["kl_explosion": ["warmup_steps": 30]]])
                let reply = try await client.post("/api/v1/runs/r/steps", json: trace.prefix(260).map(stepJSON))
                received += alertKeys(reply.object?["alerts"])
            }
            try store.close()
            let reopened = try SQLiteStore(path: path)
            try await withServer(store: reopened) { client in
                // No POST /runs: steps for a stored run resume it with its stored config.
                for chunk in stride(from: 260, to: trace.count, by: 35) {
                    let reply = try await client.post("/api/v1/runs/r/steps", json: trace[chunk..<min(chunk + 35, trace.count)].map(stepJSON))
                    #expect(reply.status == 200, "\(reply)")
                    received += alertKeys(reply.object?["alerts"])
                }
            }
            let config = try RLWatchConfig().applying(overrides: ["kl_explosion": ["warmup_steps": 30]])
            #expect(received == offlineAlertKeys(trace, config: config))
            #expect(try await reopened.stepCount(runID: "r") == trace.count)
            // Alerts are stored once each.
            let stored = try await reopened.alerts(runID: "r", filter: .delivered).map { "\($0.alert.step) \($0.alert.detector.rawValue) \($0.alert.severity.rawValue)" }
            #expect(stored == received)
            try reopened.close()
        }
    }

    @Test func idleRunsLeaveMemoryAndComeBackFromTheStoreUnchanged() async throws {
        let store = InMemoryStore()
        var settings = ServerSettings(port: 0)
        settings.idleRunTimeout = 0  // every run is idle by the next request
        try await withServer(store: store, settings: settings) { client in
            _ = try await client.post("/api/v1/runs", json: ["run_id": "a"])
            _ = try await client.post("/api/v1/runs", json: ["run_id": "b"])
            var received: [String] = []
            for chunk in stride(from: 0, to: trace.count, by: 40) {
                let reply = try await client.post("/api/v1/runs/a/steps", json: trace[chunk..<min(chunk + 40, trace.count)].map(stepJSON))
                #expect(reply.status == 200)
                received += alertKeys(reply.object?["alerts"])
                // A request for another run sweeps: run a is released and reloaded for its next batch.
                _ = try await client.post("/api/v1/runs/b/steps", json: [["step": chunk, "loss": 0.5]])
            }
            #expect(received == offlineAlertKeys(trace, config: RLWatchConfig()))
            let metrics = try await client.get("/metrics").text
            #expect(metrics.contains("rlwatch_open_runs 1"), "\(metrics)")
        }
    }

    @Test func metricsArePagedAndFinishClosesTheRun() async throws {
        let store = InMemoryStore()
        try await withServer(store: store) { client in
            _ = try await client.post("/api/v1/runs", json: ["run_id": "r"])
            var steps = trace.prefix(40).map(stepJSON)
            steps[5]["loss"] = "NaN"
            steps[6]["grad_norm"] = "Infinity"
            _ = try await client.post("/api/v1/runs/r/steps", json: steps)
            let page = try await client.get("/api/v1/runs/r/metrics?since_step=5&limit=10")
            let rows = page.object?["steps"] as? [[String: Any]] ?? []
            #expect(rows.map { $0["step"] as? Int } == Array(5..<15))
            #expect(rows.first?["loss"] as? String == "NaN")
            #expect(rows[1]["grad_norm"] as? String == "Infinity")
            #expect(page.object?["truncated"] as? Bool == true)
            let rest = try await client.get("/api/v1/runs/r/metrics?since_step=35")
            #expect((rest.object?["steps"] as? [[String: Any]])?.count == 5 && rest.object?["truncated"] as? Bool == false)
            #expect(try await client.get("/api/v1/runs/r/metrics?limit=x").status == 400)
            #expect(try await client.get("/api/v1/runs/zzz/metrics").status == 404)

            let finish = try await client.send("POST", "/api/v1/runs/r/finish", body: nil)
            #expect(finish.status == 200)
            #expect(try await store.run(id: "r")?.finishedAt != nil)
            let run = try await client.get("/api/v1/runs/r")
            #expect(run.object?["finished_at"] as? Double != nil)
            #expect(try await client.send("POST", "/api/v1/runs/zzz/finish", body: nil).status == 404)
            // Steps after finish reopen the run; finishing it again works whether or not it is in memory.
            #expect(try await client.post("/api/v1/runs/r/steps", json: [["step": 100, "loss": 0.1]]).status == 200)
            #expect(try await store.run(id: "r")?.finishedAt == nil)
            #expect(try await client.send("POST", "/api/v1/runs/r/finish", body: nil).status == 200)
            #expect(try await client.send("POST", "/api/v1/runs/r/finish", body: nil).status == 200)
            #expect(try await store.run(id: "r")?.finishedAt != nil)
        }
    }

    @Test func percentEncodedRunIDsInThePathAreDecoded() async throws {
        let store = InMemoryStore()
        try await withServer(store: store) { client in
            let runID = "grpo qwen-7b é 100%"
            let path = "/api/v1/runs/grpo%20qwen-7b%20%C3%A9%20100%25"
            #expect(try await client.post("/api/v1/runs", json: ["run_id": runID]).status == 201)
            let sent = try await client.post(path + "/steps", json: [["step": 1, "loss": 0.5], ["step": 2, "loss": 0.4]])
            #expect(sent.status == 200, "\(sent.text)")
            #expect(try await store.stepCount(runID: runID) == 2)
            #expect(try await client.get(path).object?["run_id"] as? String == runID)
            let metrics = try await client.get(path + "/metrics")
            #expect((metrics.object?["steps"] as? [[String: Any]])?.count == 2)
            #expect(try await client.get(path + "/alerts").status == 200)
            #expect(try await client.send("POST", path + "/finish", body: nil).status == 200)
            #expect(try await store.run(id: runID)?.finishedAt != nil)
            // The raw, undecoded form was never stored as a run of its own.
            #expect(try await store.run(id: "grpo%20qwen-7b%20%C3%A9%20100%25") == nil)
            #expect(try await store.runs().map(\.runID) == [runID])
        }
    }

    @Test func prometheusMetricsCountStepsAlertsAndRequests() async throws {
        try await withServer(store: InMemoryStore()) { client in
            _ = try await client.post("/api/v1/runs", json: ["run_id": "r"])
            _ = try await client.post("/api/v1/runs/r/steps", json: trace.map(stepJSON))
            _ = try await client.post("/api/v1/runs/r/steps", json: [["step": "x"]])
            let text = try await client.get("/metrics").text
            #expect(text.contains("rlwatch_steps_ingested_total \(trace.count)"), "\(text)")
            #expect(text.contains("rlwatch_batches_total{outcome=\"rejected\"} 1"))
            #expect(text.contains("rlwatch_open_runs 1"))
            #expect(text.contains("rlwatch_alerts_total{detector=\"entropy_collapse\",severity=\"critical\"} 1"))
            #expect(text.contains("rlwatch_http_request_duration_seconds_count{route=\"/api/v1/runs/{run}/steps\",method=\"POST\"} 2"))
            let openAPI = try await client.get("/api/v1/openapi.json")
            #expect(openAPI.status == 200 && openAPI.object?["openapi"] as? String == "3.1.0")
        }
    }

    @Test func aTokenIsRequiredOnEveryAPICallWhenSet() async throws {
        let store = InMemoryStore()
        try await withServer(store: store, settings: ServerSettings(port: 0, token: "s3cret")) { client in
            #expect(try await client.get("/healthz").status == 200)
            let anonymous = try await client.post("/api/v1/runs", json: ["run_id": "r"])
            #expect(anonymous.status == 401)
            #expect(try await store.run(id: "r") == nil)
            let wrong = try await client.post("/api/v1/runs", json: ["run_id": "r"], headers: ["Authorization": "Bearer s3cre"])
            #expect(wrong.status == 401)
            let right = try await client.post("/api/v1/runs", json: ["run_id": "r"], headers: ["Authorization": "Bearer s3cret"])
            #expect(right.status == 201)
            let steps = try await client.post("/api/v1/runs/r/steps", json: trace.prefix(3).map(stepJSON))
            #expect(steps.status == 401)
            #expect(try await store.stepCount(runID: "r") == 0)
            #expect(try await client.get("/metrics").status == 401)
        }
    }

    @Test func nonLoopbackAddressesNeedAToken() {
        #expect(ServerSettings(host: "0.0.0.0").problem != nil)
        #expect(ServerSettings(host: "10.1.2.3", token: "t").problem == nil)
        #expect(ServerSettings(host: "127.0.0.1").problem == nil)
        #expect(ServerSettings(host: "localhost").problem == nil)
        #expect(ServerSettings(host: "::1").problem == nil)
        #expect(ServerSettings(host: "127.0.0.1", port: 70000).problem != nil)
    }
}
