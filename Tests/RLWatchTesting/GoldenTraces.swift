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

    /// The golden file's traces and its `replay_config` section (sections of scalar keys, like the YAML file).
    public static func load() throws -> (replayConfig: JSONValue, traces: [GoldenTrace]) {
        let url = TestFixtures.goldenTraces
        let root = try JSONReader.parse([UInt8](try Data(contentsOf: url)), mode: .strict)
        guard let fixtures = root["fixtures"]?.elements, let replayConfig = root["replay_config"] else {
            throw LoadError(description: "unexpected layout in \(url.path)")
        }
        var traces: [GoldenTrace] = []
        for fixture in fixtures {
            guard let name = fixture["name"]?.text, let columns = fixture["columns"]?.elements,
                let rows = fixture["rows"]?.elements
            else { throw LoadError(description: "fixture without name/columns/rows") }
            let steps = rows.map { row in
                var step = MetricStep(step: 0)
                for (column, cell) in zip(columns, row.elements ?? []) {
                    // NaN is written as the string "NaN", which `number` reads.
                    if column == "step" {
                        step.step = Int(cell.number ?? 0)
                    } else if let metric = column.text.flatMap(MetricName.init(rawValue:)) {
                        step[metric] = cell.number
                    }
                }
                return step
            }
            let expected = (fixture["expected_set"]?.elements ?? []).map {
                DetectorSeverity(DetectorID($0[0]?.text ?? ""), Severity(rawValue: $0[1]?.text ?? "") ?? .warning)
            }
            let observed = (fixture["observed_persisted"]?.elements ?? []).map {
                (
                    step: $0[0]?.integer ?? -1, detector: DetectorID($0[1]?.text ?? ""),
                    severity: Severity(rawValue: $0[2]?.text ?? "") ?? .warning
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
        try RLWatchConfig().applying(overrides: try load().replayConfig.members ?? [:])
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
