import RLWatchCore

/// Which logged key feeds which rlwatch metric: ``FrameworkKeyMap``'s built-in aliases with a user's own
/// mappings (`metrics.keys` in `rlwatch.yaml`) on top.
///
/// A user's mapping beats every built-in alias: mapped to a canonical metric, its key wins over the
/// canonical name and every framework alias of that metric on the same step; mapped to a metric that
/// detectors read from the extras (`frac_reward_zero_std`, `completions/clipped_ratio`,
/// `completions/mean_length`), the value is kept in ``MetricStep/extras`` under that name; mapped to the
/// empty string (`null` in the YAML), a built-in alias is switched off and the key is kept as an extra
/// under its own name. The map is built once per reader; the parser's speed does not depend on it.
public struct MetricKeyMap: Sendable {
    /// What a logged key turns into.
    public enum Target: Sendable, Hashable {
        /// A canonical metric.
        case metric(FrameworkKeyMap.Binding)
        /// An extra kept under another name: a user's mapping to a metric detectors read from the extras.
        case renamed(String)
        /// An extra kept under its own key: a user's mapping that switches a built-in alias off.
        case unmapped
    }

    /// The built-in aliases only.
    public static let builtIn = MetricKeyMap()

    /// Every key with a target; a key that is not here is kept in the extras under its own name.
    public let targets: [String: Target]
    /// The user's mappings as given: logged key → metric name ("" switches a built-in alias off).
    public let overrides: [String: String]

    /// The built-in aliases with `overrides` on top.
    ///
    /// - Parameter overrides: logged key → canonical metric name (``MetricName``), the name of an extra that
    ///   a detector reads, or "" to keep the key as an extra under its own name. Names are validated by the
    ///   configuration (`metrics.keys`); any other name is treated as an extra's name.
    public init(overrides: [String: String] = [:]) {
        var targets = FrameworkKeyMap.bindings.mapValues(Target.metric)
        for (key, name) in overrides {
            if name.isEmpty {
                targets[key] = .unmapped
            } else if let metric = MetricName(rawValue: name) {
                targets[key] = .metric(FrameworkKeyMap.Binding(metric: metric, priority: 0, transform: .identity))
            } else {
                targets[key] = .renamed(name)
            }
        }
        self.targets = targets
        self.overrides = overrides
    }

    /// The canonical metric a logged key stands for, or `nil` for a key that goes into the extras.
    public func binding(forKey key: String) -> FrameworkKeyMap.Binding? {
        if case .metric(let binding)? = targets[key] { return binding }
        return nil
    }

    /// Which logged key feeds each metric, given the keys a step carries.
    ///
    /// The priority rule of ``makeStep(step:values:rewards:)``: a user's mapping first, then the earliest
    /// built-in alias. Extras a user renamed are listed after the canonical metrics.
    /// - Parameter keys: The keys logged for one step (or a few steps together).
    /// - Returns: Each fed metric's name (``MetricName`` raw value, or the extra's name) and its winning key.
    public func sources(forKeys keys: some Sequence<String>) -> [(metric: String, key: String)] {
        var best: [MetricName: (priority: Int, key: String)] = [:]
        var renamed: [String: String] = [:]
        for key in keys {
            switch targets[key] {
            case .metric(let binding)?:
                if let current = best[binding.metric],
                    (current.priority, current.key) <= (binding.priority, key)
                {
                    continue
                }
                best[binding.metric] = (binding.priority, key)
            case .renamed(let name)?:
                if let current = renamed[name], current <= key { continue }
                renamed[name] = key
            case .unmapped?, nil:
                continue
            }
        }
        let metrics = MetricName.allCases.compactMap { metric in best[metric].map { (metric.rawValue, $0.key) } }
        return metrics + renamed.keys.sorted().compactMap { name in renamed[name].map { (name, $0) } }
    }

    /// A one-line account of which logged key feeds each metric: `kl_divergence ← actor/kl_loss, …`.
    ///
    /// A policy-update KL used as the fallback is marked as such, a user's mapping is marked `(rlwatch.yaml)`,
    /// and a step with no known key says so.
    public func describeSources(forKeys keys: some Sequence<String>) -> String {
        let chosen = sources(forKeys: keys)
        guard !chosen.isEmpty else { return "no key maps to an rlwatch metric" }
        return chosen.map { metric, key in
            var note = ""
            if overrides[key] != nil {
                note = " (rlwatch.yaml)"
            } else if FrameworkKeyMap.policyUpdateKLKeys.contains(key) {
                note = " (old-vs-new policy KL: no reference KL logged)"
            }
            return "\(metric) ← \(key)\(note)"
        }.joined(separator: ", ")
    }

    /// A step from a flat map of logged values, resolving keys as the JSONL parser does.
    ///
    /// - Parameters:
    ///   - step: The step number.
    ///   - values: Every numeric value logged for the step, by its original key.
    ///   - rewards: The per-sample rewards, if any were logged.
    /// - Returns: The step, with unmapped keys in ``MetricStep/extras``.
    public func makeStep(step: Int, values: [String: Double], rewards: [Double]? = nil) -> MetricStep {
        var builder = MetricStepBuilder()
        builder.reserveExtras(values.count)
        for (key, value) in values {
            switch targets[key] {
            case .metric(let binding)?: builder.add(binding, value: value)
            case .renamed(let name)?: builder.addExtra(key: name, value: value)
            case .unmapped?, nil: builder.addExtra(key: key, value: value)
            }
        }
        builder.rewards = rewards
        return builder.build(step: step)
    }
}
