import Foundation
import Testing

/// `rlwatch replay`: output formats, storage, standard input, exit status.
@Suite struct ReplayCLITests {
    static let alertKeys: Set<String> = ["step", "detector", "severity", "message", "metric_values", "recommendation"]

    @Test func textReplayListsAlertsStoresTheRunAndDiagnosesIt() async throws {
        let sandbox = try CLISandbox()
        try sandbox.write("metrics.jsonl", MetricsFiles.nanAndSpike)

        let replay = try await sandbox.run(["replay", "metrics.jsonl"])
        #expect(replay.status == 0, "\(replay)")
        #expect(replay.stdout.contains("step 61  CRITICAL  loss_nan"), "\(replay)")
        #expect(replay.stdout.contains("step 61  CRITICAL  gradient_norm_spike"), "\(replay)")
        #expect(replay.stdout.contains("Recommendation: "), "\(replay)")
        let summary = try #require(replay.stdoutLines.last.map(String.init), "\(replay)")
        let match = try #require(
            summary.wholeMatch(
                of: /Replayed 61 steps as run (\S+): 2 alerts delivered \(2 critical, 0 warning\), 0 suppressed\./),
            "\(replay)")
        let runID = String(match.1)
        #expect(sandbox.exists("rlwatch_logs/metrics.db"))

        let runs = try await sandbox.run(["runs"])
        #expect(runs.status == 0, "\(runs)")
        let row = try #require(runs.stdoutLines.first { $0.hasPrefix(runID) }, "\(runs)")
        #expect(row.contains("61") && row.hasSuffix("critical"), "\(runs)")

