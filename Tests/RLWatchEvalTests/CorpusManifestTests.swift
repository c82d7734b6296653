import Foundation
import RLWatchEval
import Testing

/// A corpus directory in a temporary folder, removed when the test ends.
final class TemporaryCorpus {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("rlwatch-corpus-\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: directory.appendingPathComponent("manifest.d"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(
            at: directory.appendingPathComponent("logs"), withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    var path: String { directory.path }

    func write(_ relative: String, _ text: String) throws {
        try text.write(to: directory.appendingPathComponent(relative), atomically: true, encoding: .utf8)
    }

    /// A JSONL log of `steps` rows with `kl` from `kl(step)`.
    func log(_ name: String, steps: ClosedRange<Int>, kl: (Int) -> Double) throws {
        let lines = steps.map { "{\"step\": \($0), \"kl\": \(kl($0)), \"reward\": 0.5}" }
        try write("logs/\(name)", lines.joined(separator: "\n") + "\n")
    }
}

@Suite struct CorpusManifestTests {
    static let entry = """
        - id: run-a
          file: logs/a.jsonl
          framework: trl
          source: {repo: owner/name, path: a.jsonl, commit: 0123456789abcdef0123456789abcdef01234567}
          events:
            - kind: kl_explosion
              onset: 40
              latest: 45
              end: 60
              detectors: [kl_explosion]
              reason: "KL 0.05 -> 8"
          healthy_stretches:
            - {from: 1, to: 35, reason: "KL 0.05"}

        """

    func corpus(_ manifest: String) throws -> TemporaryCorpus {
        let corpus = try TemporaryCorpus()
        try corpus.log("a.jsonl", steps: 1...60) { $0 < 40 ? 0.05 : 8 }
        try corpus.write("manifest.d/10-a.yaml", manifest)
        return corpus
    }

    @Test func aWellFormedEntryLoads() throws {
        let corpus = try corpus(Self.entry)
        let runs = try CorpusManifest.load(corpus.path)
        #expect(runs.count == 1)
        let run = try #require(runs.first)
        #expect(run.id == "run-a" && run.format == .jsonl && run.framework == "trl")
        #expect(run.events.first?.from == 40, "from defaults to the onset")
        #expect(run.events.first?.required == true, "required by default")
        #expect(run.healthyStretches == [StepStretch(from: 1, to: 35, reason: "KL 0.05")])
        #expect(run.location.hasSuffix("10-a.yaml:1"))
    }

    /// Each malformed manifest names the file, the line and the key at fault.
    static let malformed: [(String, String, String)] = [
        (entry.replacingOccurrences(of: "  framework: trl", with: "  framwork: trl"), ":3:3:", "[0].framwork: unknown key"),
        (entry.replacingOccurrences(of: "      onset: 40\n", with: ""), ":6:7:", "[0] (run-a).events[0].onset: missing"),
        (entry.replacingOccurrences(of: "onset: 40", with: "onset: forty"), ":7:14:", "events[0].onset: expected an integer step"),
        (entry.replacingOccurrences(of: "[kl_explosion]", with: "[kl_explosoin]"), ":10:19:", "detectors[0]: unknown detector"),
        (entry.replacingOccurrences(of: "latest: 45", with: "latest: 30"), ":6:7:", "expected from ≤ onset ≤ latest ≤ end"),
        (entry.replacingOccurrences(of: "logs/a.jsonl", with: "logs/missing.jsonl"), ":2:9:", "file: no such file"),
        (entry.replacingOccurrences(of: "to: 35", with: "to: 41"), ":13:7:", "overlaps the kl_explosion event's window"),
        (entry.replacingOccurrences(of: "  source: {repo: owner/name, path: a.jsonl, commit: 0123456789abcdef0123456789abcdef01234567}\n", with: ""), ":1:3:", "source: missing"),
        (entry + "  keys: {my_kl: kl_divergense}\n", ":14:17:", "keys.my_kl: unknown metric"),
        ("- id: x\n  file: [\n", ":1:1:", "not valid YAML"),
    ]

    @Test(arguments: malformed.indices)
    func malformedManifestsNameFileLineAndKey(index: Int) throws {
        let (yaml, position, message) = Self.malformed[index]
        let corpus = try corpus(yaml)
        do {
            _ = try CorpusManifest.load(corpus.path)
            Issue.record("no error for case \(index)")
        } catch let error as ManifestError {
            let text = error.description
            #expect(text.contains("manifest.d/10-a.yaml"), "\(text)")
            #expect(text.contains(position), "\(text)")
            #expect(text.contains(message), "\(text)")
        }
    }

