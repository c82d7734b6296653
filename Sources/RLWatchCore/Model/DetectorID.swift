/// The stable identifier of a detector, as it appears in alerts, the store, the config file and webhooks.
///
/// A struct rather than an enum so that later detectors (and tests) can add identifiers without
/// breaking exhaustive switches in user code.
public struct DetectorID: RawRepresentable, Hashable, Sendable, Codable, Comparable, CustomStringConvertible,
    ExpressibleByStringLiteral
{
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }

    public var description: String { rawValue }

    public static func < (lhs: DetectorID, rhs: DetectorID) -> Bool { lhs.rawValue < rhs.rawValue }

    public static let entropyCollapse: DetectorID = "entropy_collapse"
    public static let klExplosion: DetectorID = "kl_explosion"
    public static let rewardHacking: DetectorID = "reward_hacking"
    public static let advantageVariance: DetectorID = "advantage_variance"
    public static let lossNaN: DetectorID = "loss_nan"
    public static let gradientNormSpike: DetectorID = "gradient_norm_spike"
    public static let rewardMeanDrift: DetectorID = "reward_mean_drift"
    /// Entropy rising far above the run's own early baseline (not in rlwatch 0.5.1).
    public static let entropyExplosion: DetectorID = "entropy_explosion"
    /// Every GRPO group's rewards identical, so the policy gradient is zero (not in rlwatch 0.5.1).
    public static let learningSignalDead: DetectorID = "learning_signal_dead"
    /// Completions cut at the maximum completion length (not in rlwatch 0.5.1).
    public static let lengthTruncation: DetectorID = "length_truncation"

    /// A run that sent steps and then went silent (not in rlwatch 0.5.1; judged on arrival times, not metrics).
    public static let runStalled: DetectorID = "run_stalled"
    /// The training process died with an uncaught exception or a non-zero exit, as its client reported.
    public static let runCrashed: DetectorID = "run_crashed"
    /// Steps (or tokens) per unit of time fell well below the run's own median for a sustained period.
    public static let throughputDrop: DetectorID = "throughput_drop"

    /// The liveness detectors: judged on when steps arrive (and on crash reports), by a watchdog with a clock,
    /// rather than on the metric values of each step.
    public static let liveness: [DetectorID] = [.runStalled, .runCrashed, .throughputDrop]

    /// The seven detectors of rlwatch 0.5.1, in the order the suite evaluates them.
    public static let builtIn: [DetectorID] = [
        .entropyCollapse, .klExplosion, .rewardHacking, .advantageVariance, .lossNaN, .gradientNormSpike,
        .rewardMeanDrift,
    ]

    /// Every detector rlwatch ships, in the order the suite evaluates them: 0.5.1's seven, then the additions
    /// (``DetectorRegistry``'s order).
    public static let all: [DetectorID] = DetectorRegistry.descriptors.map(\.id)
}
