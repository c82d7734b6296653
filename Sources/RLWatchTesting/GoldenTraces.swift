import Foundation
import RLWatchCore

/// The golden traces exported from rlwatch 0.5.1's test generators (`shared/fixtures/golden-traces.json`).
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

    /// `shared/` beside the package checkout, found from this source file's path.
    public static var sharedDirectory: URL {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("shared")
    }

    public static var fixturesDirectory: URL { sharedDirectory.appendingPathComponent("fixtures") }

    /// The `replay_config` section of the golden file as YAML-style nested dictionaries.
    public static func load() throws -> (replayConfig: [String: Any], traces: [GoldenTrace]) {
        let url = fixturesDirectory.appendingPathComponent("golden-traces.json")
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

    /// The golden `replay_config` applied to a default config (detector sections and alerts only).
    public static func replayConfig() -> RLWatchConfig {
        var config = RLWatchConfig()
        config.entropyCollapse.warmupSteps = 5
        config.entropyCollapse.consecutiveSteps = 20
        config.klExplosion.warmupSteps = 5
        config.klExplosion.rollingWindow = 50
        config.rewardHacking.warmupSteps = 5
        config.rewardHacking.baselineWindow = 30
        config.advantageVariance.warmupSteps = 5
        config.gradientNormSpike.warmupSteps = 5
        config.gradientNormSpike.rollingWindow = 30
        config.gradientNormSpike.baselineMode = .frozen
        config.rewardMeanDrift.warmupSteps = 5
        config.rewardMeanDrift.consecutiveSteps = 20
        config.rewardMeanDrift.minDriftMagnitude = 0.05
        config.alerts.cooldownSteps = 10
        config.alerts.maxAlertsPerRun = 1000
        return config
    }
}
