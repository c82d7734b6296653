/// Addition: the user's own key mappings (`metrics.keys` in `rlwatch.yaml`), for trainers and custom loggers
/// whose metric names the built-in framework aliases do not know.
///
/// ```yaml
/// metrics:
///   keys:
///     my/policy_entropy: entropy          # a canonical metric
///     train/frac_same_reward: frac_reward_zero_std   # an extra a detector reads
///     actor/ppo_kl: null                  # switch a built-in alias off: kept as an extra
/// ```
///
/// A mapped key beats every built-in alias of its metric on the same step.
public struct MetricsConfig: Sendable, Hashable {
    /// Logged key → metric name: a canonical metric (``MetricName``), one of the extras a detector reads
    /// (``mappableExtras``), or "" (`null`) to keep the key as an extra under its own name.
    public var keys: [String: String] = [:]

    public init() {}

    /// The extras that detectors read by name, which a key can be mapped to: the first, current name of
    /// each of ``MetricStep/ExtraKey``'s lists.
    public static let mappableExtras: [String] = [
        MetricStep.ExtraKey.fracRewardZeroStd, MetricStep.ExtraKey.clippedRatio,
        MetricStep.ExtraKey.meanCompletionLength,
    ].compactMap(\.first)

    /// Every name a key can be mapped to.
    public static let targets: [String] = MetricName.allCases.map(\.rawValue) + mappableExtras

    /// Keys that give a metrics line its structure and cannot be mapped.
    public static let structuralKeys: [String] = ["step", "metrics", "data", "extras", "rewards"]
}