        let diagnose = try await sandbox.run(["diagnose", "--run-id", runID, "--format", "json"])
        #expect(diagnose.status == 0, "\(diagnose)")
        let report = try jsonObject(diagnose.stdout)
        #expect(report["run_id"] as? String == runID)
        #expect(report["health"] as? String == "critical")
        #expect(report["total_steps"] as? Int == 61)
        let alerts = try #require(report["alerts"] as? [[String: Any]])
        #expect(Set(detectorSeverities(alerts)) == ["loss_nan/critical", "gradient_norm_spike/critical"])
        #expect(report["first_critical_step"] as? Int == 61)
        #expect(report["last_healthy_step"] as? Int == 60)
        let loss = try #require(report["loss_summary"] as? [String: Any])
        #expect(loss["count"] as? Int == 61)
        #expect(loss["non_finite"] as? Int == 1)
    }

    @Test func jsonlPrintsOneObjectPerDeliveredAlertAndStoresNothing() async throws {
        let sandbox = try CLISandbox()
        try sandbox.write("metrics.jsonl", MetricsFiles.nanAndSpike)

        let result = try await sandbox.run(["replay", "--format", "jsonl", "--no-store", "metrics.jsonl"])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.hasSuffix("\n"), "\(result)")
        #expect(!result.stdout.contains("\n\n") && !result.stdout.hasPrefix("\n"), "blank line on stdout: \(result)")
        let alerts = try jsonLines(result.stdout)
        #expect(detectorSeverities(alerts) == ["loss_nan/critical", "gradient_norm_spike/critical"], "\(result)")
        for alert in alerts {
            #expect(Set(alert.keys) == Self.alertKeys, "\(alert)")
            #expect(alert["step"] as? Int == 61)
            #expect((alert["message"] as? String)?.isEmpty == false)
            #expect((alert["recommendation"] as? String)?.isEmpty == false)
            #expect(alert["metric_values"] is [String: Any])
        }
        let lossNaN = try #require(alerts.first { $0["detector"] as? String == "loss_nan" })
        let values = try #require(lossNaN["metric_values"] as? [String: Any])
        #expect(values["loss"] as? String == "NaN", "\(values)")
        let spike = try #require(alerts.first { $0["detector"] as? String == "gradient_norm_spike" })
        #expect((spike["metric_values"] as? [String: Any])?["grad_norm"] as? Double == 150)

        #expect(!sandbox.exists("rlwatch_logs"), "--no-store created the log dir")

        // The same count as the text summary reports as delivered.
        let text = try await sandbox.run(["replay", "--no-store", "metrics.jsonl"])
        #expect(text.stdout.contains(": 2 alerts delivered"), "\(text)")
    }

    @Test func jsonlWithNoAlertsPrintsNothing() async throws {
        let sandbox = try CLISandbox()
        try sandbox.write("healthy.jsonl", MetricsFiles.healthy)
        let result = try await sandbox.run(["replay", "--format", "jsonl", "--no-store", "healthy.jsonl"])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.isEmpty, "\(result)")
    }

    @Test func standardInputGivesTheSameOutputAsTheFile() async throws {
        let sandbox = try CLISandbox()
        try sandbox.write("metrics.jsonl", MetricsFiles.nanAndSpike)
        let fromFile = try await sandbox.run(["replay", "--format", "jsonl", "--no-store", "metrics.jsonl"])
        let fromStdin = try await sandbox.run(
            ["replay", "-", "--format", "jsonl", "--no-store"], stdin: MetricsFiles.nanAndSpike)
        #expect(fromFile.status == 0, "\(fromFile)")
        #expect(fromStdin.status == 0, "\(fromStdin)")
        #expect(!fromFile.stdout.isEmpty)
        #expect(fromStdin.stdout == fromFile.stdout, "\(fromStdin)\n\(fromFile)")
    }

    @Test func severalFilesAreReplayedInOrderAsOneRun() async throws {
        let sandbox = try CLISandbox()
        let lines = MetricsFiles.nanAndSpike.split(separator: "\n")
        try sandbox.write("part1.jsonl", lines.prefix(40).joined(separator: "\n") + "\n")
        try sandbox.write("part2.jsonl", lines.dropFirst(40).joined(separator: "\n") + "\n")
        try sandbox.write("all.jsonl", MetricsFiles.nanAndSpike)
        let whole = try await sandbox.run(["replay", "--format", "jsonl", "--no-store", "all.jsonl"])
        let parts = try await sandbox.run(
            ["replay", "--format", "jsonl", "--run-id", "parts", "part1.jsonl", "part2.jsonl"])
        #expect(parts.status == 0, "\(parts)")
        #expect(parts.stdout == whole.stdout, "\(parts)\n\(whole)")
        let diagnose = try await sandbox.run(["diagnose", "--run-id", "parts", "--format", "json"])
        #expect(try jsonObject(diagnose.stdout)["total_steps"] as? Int == 61, "\(diagnose)")
    }

    // MARK: - --fail-on

    enum Input: String, Sendable, CaseIterable {
        case critical, warningsOnly, healthy

        var contents: String {
            switch self {
            case .critical: MetricsFiles.nanAndSpike
            case .warningsOnly: MetricsFiles.warningsOnly
            case .healthy: MetricsFiles.healthy
            }
        }
    }

    struct FailOnCase: Sendable, CustomTestStringConvertible {
        var input: Input
        var failOn: String?
        var expectedStatus: Int32
        var testDescription: String { "\(input) --fail-on \(failOn ?? "(default)") → \(expectedStatus)" }
    }

    static let failOnCases: [FailOnCase] = [
        FailOnCase(input: .critical, failOn: "critical", expectedStatus: 1),
        FailOnCase(input: .critical, failOn: "warning", expectedStatus: 1),
        FailOnCase(input: .critical, failOn: "never", expectedStatus: 0),
        FailOnCase(input: .critical, failOn: nil, expectedStatus: 0),
        FailOnCase(input: .warningsOnly, failOn: "warning", expectedStatus: 1),
        FailOnCase(input: .warningsOnly, failOn: "critical", expectedStatus: 0),
        FailOnCase(input: .warningsOnly, failOn: nil, expectedStatus: 0),
        FailOnCase(input: .healthy, failOn: "warning", expectedStatus: 0),
    ]

    @Test(arguments: failOnCases)
    func failOnSetsTheExitStatus(_ testCase: FailOnCase) async throws {
        let sandbox = try CLISandbox()
        try sandbox.write("metrics.jsonl", testCase.input.contents)
        var arguments = ["replay", "--no-store", "metrics.jsonl"]
        if let failOn = testCase.failOn { arguments += ["--fail-on", failOn] }
        let result = try await sandbox.run(arguments)
        #expect(result.exited && result.status == testCase.expectedStatus, "\(result)")
        // The input really has the severities the case is named for.
        switch testCase.input {
        case .critical: #expect(result.stdout.contains("CRITICAL"), "\(result)")
        case .warningsOnly:
            #expect(result.stdout.contains("WARNING  entropy_collapse"), "\(result)")
            #expect(!result.stdout.contains("CRITICAL"), "\(result)")
        case .healthy: #expect(result.stdout.contains(": 0 alerts delivered"), "\(result)")
        }
    }
}

@Suite struct ReplayRunIDReuseTests {
    @Test func replayingIntoAnExistingRunIsRefusedAndUsageErrorsExit2() async throws {
        let sandbox = try CLISandbox()
        try sandbox.write("a.jsonl", (1...10).map { #"{"step": \#($0), "loss": 0.3}"# }.joined(separator: "\n") + "\n")
        let first = try await sandbox.run(["replay", "--run-id", "dup", "a.jsonl"])
        #expect(first.status == 0)
        let second = try await sandbox.run(["replay", "--run-id", "dup", "a.jsonl"])
        #expect(second.status == 2)
        #expect(second.stderr.contains("run dup already exists"))
        let runs = try await sandbox.run(["runs"])
        #expect(runs.stdout.contains("dup"))
        let usage = try await sandbox.run(["replay", "--fail-on", "sometimes", "a.jsonl"])
        #expect(usage.status == 2)
        #expect(usage.stderr.contains("fail-on"))
    }
}
