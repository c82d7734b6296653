import RLWatchCore
import RLWatchIngest

/// `rlwatch watch --explain`: which logged key feeds which metric, and which detectors (or checks of a
/// detector) get no input from this log, with the usual reason, so a user knows what is and is not watched.
enum WatchExplanation {
    /// The note naming each metric's logged key: `metrics: entropy ← actor/entropy, …`.
    static func keyNote(_ coverage: WatchCoverage, keyMap: MetricKeyMap) -> String {
        "metrics: \(keyMap.describeSources(forKeys: coverage.keys.sorted()))"
    }

    /// The detectors that get input and those that do not, one line each after a heading.
    static func lines(_ coverage: WatchCoverage, config: RLWatchConfig) -> [String] {
        let flavour = Flavour(keys: coverage.keys)
        var watched: [String] = []
        var idle: [String] = []
        var disabled: [String] = []
        for (detector, enabled) in enabledFlags(config) {
            guard enabled else {
                disabled.append(detector.rawValue)
                continue
            }
            for check in checks(of: detector, coverage, flavour) {
                if let missing = check.missing {
                    idle.append("\(check.name): \(missing)")
                } else {
                    watched.append("\(check.name) (\(check.input))")
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

    /// Which framework the keys look like, for the reasons given.
    private struct Flavour {
        var trl = false
        var verl = false
        var openRLHF = false

        init(keys: Set<String>) {
            for key in keys {
                if key.hasPrefix("actor/") || key.hasPrefix("critic/") || key.hasPrefix("response_length/") {
                    verl = true
                } else if key == "frac_reward_zero_std" || key.hasPrefix("completions/") || key.hasPrefix("rewards/")
                    || key.hasPrefix("objective/")
                {
                    trl = true
                } else if key == "actor_lr" || key == "policy_loss" || key == "group_reward_std" {
                    openRLHF = true
                }
            }
        }
    }

    private struct Check {
        var name: String
        var input: String
        /// Why it gets no input; nil when it does.
        var missing: String?
    }

    private static func enabledFlags(_ config: RLWatchConfig) -> [(DetectorID, Bool)] {
        [
            (.entropyCollapse, config.entropyCollapse.enabled), (.klExplosion, config.klExplosion.enabled),
            (.rewardHacking, config.rewardHacking.enabled), (.advantageVariance, config.advantageVariance.enabled),
            (.lossNaN, config.lossNaN.enabled), (.gradientNormSpike, config.gradientNormSpike.enabled),
            (.rewardMeanDrift, config.rewardMeanDrift.enabled), (.entropyExplosion, config.entropyExplosion.enabled),
            (.learningSignalDead, config.learningSignalDead.enabled),
            (.lengthTruncation, config.lengthTruncation.enabled),
        ]
    }

    private static func checks(of detector: DetectorID, _ coverage: WatchCoverage, _ flavour: Flavour) -> [Check] {
        let has = { (metric: MetricName) in coverage.metrics.contains(metric) }
        func single(_ metric: MetricName, _ why: String) -> [Check] {
            [Check(name: detector.rawValue, input: metric.rawValue, missing: has(metric) ? nil : why)]
        }
        switch detector {
        case .entropyCollapse, .entropyExplosion:
            return single(.entropy, "no entropy logged")
        case .klExplosion:
            var why = "no KL logged"
            if flavour.trl { why += " (TRL logs `kl` only when beta != 0; GRPO's default beta is 0)" }
            return single(.klDivergence, why)
        case .rewardHacking:
            let rewards = "per-sample rewards"
            var noStd = "no reward_std and no per-sample rewards"
            if flavour.verl { noStd += " (veRL logs critic/score/mean, max and min, no std)" }
            return [
                Check(
                    name: "reward_hacking variance check", input: coverage.metrics.contains(.rewardStd) ? "reward_std" : rewards,
                    missing: coverage.rewardStd ? nil : noStd),
                Check(
                    name: "reward_hacking bimodality check", input: rewards,
                    missing: coverage.perSampleRewards
                        ? nil : "no per-sample \"rewards\" array (trainers do not log one by default)"),
                Check(
                    name: "reward_hacking saturation check", input: "reward_mean, reward_std, kl_divergence",
                    missing: coverage.rewardMean && coverage.rewardStd && has(.klDivergence)
                        ? nil : "needs reward mean, reward std and KL together"),
            ]
        case .advantageVariance:
            var why = "no advantage_std logged"
            if flavour.verl { why += " (veRL logs critic/advantages/mean, max and min, no std)" }
            if flavour.trl { why += " (TRL does not log one)" }
            return single(.advantageStd, why)
        case .lossNaN:
            return single(.loss, "no loss logged")
        case .gradientNormSpike:
            return single(.gradNorm, "no grad_norm logged")
        case .rewardMeanDrift:
            return [
                Check(
                    name: detector.rawValue, input: "reward_mean",
                    missing: coverage.rewardMean ? nil : "no reward mean logged")
            ]
        case .learningSignalDead:
            if coverage.fracRewardZeroStd {
                return [Check(name: detector.rawValue, input: "frac_reward_zero_std", missing: nil)]
            }
            return [
                Check(
                    name: detector.rawValue, input: "reward_std with grad_norm",
                    missing: coverage.rewardStd && has(.gradNorm)
                        ? nil : "no frac_reward_zero_std, and no reward_std with grad_norm")
            ]
        case .lengthTruncation:
            return [
                Check(
                    name: detector.rawValue, input: "clipped ratio",
                    missing: coverage.clippedRatio
                        ? nil : "no completions/clipped_ratio or response_length/clip_ratio logged")
            ]
        default:
            return []
        }
    }
}
