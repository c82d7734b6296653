import RLWatchCore
import RLWatchIngest

/// `rlwatch watch --explain`: which logged key feeds which metric, and which detectors (or checks of a
/// detector) get no input from this log, with the usual reason, so a user knows what is and is not watched.
enum WatchExplanation {
    /// The note naming each metric's logged key: `metrics: entropy ← actor/entropy, …`.
    static func keyNote(_ coverage: WatchCoverage, keyMap: MetricKeyMap) -> String {
        "metrics: \(keyMap.describeSources(forKeys: coverage.keys.sorted()))"
    }

    /// The detectors that get input and those that do not, one line each after a heading (each detector's checks
    /// and the reasons for a missing input come from its ``DetectorDescriptor``).
    static func lines(_ coverage: WatchCoverage, config: RLWatchConfig) -> [String] {
        var watched: [String] = []
        var idle: [String] = []
        var disabled: [String] = []
        for descriptor in DetectorRegistry.descriptors {
            guard descriptor.enabled(in: config) else {
                disabled.append(descriptor.id.rawValue)
                continue
            }
            for input in descriptor.inputs {
                let name = input.check ?? descriptor.id.rawValue
                if let missing = input.missing(coverage) {
                    idle.append("\(name): \(missing)")
                } else {
                    watched.append("\(name) (\(input.name(coverage)))")
                }
            }
        }
        var lines = ["detectors, from the first \(coverage.steps) step\(coverage.steps == 1 ? "" : "s"):"]
        lines.append("  watching: " + (watched.isEmpty ? "nothing" : watched.joined(separator: ", ")))
        if !idle.isEmpty {
            lines.append("  no input:")
            lines += idle.map { "    \($0)" }
            lines.append(
                "  (a key your trainer logs under another name can be mapped in rlwatch.yaml: metrics: keys: {\"KEY\": METRIC})")
        }
        if !disabled.isEmpty { lines.append("  disabled in the config: " + disabled.joined(separator: ", ")) }
        return lines
    }
}
