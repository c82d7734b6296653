import Foundation
import Testing

/// What `rlwatch replay` accepts as input, and what it does with a malformed line.
@Suite struct ReplayInputCLITests {
    /// Metrics at top level, under "metrics" and under "data"; bare and string non-finite tokens; `null`;
    /// blank, whitespace-only and `#` lines. Cooldown 1 so every NaN/Inf episode is delivered.
    static let shapes = """
        # exported by a trainer
        {"step":1,"metrics":{"loss":0.5,"grad_norm":1.0}}

        {"step":2,"data":{"loss":0.5,"grad_norm":1.0}}
        {"step":3,"loss":null,"grad_norm":1.0}
        {"step":4,"metrics":{"loss":NaN}}
          
        {"step":5,"loss":0.5}
        {"step":6,"data":{"loss":0.5}}
        {"step":7,"metrics":{"loss":0.5}}
        {"step":8,"data":{"loss":"Infinity"}}
        {"step":9,"loss":0.5}
        {"step":10,"loss":0.5}
        {"step":11,"loss":0.5}
        # a comment in the middle
        {"step":12,"loss":-Infinity}
        {"step":13,"loss":0.5}
        {"step":14,"loss":0.5}
        {"step":15,"loss":0.5}
        {"step":16,"loss":"NaN"}
        {"step":17,"loss":0.5}
        {"step":18,"loss":0.5}
        {"step":19,"loss":0.5}
        {"step":20,"loss":Infinity}
        {"step":21,"loss":0.5}
        {"step":22,"loss":0.5}
        {"step":23,"loss":0.5}
        {"step":24,"data":{"loss":"-Infinity"}}

        """

    @Test func acceptsEveryDocumentedShape() async throws {
        let sandbox = try CLISandbox()
        try sandbox.write("rlwatch.yaml", "alerts:\n  cooldown_steps: 1\n")
        try sandbox.write("shapes.jsonl", Self.shapes)
        let result = try await sandbox.run(["replay", "--format", "jsonl", "--run-id", "shapes", "shapes.jsonl"])
        #expect(result.status == 0, "\(result)")
        let alerts = try jsonLines(result.stdout)
        #expect(alerts.map { $0["step"] as? Int } == [4, 8, 12, 16, 20, 24], "\(result)")
        #expect(Set(detectorSeverities(alerts)) == ["loss_nan/critical"], "\(result)")
        let losses = alerts.map { ($0["metric_values"] as? [String: Any])?["loss"] as? String }
        #expect(losses == ["NaN", "Infinity", "-Infinity", "NaN", "Infinity", "-Infinity"], "\(result)")

        // null = not logged: 24 steps, 23 losses, 6 of them non-finite; the grad norms under metrics/data count.
        let diagnose = try await sandbox.run(["diagnose", "--run-id", "shapes", "--format", "json"])
        let report = try jsonObject(diagnose.stdout)
        #expect(report["total_steps"] as? Int == 24, "\(diagnose)")
        let loss = try #require(report["loss_summary"] as? [String: Any], "\(diagnose)")
        #expect(loss["count"] as? Int == 23)
        #expect(loss["non_finite"] as? Int == 6)
        let gradNorm = try #require(report["grad_norm_summary"] as? [String: Any], "\(diagnose)")
        #expect(gradNorm["count"] as? Int == 3)
    }

    /// veRL's file logger: metric names with framework prefixes under "data"; a non-finite grad norm is a
    /// critical `gradient_norm_spike` on that step, reported under the canonical name.
    @Test func frameworkKeyNamesUnderDataMapToCanonicalMetrics() async throws {
        let sandbox = try CLISandbox()
        let lines = (1...40).map { step in
            let gradNorm = step == 30 ? "\"-Infinity\"" : "1.0"
            return "{\"step\":\(step),\"data\":{\"actor/grad_norm\":\(gradNorm),"
                + "\"actor/entropy\":2.0,\"actor/pg_loss\":0.1}}"
        }
        try sandbox.write("verl.jsonl", lines.joined(separator: "\n") + "\n")
        let result = try await sandbox.run(["replay", "--format", "jsonl", "--run-id", "verl", "verl.jsonl"])
        #expect(result.status == 0, "\(result)")
        let alerts = try jsonLines(result.stdout)
        #expect(detectorSeverities(alerts) == ["gradient_norm_spike/critical"], "\(result)")
        #expect(alerts.first?["step"] as? Int == 30)
        let values = try #require(alerts.first?["metric_values"] as? [String: Any], "\(result)")
        #expect(values["grad_norm"] as? String == "-Infinity", "\(values)")

        let report = try jsonObject(try await sandbox.run(["diagnose", "--run-id", "verl", "--format", "json"]).stdout)
        #expect((report["entropy_summary"] as? [String: Any])?["count"] as? Int == 40, "\(report)")
        #expect((report["grad_norm_summary"] as? [String: Any])?["non_finite"] as? Int == 1, "\(report)")
    }

