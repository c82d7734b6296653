import Foundation
import RLWatchTesting
import Testing

/// `rlwatch eval` on the committed real-run corpus: the regression gate CI runs on every change.
@Suite struct EvalCLITests {
    static let corpus = TestFixtures.directory.appendingPathComponent("RealRuns").path
    static let baseline = TestFixtures.directory.appendingPathComponent("RealRuns/eval-baseline.json").path

    @Test func theCorpusScoresAtLeastTheCommittedBaseline() async throws {
        let sandbox = try CLISandbox()
        let result = try await sandbox.run(["eval", Self.corpus, "--baseline", Self.baseline], timeout: .seconds(300))
        #expect(result.status == 0, "detection regressed below eval-baseline.json:\n\(result)")
        #expect(result.stdout.contains("\nscore: "), "\(result)")
        #expect(result.stdout.contains("by framework:"), "\(result)")
    }

    @Test func aHigherBaselineFailsTheGateAndSaysWhy() async throws {
        let sandbox = try CLISandbox()
        try sandbox.write("baseline.json", #"{"score": 100.0, "caught_on_time": 999, "false_alarms": 0}"#)
        let result = try await sandbox.run(
            ["eval", Self.corpus, "--baseline", "baseline.json", "--only", "verl-grpo-kl"], timeout: .seconds(300))
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr.contains("is below the baseline 100.00"), "\(result)")
    }

    @Test func jsonCoversEveryRunOfTheManifests() async throws {
        let sandbox = try CLISandbox()
        let result = try await sandbox.run(["eval", Self.corpus, "--format", "json"], timeout: .seconds(300))
        #expect(result.status == 0, "\(result)")
        let report = try jsonObject(result.stdout)
        let runs = try #require(report["runs"] as? [[String: Any]])
        let manifests = try FileManager.default.contentsOfDirectory(atPath: Self.corpus + "/manifest.d")
            .filter { $0.hasSuffix(".yaml") }
        var ids = 0
        for manifest in manifests {
            let text = try String(contentsOfFile: Self.corpus + "/manifest.d/" + manifest, encoding: .utf8)
            ids += text.split(separator: "\n").filter { $0.hasPrefix("- id: ") }.count
        }
        #expect(runs.count == ids && ids >= 39)
        let total = try #require(report["total"] as? [String: Any])
        #expect(total["runs"] as? Int == ids)
        #expect((total["healthy_runs"] as? Int ?? 0) >= 10)
        #expect(report["score"] as? Double != nil)
    }

    @Test func aMalformedManifestExitsTwoNamingFileLineAndKey() async throws {
        let sandbox = try CLISandbox()
        try sandbox.write("corpus/logs/a.jsonl", "{\"step\": 1, \"kl\": 0.1}\n")
        try sandbox.write(
            "corpus/manifest.d/a.yaml",
            """
            - id: a
              file: logs/a.jsonl
              source: {repo: o/n, path: a.jsonl, commit: c}
              healthy: yes please
            """)
        let result = try await sandbox.run(["eval", "corpus"])
        #expect(result.status == 2, "\(result)")
        #expect(result.stderr.contains("corpus/manifest.d/a.yaml:4:12: [0] (a).healthy: expected true or false"), "\(result)")
    }
}
