import Foundation
import RLWatchTesting
import Testing

/// `actions.command` run by `rlwatch watch`: once per matching alert, with the alert on stdin and `RLWATCH_*`
/// variables, recorded with the alert, never again after a restart; checkpoint folders beside the log named as
/// where to resume.
@Suite struct ActionsCLITests {
    /// A script that records what it was given: one line of variables per call, and its stdin.
    static let recorder = """
        #!/bin/sh
        echo "$RLWATCH_RUN_ID $RLWATCH_DETECTOR $RLWATCH_SEVERITY $RLWATCH_STEP $RLWATCH_RESUME_FROM_STEP" >> calls.log
        cat >> stdin.log
        echo "cancelled job"
        exit 3
        """

    func sandboxWithRecorder(config: String) throws -> CLISandbox {
        let sandbox = try CLISandbox()
        try sandbox.write("record.sh", Self.recorder)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: sandbox.url("record.sh").path)
        try sandbox.write("rlwatch.yaml", config)
        try sandbox.write("out/metrics.jsonl", MetricsFiles.nanAndSpike)
        try FileManager.default.createDirectory(at: sandbox.url("out/checkpoint-50"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: sandbox.url("out/checkpoint-70"), withIntermediateDirectories: true)
        return sandbox
    }

    @Test func watchRunsTheCommandOncePerCriticalAndNeverAgainAfterARestart() async throws {
        let sandbox = try sandboxWithRecorder(
            config: "actions:\n  command: [\"./record.sh\"]\n  timeout_seconds: 20\n")
        let first = try await sandbox.run(["watch", "--no-follow", "--run-id", "cmd-run", "out/metrics.jsonl"])
        #expect(first.status != 2, "\(first)")
        #expect(first.stderr.contains("checkpoint \(sandbox.url("out/checkpoint-50").path) (step 50)"), "\(first)")
        let calls = try sandbox.read("calls.log").split(separator: "\n").sorted()
        // Two criticals at step 61 (loss NaN, gradient spike): one run each, naming the checkpoint before the trouble.
        #expect(calls == ["cmd-run gradient_norm_spike critical 61 50", "cmd-run loss_nan critical 61 50"], "\(first)")
        let payloads = try jsonLines(try sandbox.read("stdin.log"))
        #expect(payloads.count == 2)
        #expect(Set(payloads.compactMap { $0["detector"] as? String }) == ["loss_nan", "gradient_norm_spike"])
        #expect(payloads.allSatisfy { $0["run_id"] as? String == "cmd-run" && $0["alert_id"] is Int })

        // A restart reads nothing new and runs nothing again.
        let second = try await sandbox.run(["watch", "--no-follow", "--run-id", "cmd-run", "out/metrics.jsonl"])
        #expect(second.stdout.contains("Watched 0 new steps"), "\(second)")
        #expect(try sandbox.read("calls.log").split(separator: "\n").count == 2, "\(second)")

        // Every run is stored with the alert: what, when, why, exit status and output.
        let diagnosis = try await sandbox.run(["diagnose", "--run-id", "cmd-run", "--format", "json"])
        let report = try jsonObject(diagnosis.stdout)
        let actions = try #require(report["actions"] as? [[String: Any]], "\(diagnosis)")
        #expect(actions.count == 2)
        #expect(actions.allSatisfy { $0["action"] as? String == "command" && $0["result"] as? String == "exit 3" })
        #expect(actions.allSatisfy { ($0["output"] as? String)?.contains("cancelled job") == true })
        let resume = try #require(report["resume_from"] as? [String: Any])
        #expect(resume["step"] as? Int == 50)
        #expect((report["checkpoints"] as? [[String: Any]])?.count == 2)
        let text = try await sandbox.run(["diagnose", "--run-id", "cmd-run"])
        #expect(text.stdout.contains("Resume from checkpoint-50 (step 50)"), "\(text)")
    }

    @Test func aDryRunRecordsWhatWouldHaveRunAndRunsNothing() async throws {
        let sandbox = try sandboxWithRecorder(
            config: "actions:\n  command: [\"./record.sh\"]\n  dry_run: true\n")
        let watched = try await sandbox.run(["watch", "--no-follow", "--run-id", "dry", "out/metrics.jsonl"])
        #expect(!sandbox.exists("calls.log"), "\(watched)")
        let diagnosis = try await sandbox.run(["diagnose", "--run-id", "dry", "--format", "json"])
        let actions = try #require(try jsonObject(diagnosis.stdout)["actions"] as? [[String: Any]], "\(diagnosis)")
        #expect(actions.count == 2)
        #expect(actions.allSatisfy { $0["result"] as? String == "dry_run" })
    }

    @Test func anInvalidActionIsReportedWithItsKey() async throws {
        let sandbox = try CLISandbox()
        try sandbox.write("rlwatch.yaml", "actions:\n  on_critical: halt\n")
        try sandbox.write("m.jsonl", MetricsFiles.healthy)
        let result = try await sandbox.run(["watch", "--no-follow", "m.jsonl"])
        #expect(result.status != 0, "\(result)")
        #expect(result.stderr.contains("actions.on_critical"), "\(result)")
    }

