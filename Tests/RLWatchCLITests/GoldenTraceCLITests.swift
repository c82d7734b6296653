import Foundation
import RLWatchCore
import RLWatchTesting
import Testing

/// rlwatch 0.5.1's golden traces through the real binary: written as JSONL with an `rlwatch.yaml` made from the
/// file's `replay_config`, replayed with `--format jsonl --no-store`. The delivered (detector, severity) set must
/// match the golden expectations, and every delivered (step, detector, severity) must match an in-process replay
/// with `GoldenTraces.replayConfig()`. Since the default config fires on other steps for some traces (see
/// ``goldenConfigChangesTheAlerts()``), that proves the YAML config path works end to end.
@Suite struct GoldenTraceCLITests {
    /// One trace, ready to write: Sendable, unlike the parsed JSON.
    struct Trace: Sendable, CustomTestStringConvertible {
        var name: String
        var jsonl: String
        var expected: Set<String>
        /// "step detector/severity" of each alert an in-process replay with the golden config delivers.
        var inProcess: [String]
        /// The same with the default config.
        var inProcessDefault: [String]
        var testDescription: String { name }
    }

    /// Mirrors `GoldenTraceTests.changedExpectations` in `Tests/RLWatchCoreTests/GoldenTraceTests.swift`
    /// (0.5.1's false-positive warnings at step 16 are gone; the real spike is one critical episode).
    static let changedExpectations: [String: Set<DetectorSeverity>] = [
        "kl_spike": [DetectorSeverity(.klExplosion, .critical)],
        "gradient_norm_spike": [DetectorSeverity(.gradientNormSpike, .critical)],
    ]

    static let goldenFile = TestFixtures.goldenTraces

    static let loaded: Result<(yaml: String, traces: [Trace]), CLIHarnessError> = {
        do { return .success(try load()) } catch { return .failure(CLIHarnessError(description: "\(error)")) }
    }()

    static let traces: [Trace] = (try? loaded.get().traces) ?? []

    @Test func allSevenTracesLoad() throws {
        let loaded = try Self.loaded.get()
        #expect(loaded.traces.count == 7)
        #expect(loaded.yaml.contains("cooldown_steps: 10"), "\(loaded.yaml)")
    }

    @Test(arguments: traces)
    func replayThroughTheBinaryProducesTheExpectedSet(_ trace: Trace) async throws {
        let yaml = try Self.loaded.get().yaml
        let sandbox = try CLISandbox()
        try sandbox.write("rlwatch.yaml", yaml)
        try sandbox.write("\(trace.name).jsonl", trace.jsonl)
        let result = try await sandbox.run(["replay", "--format", "jsonl", "--no-store", "\(trace.name).jsonl"])
        #expect(result.status == 0, "\(result)")
        let alerts = try jsonLines(result.stdout)
        #expect(Set(detectorSeverities(alerts)) == trace.expected, "\(trace.name): \(result)")
        #expect(alertSteps(alerts) == trace.inProcess, "\(trace.name): \(result)")
        #expect(!sandbox.exists("rlwatch_logs"))
    }

    /// Guards the test above against passing with the YAML ignored: the golden config must change what fires.
    @Test func goldenConfigChangesTheAlerts() throws {
        let changed = Self.traces.filter { $0.inProcess != $0.inProcessDefault }.map(\.name)
        #expect(changed.contains("entropy_collapse"), "\(changed)")
        #expect(changed.contains("reward_mean_slow_drift"), "\(changed)")
    }

    private func alertSteps(_ alerts: [[String: Any]]) -> [String] {
        zip(alerts.map { $0["step"] as? Int ?? -1 }, detectorSeverities(alerts)).map { "\($0) \($1)" }
    }

    private static func replay(_ steps: [MetricStep], config: RLWatchConfig) -> [String] {
        let analyzer = RunAnalyzer(config: config)
        return steps.flatMap { step in
            analyzer.process(step).delivered.map { "\($0.step) \(DetectorSeverity($0.detector, $0.severity))" }
        }
    }

    private static func load() throws -> (yaml: String, traces: [Trace]) {
        // Expectations from the test kit; the rows straight from the file, so the CLI parses their exact text.
        let golden = try GoldenTraces.load()
        let goldenConfig = try GoldenTraces.replayConfig()
        let root = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: goldenFile)) as? [String: Any])
        let fixtures = try #require(root["fixtures"] as? [[String: Any]])
        var traces: [Trace] = []
        for fixture in fixtures {
            let name = try #require(fixture["name"] as? String)
            let columns = try #require(fixture["columns"] as? [String])
            let rows = try #require(fixture["rows"] as? [[Any]])
            let kit = try #require(golden.traces.first { $0.name == name })
            let expected = changedExpectations[name] ?? kit.expectedSet
            let lines = try rows.map { row in
                let fields = try zip(columns, row).map { column, cell in
                    "\"\(column)\":\(try jsonText(cell, column: column))"
                }
                return "{" + fields.joined(separator: ",") + "}"
            }
            traces.append(
                Trace(
                    name: name, jsonl: lines.joined(separator: "\n") + "\n", expected: Set(expected.map(\.description)),
                    inProcess: replay(kit.steps, config: goldenConfig),
                    inProcessDefault: replay(kit.steps, config: RLWatchConfig())))
        }
        return (yaml(try #require(root["replay_config"] as? [String: Any])), traces)
    }

    /// A cell as JSON text: the step as an integer, numbers in Swift's shortest round-trip form, NaN as "NaN".
    private static func jsonText(_ cell: Any, column: String) throws -> String {
        if let text = cell as? String { return "\"\(text)\"" }
        let number = try #require(cell as? NSNumber, "\(column): \(cell)")
        return column == "step" ? "\(number.intValue)" : "\(number.doubleValue)"
    }

    /// `replay_config` (sections of scalar keys) as YAML.
    private static func yaml(_ config: [String: Any]) -> String {
        var lines = ["# golden-traces.json replay_config"]
        for section in config.keys.sorted() {
            lines.append("\(section):")
            for (key, value) in (config[section] as? [String: Any] ?? [:]).sorted(by: { $0.key < $1.key }) {
                lines.append("  \(key): \(yamlScalar(value))")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func yamlScalar(_ value: Any) -> String {
        if let text = value as? String { return text }
        if let number = value as? NSNumber {
            let double = number.doubleValue
            if let integer = Int(exactly: double) { return "\(integer)" }
            return "\(double)"
        }
        return "\(value)"
    }
}