    @Test func aliasesThatMultiplyAreRefused() throws {
        var lines = ["x0: &x0 [x, x, x, x, x, x, x, x, x]"]
        for level in 1..<7 {
            lines.append("x\(level): &x\(level) [" + Array(repeating: "*x\(level - 1)", count: 9).joined(separator: ",") + "]")
        }
        let corpus = try corpus(lines.joined(separator: "\n") + "\nruns: *x6\n")
        #expect {
            try CorpusManifest.load(corpus.path)
        } throws: { error in
            guard let error = error as? ManifestError else { return false }
            return error.file.hasSuffix("10-a.yaml") && error.line >= 1 && error.message.contains("aliases")
        }
    }

    @Test func duplicateIdsAcrossManifestsAreReported() throws {
        let corpus = try corpus(Self.entry)
        try corpus.write("manifest.d/20-b.yaml", Self.entry)
        #expect {
            try CorpusManifest.load(corpus.path)
        } throws: { error in
            (error as? ManifestError).map { $0.description.contains("duplicate run id \"run-a\"") && $0.file.hasSuffix("20-b.yaml") }
                == true
        }
    }

    @Test func aDirectoryWithoutAManifestSaysWhereItLooked() throws {
        let corpus = try TemporaryCorpus()
        #expect {
            try CorpusManifest.load(corpus.path)
        } throws: { error in
            (error as? ManifestError)?.description.contains("expected manifest.yaml or manifest.d/*.yaml") == true
        }
    }
}

/// The eval's other JSON inputs, read by the shared `JSONReader`: errors name the line and column.
@Suite struct EvalJSONInputTests {
    @Test func externalAlertsNameTheLineColumnAndKeyAtFault() throws {
        let corpus = try TemporaryCorpus()
        let path = corpus.directory.appendingPathComponent("alerts.jsonl").path
        let good = #"{"run": "a", "step": 12, "detector": "kl_explosion", "severity": "critical", "message": "m"}"#
        try corpus.write("alerts.jsonl", good + "\n\n" + #"{"run": "b", "step": 3.0, "detector": "nan_loss", "severity": "warning"}"# + "\n")
        let alerts = try CorpusEvaluator.externalAlerts(path)
        #expect(alerts["a"]?.first?.step == 12 && alerts["a"]?.first?.message == "m")
        #expect(alerts["b"]?.first?.step == 3, "a whole float is a step, as before")
        for (line, key, fragment) in [
            (#"{"run": "a", "step": 1, "detector": "d", "severity": "warning",}"#, "", ":1:64: not JSON"),
            (#"{"run": "a", "step": 1.5, "detector": "d", "severity": "warning"}"#, "step", ":2:1: step:"),
            (#"{"run": 1, "step": 1, "detector": "d", "severity": "warning"}"#, "run", ":2:1: run:"),
            (#"{"run": "a", "step": 1, "detector": "d", "severity": "fatal"}"#, "severity", ":2:1: severity:"),
            (#"[1]"#, "", ":2:1: not a JSON object"),
        ] {
            try corpus.write("alerts.jsonl", (fragment.hasPrefix(":1:") ? "" : good + "\n") + line + "\n")
            let error = try #require(throws: ManifestError.self) { try CorpusEvaluator.externalAlerts(path) }
            #expect(error.key == key && error.description.contains(fragment), "\(error)")
        }
    }

    @Test func aBaselineIsStrictJSONWithNumbers() throws {
        let corpus = try TemporaryCorpus()
        let path = corpus.directory.appendingPathComponent("baseline.json").path
        try corpus.write("baseline.json", #"{"score": 0.75, "caught_on_time": 3, "false_alarms": 1}"#)
        #expect(try EvalBaseline.load(path) == EvalBaseline(score: 0.75, caughtOnTime: 3, falseAlarms: 1))
        try corpus.write("baseline.json", "{\"score\": NaN,\n \"caught_on_time\": 3, \"false_alarms\": 1}")
        let token = try #require(throws: ManifestError.self) { try EvalBaseline.load(path) }
        #expect(token.line == 1 && token.column == 11, "\(token)")
        try corpus.write("baseline.json", #"{"score": "high", "caught_on_time": 3, "false_alarms": 1}"#)
        let type = try #require(throws: ManifestError.self) { try EvalBaseline.load(path) }
        #expect(type.key == "score", "\(type)")
    }
}