    /// `serve` queues the command in the batch's transaction: after SIGKILL and a restart on the same log directory,
    /// the command that already ran is not run again, and the next matching alert runs it once more.
    @Test func serveRunsTheCommandOnceAcrossAKillAndRestart() async throws {
        let sandbox = try sandboxWithRecorder(
            config: "alerts:\n  cooldown_steps: 0\nactions:\n  command: [\"./record.sh\"]\n  timeout_seconds: 20\n")
        let arguments = ["serve", "--port", "0", "--log-dir", "logs"]
        func waitForCalls(_ count: Int) async throws {
            let deadline = ContinuousClock.now + .seconds(60)
            while ContinuousClock.now < deadline {
                if sandbox.exists("calls.log"), try sandbox.read("calls.log").split(separator: "\n").count >= count { return }
                try await Task.sleep(for: .milliseconds(50))
            }
            Issue.record("the command did not run \(count) time(s)")
        }
        var steps: [[String: Any]] = (1...30).map { ["step": $0, "loss": 0.3] }
        steps.append(["step": 31, "loss": "NaN"])

        let first = try sandbox.start(arguments)
        let client = HTTPTestClient(port: try await first.servePort())
        #expect(try await client.post("/api/v1/runs", json: ["run_id": "served"]).status == 201)
        #expect(try await client.post("/api/v1/runs/served/steps", json: steps).status == 200)
        try await waitForCalls(1)
        // Recorded (the delivery is final) before the kill: what a restart finds is a command that already ran.
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            let listed = try await client.get("/api/v1/runs/served/actions").object?["actions"] as? [[String: Any]]
            if listed?.count == 1 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        _ = try await first.stop(signal: SIGKILL)

        let second = try sandbox.start(arguments)
        let again = HTTPTestClient(port: try await second.servePort())
        try await Task.sleep(for: .seconds(1))  // several dispatcher polls
        #expect(try sandbox.read("calls.log").split(separator: "\n").count == 1)
        #expect(try await again.post("/api/v1/runs", json: ["run_id": "served"]).status == 200)
        let more: [[String: Any]] = (32...35).map { ["step": $0, "loss": 0.3] } + [["step": 36, "loss": "NaN"]]
        #expect(try await again.post("/api/v1/runs/served/steps", json: more).status == 200)
        try await waitForCalls(2)
        try await Task.sleep(for: .milliseconds(500))
        let calls = try sandbox.read("calls.log").split(separator: "\n")
        #expect(calls == ["served loss_nan critical 31 ", "served loss_nan critical 36 "])
        let actions = try await again.get("/api/v1/runs/served/actions")
        let recorded = try #require(actions.object?["actions"] as? [[String: Any]])
        #expect(recorded.map { $0["step"] as? Int } == [31, 36])
        #expect(recorded.allSatisfy { $0["actor"] as? String == "server" && $0["result"] as? String == "exit 3" })
        _ = try await second.stop()
    }

    /// A command that exits without reading its stdin (most do: `scancel`) must not take rlwatch down with SIGPIPE;
    /// one that outlives `timeout_seconds` is killed and recorded as timed out.
    @Test func commandsThatIgnoreStdinOrHangAreHandled() async throws {
        let sandbox = try CLISandbox()
        try sandbox.write("out/metrics.jsonl", MetricsFiles.nanAndSpike)
        try sandbox.write("rlwatch.yaml", "actions:\n  command: [\"/bin/true\"]\n")
        for attempt in 1...5 {
            let watched = try await sandbox.run(
                ["watch", "--no-follow", "--run-id", "quick-\(attempt)", "--log-dir", "logs-\(attempt)", "out/metrics.jsonl"])
            #expect(watched.exited && watched.status == 0, "\(watched)")
            let report = try jsonObject(
                try await sandbox.run(["diagnose", "--run-id", "quick-\(attempt)", "--log-dir", "logs-\(attempt)", "--format", "json"]).stdout)
            #expect((report["actions"] as? [[String: Any]])?.map { $0["result"] as? String } == ["exit 0", "exit 0"])
        }

        try sandbox.write("rlwatch.yaml", "actions:\n  command: [\"sleep\", \"30\"]\n  timeout_seconds: 0.5\n")
        let hung = try await sandbox.run(["watch", "--no-follow", "--run-id", "hung", "--log-dir", "logs-hung", "out/metrics.jsonl"])
        #expect(hung.exited, "\(hung)")
        let report = try jsonObject(
            try await sandbox.run(["diagnose", "--run-id", "hung", "--log-dir", "logs-hung", "--format", "json"]).stdout)
        let results = (report["actions"] as? [[String: Any]])?.compactMap { $0["result"] as? String } ?? []
        // Killed: a `sleep 30` left to finish would have recorded "exit 0".
        #expect(results.count == 2 && results.allSatisfy { $0.hasPrefix("timed out") }, "\(results)")
    }
}
