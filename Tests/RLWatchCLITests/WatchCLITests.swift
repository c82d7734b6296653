import Foundation
import RLWatchTesting
import Testing

/// `rlwatch watch` through the built binary: the real logs read to the end, a following watch stopped by
/// SIGTERM, a restart that resumes, bad input, key mappings from rlwatch.yaml.
@Suite struct WatchCLITests {
    static let fixtures = TestFixtures.directory.appendingPathComponent("RealRuns/logs")
    static let veRL = fixtures.appendingPathComponent("verl-grpo-kl-explosion.file-logger.jsonl").path
    static let trlJSONL = fixtures.appendingPathComponent("trl-grpo-entropy-explosion.jsonl").path
    static let trainerState = fixtures.appendingPathComponent("trl-grpo-sparse-reward.trainer_state.json").path

    /// Each real log, its detected format and alerts that must be among those delivered.
    static let realLogs: [(path: String, format: String, alerts: [String])] = [
        // The grad norm at 58 (0.14, 3× its early level while KL crept up smoothly) is inside the run's healthy stretch:
        // the explosion is 63–72 (see Tests/Fixtures/RealRuns/manifest.d/00-shared.yaml).
        (veRL, "verl", ["kl_explosion/critical@67", "gradient_norm_spike/critical@71"]),
        (trlJSONL, "jsonl", ["entropy_explosion/warning@155", "length_truncation/critical@160", "learning_signal_dead/critical@180"]),
        (trainerState, "trainer-state", ["learning_signal_dead/warning@23", "learning_signal_dead/critical@45"]),
    ]

    static func alertKeys(_ stdout: String) throws -> [String] {
        try jsonLines(stdout).map { "\($0["detector"] as? String ?? "?")/\($0["severity"] as? String ?? "?")@\($0["step"] as? Int ?? -1)" }
    }

    @Test(arguments: 0..<3)
    func noFollowOnARealLogGivesReplaysAlerts(index: Int) async throws {
        let log = Self.realLogs[index]
        let sandbox = try CLISandbox()
        let watched = try await sandbox.run(["watch", "--no-follow", "--output", "jsonl", log.path])
        #expect(watched.status == 0, "\(watched)")
        #expect(watched.stderr.contains("reading \(log.path) (\(log.format))"), "\(watched)")
        let alerts = try Self.alertKeys(watched.stdout)
        for expected in log.alerts { #expect(alerts.contains(expected), "\(expected) missing: \(watched)") }
        let replayed = try await sandbox.run(["replay", "--no-store", "--format", "jsonl", log.path])
        #expect(alerts == (try Self.alertKeys(replayed.stdout)), "\(watched)\n\(replayed)")
        // Stored: a second watch of the same file resumes the same run and finds nothing new.
        let again = try await sandbox.run(["watch", "--no-follow", log.path])
        #expect(again.status == 0, "\(again)")
        #expect(again.stdout.contains("Watched 0 new steps"), "\(again)")
        #expect(again.stderr.contains("stored steps)"), "\(again)")
    }

    @Test func aFollowingWatchStoppedBySIGTERMExits0AndARestartResumes() async throws {
        let sandbox = try CLISandbox()
        let lines = try String(contentsOfFile: Self.veRL, encoding: .utf8).split(separator: "\n").map { $0 + "\n" }
        try sandbox.write("verl.jsonl", lines.prefix(40).joined())
        let watch = try sandbox.start(["watch", "--follow", "--poll-interval", "0.05", "--output", "jsonl", "verl.jsonl"])
        _ = try await watch.waitForStderr(containing: "following \(sandbox.url("verl.jsonl").path) (verl)")
        try appendToFile(sandbox, "verl.jsonl", lines.dropFirst(40).prefix(26).joined())  // through step 67: the KL explosion
        _ = try await watch.waitForStdout(containing: "\"kl_explosion\"")
        let stopped = try await watch.stop(signal: SIGTERM)
        #expect(stopped.exited && stopped.status == 0, "\(watch.stderr)")
        #expect(try Self.alertKeys(watch.stdout) == ["kl_explosion/critical@67"])

        // The trainer went on while nobody watched; the restarted watch reads only the rest.
        try appendToFile(sandbox, "verl.jsonl", lines.dropFirst(66).joined())
        let resumed = try await sandbox.run(["watch", "--no-follow", "--output", "jsonl", "verl.jsonl"])
        #expect(resumed.status == 0, "\(resumed)")
        #expect(resumed.stderr.contains("resuming after step 67 (66 stored steps)"), "\(resumed)")
        #expect(
            try Self.alertKeys(resumed.stdout) == ["gradient_norm_spike/warning@68", "gradient_norm_spike/critical@71"],
            "\(resumed)")
        let runs = try await sandbox.run(["runs"])
        #expect(runs.stdout.contains(" 71 "), "\(runs)")
    }

