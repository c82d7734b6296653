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

    /// The seven detectors of rlwatch 0.5.1, in the order the suite evaluates them.
    public static let builtIn: [DetectorID] = [
        .entropyCollapse, .klExplosion, .rewardHacking, .advantageVariance, .lossNaN, .gradientNormSpike,
        .rewardMeanDrift,
    ]
}
