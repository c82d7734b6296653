import Foundation
import RLWatchTesting
import Testing

/// `rlwatch replay` on a TRL `trainer_state.json`, and the stderr note that names the logged key behind
/// each metric.
@Suite struct ReplayTrainerStateCLITests {
    static let fixtures = TestFixtures.directory.appendingPathComponent("RealRuns/logs")
    static let sparseReward = fixtures.appendingPathComponent("trl-grpo-sparse-reward.trainer_state.json").path
    static let veRL = fixtures.appendingPathComponent("verl-grpo-kl-explosion.file-logger.jsonl").path

    @Test func realSparseRewardRunRaisesTheDeadSignalAlert() async throws {
        let sandbox = try CLISandbox()
        let result = try await sandbox.run(["replay", "--no-store", "--format", "jsonl", Self.sparseReward])
        #expect(result.status == 0, "\(result)")
        let alerts = try jsonLines(result.stdout)
        let dead = alerts.filter { $0["detector"] as? String == "learning_signal_dead" }
        #expect(dead.first?["severity"] as? String == "warning", "\(result)")
        #expect(dead.first?["step"] as? Int == 23, "\(result)")
        #expect(!alerts.contains { $0["detector"] as? String == "entropy_collapse" }, "\(result)")
        // JSONL output: nothing but alerts on stdout, and no key note on stderr.
        #expect(!result.stderr.contains("metrics:"), "\(result)")
    }

    @Test func textOutputNotesTheKeySourcesOnStderr() async throws {
        let sandbox = try CLISandbox()
        let result = try await sandbox.run(["replay", "--no-store", Self.sparseReward])
        #expect(result.status == 0, "\(result)")
        let note = result.stderr.split(separator: "\n").first.map(String.init) ?? ""
        #expect(note.hasPrefix("metrics: entropy ← entropy, kl_divergence ← kl, reward_mean ← reward,"), "\(result)")
        #expect(result.stdout.contains("learning_signal_dead"), "\(result)")
        #expect(result.stdout.contains("Replayed 100 steps"), "\(result)")
    }

    @Test func explainAddsTheNoteToJSONLOutputOnStderrOnly() async throws {
        let sandbox = try CLISandbox()
        let result = try await sandbox.run(["replay", "--no-store", "--format", "jsonl", "--explain", Self.veRL])
        #expect(result.status == 0, "\(result)")
        #expect(result.stderr.hasPrefix("metrics: entropy ← actor/entropy, kl_divergence ← actor/kl_loss,"), "\(result)")
        #expect(!result.stdout.contains("metrics:"), "\(result)")
        #expect(!(try jsonLines(result.stdout)).isEmpty, "\(result)")
    }

    @Test func veRLNoteShowsTheReferenceKL() async throws {
        let sandbox = try CLISandbox()
        let result = try await sandbox.run(["replay", "--no-store", Self.veRL])
        #expect(result.status == 0, "\(result)")
        #expect(result.stderr.contains("kl_divergence ← actor/kl_loss,"), "\(result)")
        #expect(!result.stderr.contains("ppo_kl"), "\(result)")
    }

    @Test func policyUpdateKLFallbackIsFlagged() async throws {
        let sandbox = try CLISandbox()
        let lines = (1...5).map { "{\"step\":\($0),\"data\":{\"actor/ppo_kl\":0.001,\"actor/entropy\":0.2}}" }
        try sandbox.write("ppo.jsonl", lines.joined(separator: "\n") + "\n")
        let result = try await sandbox.run(["replay", "--no-store", "ppo.jsonl"])
        #expect(result.status == 0, "\(result)")
        #expect(
            result.stderr.contains(
                "metrics: entropy ← actor/entropy, kl_divergence ← actor/ppo_kl (old-vs-new policy KL: no reference KL logged)"),
            "\(result)")
    }

    @Test func inputFormatIsDetectedFromTheContentOrForced() async throws {
        let sandbox = try CLISandbox()
        let document = """
            {"log_history": [{"step": 1, "loss": NaN}, {"step": 2, "eval_loss": 0.3},
             {"step": 2, "train_runtime": 10.0, "train_loss": 0.5}]}
            """
        try sandbox.write("state.json", document)
        try sandbox.write("state.txt", document)
        let detected = try await sandbox.run(["replay", "--no-store", "--format", "jsonl", "state.json"])
        #expect(detected.status == 0, "\(detected)")
        #expect(detectorSeverities(try jsonLines(detected.stdout)) == ["loss_nan/critical"], "\(detected)")

        // Not detectable from a .txt name: read as JSONL unless forced.
        let asJSONL = try await sandbox.run(["replay", "--no-store", "state.txt"])
        #expect(asJSONL.status == 2, "\(asJSONL)")
        let forced = try await sandbox.run([
            "replay", "--no-store", "--format", "jsonl", "--input-format", "trainer-state", "state.txt",
        ])
        #expect(forced.status == 0, "\(forced)")
        #expect(detectorSeverities(try jsonLines(forced.stdout)) == ["loss_nan/critical"], "\(forced)")
    }

    @Test func malformedDocumentsGiveClearErrors() async throws {
        let sandbox = try CLISandbox()
        try sandbox.write("trainer_state.json", #"{"log_history": [{"step": 1, "loss": 0.5}, {"loss": 0.4}]}"#)
        let missingStep = try await sandbox.run(["replay", "--no-store", "trainer_state.json"])
        #expect(missingStep.status == 2, "\(missingStep)")
        #expect(
            missingStep.stderr.contains(
                "error: trainer_state.json: log_history[1]: no \"step\" (every log_history entry has one)"),
            "\(missingStep)")

        try sandbox.write("bad.json", #"{"log_history": [{"step": 1, "loss": 0.5"#)
        let truncated = try await sandbox.run(["replay", "--no-store", "--input-format", "trainer-state", "bad.json"])
        #expect(truncated.status == 2, "\(truncated)")
        #expect(truncated.stderr.contains("error: bad.json: not valid JSON"), "\(truncated)")

        try sandbox.write("metrics.jsonl", #"{"step": 1, "loss": 0.5}"# + "\n")
        let wrongFormat = try await sandbox.run([
            "replay", "--no-store", "--input-format", "trainer-state", "metrics.jsonl",
        ])
        #expect(wrongFormat.status == 2, "\(wrongFormat)")
        #expect(wrongFormat.stderr.contains("no \"log_history\" key"), "\(wrongFormat)")
    }
}
