import Foundation
import RLWatchTesting
import Testing

/// `rlwatch replay` of CSV exports and of logs whose step is under another key.
@Suite struct ReplayCSVCLITests {
    @Test func aRealCSVLogWithTheUsersKeyMappingIsReplayed() async throws {
        // The reasoning-from-scratch GRPO run that falls apart at step ~60 (KL 2 → 26, entropy 7 → 11.8).
        let log = TestFixtures.realRun("17_rasbt_ch07_7_5_plus_kl_metrics.csv").path
        let sandbox = try CLISandbox()
        try sandbox.write(
            "rlwatch.yaml",
            "metrics:\n  keys:\n    kl_loss: kl_divergence\n    entropy_avg: entropy\n    reward_avg: reward_mean\n    adv_std: advantage_std\n")
        let result = try await sandbox.run(["replay", "--no-store", "--format", "jsonl", "--explain", log])
        #expect(result.status == 0, "\(result)")
        #expect(result.stderr.contains("kl_divergence ← kl_loss (rlwatch.yaml)"), "\(result)")
        let alerts = try jsonLines(result.stdout)
        let kl = try #require(alerts.first { $0["detector"] as? String == "kl_explosion" }, "\(result)")
        #expect((52...71).contains(kl["step"] as? Int ?? 0), "\(result)")
        let onset = try #require((kl["metric_values"] as? [String: Any])?["onset_step"] as? Int)
        #expect(onset <= kl["step"] as? Int ?? 0)
    }

    @Test func theStepCanComeFromAnotherKey() async throws {
        let sandbox = try CLISandbox()
        try sandbox.write(
            "w.jsonl",
            (1...30).map { "{\"_step\": \($0), \"kl\": \($0 < 29 ? 0.02 : 9.0)}" }.joined(separator: "\n") + "\n")
        let missing = try await sandbox.run(["replay", "--no-store", "w.jsonl"])
        #expect(missing.status == 2, "\(missing)")
        #expect(missing.stderr.contains("w.jsonl:1"), "\(missing)")
        let result = try await sandbox.run(["replay", "--no-store", "--step-key", "_step", "w.jsonl"])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("step 29  CRITICAL  kl_explosion"), "\(result)")
    }

    @Test func aBadCellNamesFileLineAndKeyAndKeepsTheStepsBeforeIt() async throws {
        let sandbox = try CLISandbox()
        try sandbox.write("m.csv", "step,kl,loss\n1,0.01,0.3\n2,0.02,0.3\n3,oops,0.3\n4,0.02,0.3\n")
        let result = try await sandbox.run(["replay", "--run-id", "csv", "m.csv"])
        #expect(result.status == 2, "\(result)")
        #expect(result.stderr.contains("m.csv:4: \"kl\": expected a number, got \"oops\""), "\(result)")
        let runs = try await sandbox.run(["runs"])
        #expect(runs.stdoutLines.contains { $0.hasPrefix("csv") && $0.contains(" 2 ") }, "\(runs)")
    }

    /// The scenario of `TrackerCLITests` as a CSV row: healthy until step 29, KL exploding from 30, NaN loss at 35.
    static func row(_ step: Int) -> (kl: String, loss: String) {
        (step < 30 ? "0.02" : "\(4 + step)", step == 35 ? "NaN" : "0.3")
    }

    @Test func aWandbCSVExportIsReadUnderTheLoggedKeys() async throws {
        let sandbox = try CLISandbox()
        var text = "\"Step\",\"glowing-sun-3 - train/kl\",\"glowing-sun-3 - train/kl__MIN\",\"glowing-sun-3 - train/kl__MAX\","
            + "\"glowing-sun-3 - train/loss\"\n"
        for step in 1...40 {
            let (kl, loss) = Self.row(step)
            // __MIN / __MAX are the chart's band: not metrics (a MIN of 99 would be a KL explosion).
            text += "\(step),\(kl),99,99,\(loss)\n"
        }
        try sandbox.write("export.csv", text)
        let result = try await sandbox.run(["replay", "--no-store", "--format", "jsonl", "--explain", "export.csv"])
        #expect(result.status == 0, "\(result)")
        #expect(result.stderr.contains("kl_divergence ← kl, loss ← loss"), "\(result)")
        #expect(try WatchCLITests.alertKeys(result.stdout) == ["kl_explosion/critical@30", "loss_nan/critical@35"], "\(result)")
    }

    /// `watch` follows a CSV a trainer appends to (rows of one step merged, an empty cell not logged), with
    /// replay's alerts; a restarted watch continues after the stored rows.
    @Test func aCSVLogIsFollowedAsItGrows() async throws {
        let sandbox = try CLISandbox()
        func rows(_ steps: ClosedRange<Int>) -> String {
            steps.map { step in
                let (kl, loss) = Self.row(step)
                // Each step in two rows: KL first, the loss in a second row with the KL cell empty.
                return "\(step),\(kl),\n\(step),,\(loss)\n"
            }.joined()
        }
        try sandbox.write("log.csv", "global_step,kl,loss\n" + rows(1...20))
        let watch = try sandbox.start(["watch", "--follow", "--poll-interval", "0.05", "--output", "jsonl", "--run-id", "csv", "log.csv"])
        _ = try await watch.waitForStderr(containing: "(csv)")
        let handle = try FileHandle(forWritingTo: sandbox.url("log.csv"))
        try handle.seekToEnd()
        for step in 21...40 {
            try handle.write(contentsOf: Data(rows(step...step).utf8))
            try await Task.sleep(for: .milliseconds(20))
        }
        try handle.close()
        _ = try await watch.waitForStdout(containing: "\"loss_nan\"", timeout: .seconds(30))
        let stopped = try await watch.stop(signal: SIGTERM)
        #expect(stopped.exited && stopped.status == 0, "\(watch.stderr)")
        #expect(try WatchCLITests.alertKeys(watch.stdout) == ["kl_explosion/critical@30", "loss_nan/critical@35"], "\(watch.stderr)")
        let replayed = try await sandbox.run(["replay", "--no-store", "--format", "jsonl", "log.csv"])
        #expect(try WatchCLITests.alertKeys(replayed.stdout) == WatchCLITests.alertKeys(watch.stdout), "\(replayed)")
        let diagnosis = try jsonObject(try await sandbox.run(["diagnose", "--run-id", "csv", "--format", "json"]).stdout)
        #expect(diagnosis["total_steps"] as? Int == 40, "\(diagnosis)")
    }
}