    @Test func aMalformedLineIsAWarningOrUnderStrictExit2() async throws {
        let sandbox = try CLISandbox()
        try sandbox.write("m.jsonl", MetricsFiles.healthy + "{\"step\": 81, \"loss\": }\n" + MetricsFiles.line(step: 82, ["loss": "0.5"]) + "\n")
        let lenient = try await sandbox.run(["watch", "--no-follow", "--no-store", "m.jsonl"])
        #expect(lenient.status == 0, "\(lenient)")
        #expect(lenient.stderr.contains("warning: skipped \(sandbox.url("m.jsonl").path):81: "), "\(lenient)")
        #expect(lenient.stdout.contains("Watched 81 new steps"), "\(lenient)")
        let strict = try await sandbox.run(["watch", "--no-follow", "--strict", "m.jsonl"])
        #expect(strict.status == 2, "\(strict)")
        #expect(strict.stderr.contains("error: \(sandbox.url("m.jsonl").path):81: "), "\(strict)")
    }

    @Test func explainSaysWhichDetectorsGetNoInput() async throws {
        let sandbox = try CLISandbox()
        let result = try await sandbox.run(["watch", "--no-follow", "--no-store", "--explain", Self.trlJSONL])
        #expect(result.status == 0, "\(result)")
        #expect(result.stderr.contains("metrics: entropy ← entropy, reward_mean ← reward, reward_std ← reward_std"), "\(result)")
        #expect(result.stderr.contains("kl_explosion: no KL logged (TRL logs `kl` only when beta != 0"), "\(result)")
        #expect(result.stderr.contains("learning_signal_dead (frac_reward_zero_std)"), "\(result)")
    }

    @Test func userKeyMappingsFromRLWatchYAMLBeatTheBuiltInAliases() async throws {
        let sandbox = try CLISandbox()
        try sandbox.write("rlwatch.yaml", "metrics:\n  keys:\n    my/ent: entropy\n    train/zero: frac_reward_zero_std\n")
        let lines = (1...30).map { MetricsFiles.line(step: $0, ["entropy": "9.0", "my/ent": "0.5", "train/zero": "1.0"]) }
        try sandbox.write("m.jsonl", lines.joined(separator: "\n") + "\n")
        let result = try await sandbox.run(["watch", "--no-follow", "--no-store", "--output", "jsonl", "--explain", "m.jsonl"])
        #expect(result.status == 0, "\(result)")
        #expect(
            result.stderr.contains(
                "metrics: entropy ← my/ent (rlwatch.yaml), frac_reward_zero_std ← train/zero (rlwatch.yaml)"),
            "\(result)")
        // frac_reward_zero_std 1.0 for 30 steps: the dead-signal detector gets its input through the mapping.
        #expect(try Self.alertKeys(result.stdout).contains("learning_signal_dead/warning@10"), "\(result)")
        // replay honours the same mappings.
        let replayed = try await sandbox.run(["replay", "--no-store", "m.jsonl"])
        #expect(replayed.stderr.contains("entropy ← my/ent (rlwatch.yaml)"), "\(replayed)")
    }

    @Test func anUnknownMetricNameInTheMappingNamesFileLineAndKey() async throws {
        let sandbox = try CLISandbox()
        try sandbox.write("rlwatch.yaml", "metrics:\n  keys:\n    my/ent: entropyy\n    step: loss\n")
        try sandbox.write("m.jsonl", MetricsFiles.healthy)
        let result = try await sandbox.run(["watch", "--no-follow", "m.jsonl"])
        #expect(result.status == 2, "\(result)")
        #expect(result.stderr.contains("rlwatch.yaml:3:13: metrics.keys.my/ent must be one of entropy,"), "\(result)")
        #expect(result.stderr.contains("did you mean `entropy`?"), "\(result)")
        #expect(result.stderr.contains("rlwatch.yaml:4:5: metrics.keys.step: `step` gives a metrics line its structure"), "\(result)")
    }

    @Test func aPathWhoseFormatCannotBeToldIsExit2() async throws {
        let sandbox = try CLISandbox()
        try FileManager.default.createDirectory(at: sandbox.url("empty"), withIntermediateDirectories: true)
        let result = try await sandbox.run(["watch", "--no-follow", "empty"])
        #expect(result.status == 2, "\(result)")
        #expect(result.stderr.contains("cannot tell its format"), "\(result)")
        let missing = try await sandbox.run(["watch", "--no-follow", "nope.jsonl"])
        #expect(missing.status == 2, "\(missing)")
        #expect(missing.stderr.contains("nope.jsonl: "), "\(missing)")
    }
}

/// Appends to a file of the sandbox, as a trainer does.
func appendToFile(_ sandbox: CLISandbox, _ name: String, _ text: String) throws {
    let handle = try FileHandle(forWritingTo: sandbox.url(name))
    try handle.seekToEnd()
    try handle.write(contentsOf: Data(text.utf8))
    try handle.close()
}
