import Foundation
import RLWatchCore

/// The golden traces exported from rlwatch 0.5.1's test generators (`Tests/Fixtures/golden-traces.json`).
public struct GoldenTrace: Sendable {
    public var name: String
    public var steps: [MetricStep]
    /// The (detector, severity) set 0.5.1's test asserts.
    public var expectedSet: Set<DetectorSeverity>
    /// What 0.5.1 actually delivered: (step, detector, severity).
    public var observedPersisted: [(step: Int, detector: DetectorID, severity: Severity)]
}

/// A (detector, severity) pair, the unit golden expectations are written in.
public struct DetectorSeverity: Hashable, Sendable, CustomStringConvertible {
    public var detector: DetectorID
    public var severity: Severity
    public init(_ detector: DetectorID, _ severity: Severity) {
        self.detector = detector
        self.severity = severity
    }
    public var description: String { "\(detector)/\(severity)" }
}

public enum GoldenTraces {
    public struct LoadError: Error, CustomStringConvertible {
        public var description: String
    }

    /// The `replay_config` section of the golden file as YAML-style nested dictionaries.
    public static func load() throws -> (replayConfig: [String: Any], traces: [GoldenTrace]) {
        let url = TestFixtures.goldenTraces
        let data = try Data(contentsOf: url)
        guard let root = try JSONSerialization.jsonObject(with: data) as? [String: Any],
            let fixtures = root["fixtures"] as? [[String: Any]],
            let replayConfig = root["replay_config"] as? [String: Any]
        else { throw LoadError(description: "unexpected layout in \(url.path)") }
        var traces: [GoldenTrace] = []
        for fixture in fixtures {
            guard let name = fixture["name"] as? String, let columns = fixture["columns"] as? [String],
                let rows = fixture["rows"] as? [[Any]]
            else { throw LoadError(description: "fixture without name/columns/rows") }
            var steps: [MetricStep] = []
            for row in rows {
                var step = MetricStep(step: 0)
                for (column, cell) in zip(columns, row) {
                    let value: Double? =
                        (cell as? NSNumber)?.doubleValue ?? ((cell as? String) == "NaN" ? .nan : nil)
                    if column == "step" {
                        step.step = Int(value ?? 0)
                    } else if let metric = MetricName(rawValue: column) {
                        step[metric] = value
                    }
                }
                steps.append(step)
            }
            let expected = (fixture["expected_set"] as? [[String]] ?? []).map {
                DetectorSeverity(DetectorID($0[0]), Severity(rawValue: $0[1]) ?? .warning)
            }
            let observed = (fixture["observed_persisted"] as? [[Any]] ?? []).map {
                (
                    step: ($0[0] as? NSNumber)?.intValue ?? -1, detector: DetectorID($0[1] as? String ?? ""),
                    severity: Severity(rawValue: $0[2] as? String ?? "") ?? .warning
                )
            }
            traces.append(
                GoldenTrace(name: name, steps: steps, expectedSet: Set(expected), observedPersisted: observed))
        }
        return (replayConfig, traces)
    }

    /// The golden file's `replay_config` applied to the defaults through the same validation as a YAML
    /// file or an API override.
    public static func replayConfig() throws -> RLWatchConfig {
        let url = TestFixtures.goldenTraces
        struct File: Decodable { var replay_config: [String: ConfigValue] }
        let file = try JSONDecoder().decode(File.self, from: Data(contentsOf: url))
        return try RLWatchConfig().applying(overrides: file.replay_config)
    }

    /// A trace as metrics JSONL lines (what `rlwatch replay` reads); NaN is written as the string "NaN".
    public static func jsonl(_ trace: GoldenTrace) -> String {
        trace.steps.map { step in
            var members: [(String, JSONValue)] = [("step", .int(step.step))]
            for metric in MetricName.allCases {
                if let value = step[metric] { members.append((metric.rawValue, .double(value))) }
            }
            return JSONValue.object(members).serialized()
        }.joined(separator: "\n") + "\n"
    }
}
