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
}