    /// Line 5 is malformed; lines 1 and 4 are a comment and a blank line, so line numbers are physical.
    static let withBadLine = """
        # header
        {"step":1,"loss":0.5}
        {"step":2,"loss":0.5}

        {"step":3,"loss":
        {"step":4,"loss":NaN}
        {"step":5,"loss":0.5}

        """

    @Test func malformedLineExits2NamingFileAndLineAfterStoringWhatCameBefore() async throws {
        let sandbox = try CLISandbox()
        try sandbox.write("bad.jsonl", Self.withBadLine)
        let result = try await sandbox.run(["replay", "--run-id", "bad", "bad.jsonl"])
        #expect(result.exited && result.status == 2, "\(result)")
        #expect(result.stderr.contains("bad.jsonl:5"), "\(result)")
        #expect(!result.stdout.contains("loss_nan"), "a step after the bad line was judged: \(result)")

        let diagnose = try await sandbox.run(["diagnose", "--run-id", "bad", "--format", "json"])
        #expect(diagnose.status == 0, "\(diagnose)")
        #expect(try jsonObject(diagnose.stdout)["total_steps"] as? Int == 2, "\(diagnose)")
    }

    @Test func malformedLineInALaterFileNamesThatFile() async throws {
        let sandbox = try CLISandbox()
        try sandbox.write("first.jsonl", MetricsFiles.healthy)
        try sandbox.write("second.jsonl", "{\"step\":81,\"loss\":0.5}\nnot json\n")
        let result = try await sandbox.run(["replay", "--no-store", "first.jsonl", "second.jsonl"])
        #expect(result.status == 2, "\(result)")
        #expect(result.stderr.contains("second.jsonl:2"), "\(result)")
    }

    @Test func skipBadLinesWarnsAndGoesOn() async throws {
        let sandbox = try CLISandbox()
        try sandbox.write("bad.jsonl", Self.withBadLine)
        let result = try await sandbox.run(["replay", "--skip-bad-lines", "--run-id", "skipped", "bad.jsonl"])
        #expect(result.status == 0, "\(result)")
        let warning = try #require(
            result.stderr.split(separator: "\n").first { $0.contains("bad.jsonl:5") }, "\(result)")
        #expect(warning.contains("warning"), "\(result)")
        #expect(result.stdout.contains("step 4  CRITICAL  loss_nan"), "\(result)")
        #expect(result.stdout.contains("Replayed 4 steps"), "\(result)")

        let diagnose = try await sandbox.run(["diagnose", "--run-id", "skipped", "--format", "json"])
        #expect(try jsonObject(diagnose.stdout)["total_steps"] as? Int == 4, "\(diagnose)")
    }

    @Test func missingInputFileIsBadInput() async throws {
        let sandbox = try CLISandbox()
        let result = try await sandbox.run(["replay", "--no-store", "nowhere.jsonl"])
        #expect(result.exited && result.status == 2, "\(result)")
        #expect(result.stderr.contains("nowhere.jsonl"), "\(result)")
    }

    /// Issue 20: steps near ±2^63 trapped the alert policy and the detectors (`replay` died with SIGILL), and the
    /// stored alerts then trapped `diagnose`. Both ends of the range in one file, a NaN loss at each.
    @Test func stepsAtBothEndsOfTheIntegerRange() async throws {
        let sandbox = try CLISandbox()
        let numbers = [Int.min, Int.min + 1, Int.min + 2, -1, 0, 1, Int.max - 2, Int.max - 1, Int.max]
        let lines = numbers.enumerated().map { index, number in
            let loss = number == Int.min || number == Int.max ? "NaN" : "0.5"
            return MetricsFiles.line(
                step: number,
                [
                    "loss": loss, "grad_norm": "1.0", "kl_divergence": "\(0.01 * Double(index + 1))",
                    "reward_mean": "\(0.1 * Double(index))", "reward_std": "0.5",
                ])
        }
        try sandbox.write("extreme.jsonl", lines.joined(separator: "\n") + "\n")
        let result = try await sandbox.run(["replay", "--format", "jsonl", "--run-id", "extreme", "extreme.jsonl"])
        #expect(result.status == 0, "\(result)")
        let alerts = try jsonLines(result.stdout)
        #expect(alerts.filter { $0["detector"] as? String == "loss_nan" }.map { $0["step"] as? Int } == [Int.min, Int.max], "\(result)")

        let diagnose = try await sandbox.run(["diagnose", "--run-id", "extreme", "--format", "json"])
        #expect(diagnose.status == 0, "\(diagnose)")
        let report = try jsonObject(diagnose.stdout)
        #expect(report["total_steps"] as? Int == numbers.count, "\(diagnose)")
        #expect(report["health"] as? String == "critical", "\(diagnose)")
        let text = try await sandbox.run(["diagnose", "--run-id", "extreme"])
        #expect(text.status == 0 && text.stdout.contains("\(Int.max)"), "\(text)")
    }
}
