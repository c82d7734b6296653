/// How a z-score or ratio detector forms its baseline.
public enum BaselineMode: String, Sendable, Hashable, Codable, CaseIterable {
    /// The previous `rolling_window` finite observations, recomputed every step.
    case rolling
    /// The first full window of finite observations, then never recomputed.
    case frozen
}

/// The whole rlwatch configuration: the sections and keys of rlwatch 0.5.1's `rlwatch.yaml`,
/// plus a few additions (each documented where it is declared).
///
/// Defaults come from `init()`; `ConfigLoader` (module RLWatch) layers YAML and `RLWATCH_*` variables on top.
public struct RLWatchConfig: Sendable, Hashable {
    public var runID: String = ""
    public var framework: String = "auto"
    public var entropyCollapse = EntropyCollapseConfig()
    public var klExplosion = KLExplosionConfig()
    public var rewardHacking = RewardHackingConfig()
    public var advantageVariance = AdvantageVarianceConfig()
    public var lossNaN = LossNaNConfig()
    public var gradientNormSpike = GradientNormSpikeConfig()
    public var rewardMeanDrift = RewardMeanDriftConfig()
    /// Addition: entropy rising far above the run's own early baseline.
    public var entropyExplosion = EntropyExplosionConfig()
    /// Addition: GRPO groups whose rewards are all identical, so nothing is learned.
    public var learningSignalDead = LearningSignalDeadConfig()
    /// Addition: completions cut at the maximum completion length.
    public var lengthTruncation = LengthTruncationConfig()
    public var alerts = AlertsConfig()
    public var storage = StorageConfig()
    public var dashboard = DashboardConfig()

    public init() {}
}

public struct EntropyCollapseConfig: Sendable, Hashable {
    public var enabled = true
    /// Entropy below this value counts as "collapsed".
    public var threshold = 1.0
    /// Critical after this many consecutive evaluated observations below the threshold; warning at half.
    public var consecutiveSteps = 50
    public var warmupSteps = 20
    public init() {}
}

public struct KLExplosionConfig: Sendable, Hashable {
    public var enabled = true
    /// Warning above this many standard deviations over the baseline mean; critical above 1.5×.
    public var sigmaMultiplier = 3.0
    /// PPO clip region, reported in alert metric values for context only.
    public var clipRegion = 0.2
    public var rollingWindow = 100
    public var warmupSteps = 20
    public var baselineMode = BaselineMode.rolling
    /// Addition: the value must also exceed the baseline mean by this fraction of it (warning;
    /// twice the fraction for critical), so ordinary noise on a quiet series does not alert.
    public var minRelativeIncrease = 1.0
    public init() {}
}

public struct RewardHackingConfig: Sendable, Hashable {
    public var enabled = true
    /// Warning when the reward variance exceeds the baseline variance by this factor; critical above 2×.
    public var varianceMultiplier = 3.0
    /// The dip test's p-value below which the per-sample rewards count as bimodal.
    public var dipTestSignificance = 0.05
    public var baselineWindow = 100
    public var warmupSteps = 50
    public init() {}
}

public struct AdvantageVarianceConfig: Sendable, Hashable {
    public var enabled = true
    /// Warning when advantage std exceeds the baseline mean by this factor; critical above 2×.
    public var stdMultiplier = 3.0
    public var rollingWindow = 100
    public var warmupSteps = 20
    public var baselineMode = BaselineMode.rolling
    public init() {}
}

public struct LossNaNConfig: Sendable, Hashable {
    public var enabled = true
    public var warmupSteps = 0
    public init() {}
}

public struct GradientNormSpikeConfig: Sendable, Hashable {
    public var enabled = true
    public var sigmaMultiplier = 3.0
    public var rollingWindow = 100
    public var warmupSteps = 20
    public var baselineMode = BaselineMode.frozen
    /// Addition, as for `kl_explosion.min_relative_increase`.
    public var minRelativeIncrease = 1.0
    public init() {}
}

public struct RewardMeanDriftConfig: Sendable, Hashable {
    public var enabled = true
    public var consecutiveSteps = 50
    public var warmupSteps = 50
    public var minDriftMagnitude = 0.1
    public init() {}
}

/// Addition: entropy rising far above the run's own early baseline (not in rlwatch 0.5.1).
///
/// Real LLM runs log mean per-token entropy around 0.03–0.3; a run that falls apart rises 10–50× above
/// that (0.1 → 4–8) while completions run to the length cap. The trip-wire is a ratio to the run's own
/// baseline so it holds at any entropy scale.
public struct EntropyExplosionConfig: Sendable, Hashable {
    public var enabled = true
    /// Warning when entropy exceeds this many times the baseline for `consecutiveSteps` observations.
    ///
    /// 4× rather than 3×: a healthy run whose entropy drifts up (longer reasoning, clip-higher) can
    /// triple a low early entropy, while real explosions reach 5× on their first bad observation.
    public var warningRatio = 4.0
    /// Critical when entropy exceeds this many times the baseline for `consecutiveSteps` observations.
    public var criticalRatio = 10.0
    /// Observations in a row each tier must hold.
    public var consecutiveSteps = 3
    /// The baseline is the median of this many first finite entropy observations; they are not judged.
    public var baselineWindow = 10
    /// Observations to see before judging; the baseline observations already act as a warmup.
    public var warmupSteps = 0
    public init() {}
}

/// Addition: the GRPO learning signal is dead — every group's rewards are identical (not in rlwatch 0.5.1).
///
/// Judged from `frac_reward_zero_std` (TRL) when the step logs it; otherwise from a reward std of
/// (almost) exactly 0 together with a grad norm of (almost) exactly 0 when a grad norm is logged.
public struct LearningSignalDeadConfig: Sendable, Hashable {
    public var enabled = true
    /// A step whose `frac_reward_zero_std` is at least this counts as having no learning signal.
    public var fracZeroStdThreshold = 0.95
    /// Warning after this many dead observations in a row (one isolated live observation is tolerated);
    /// critical after three times as many.
    public var consecutiveSteps = 10
    public var warmupSteps = 0
    public init() {}
}

/// Addition: completions truncated at the maximum length — the "filibuster" (not in rlwatch 0.5.1).
///
/// Reads `completions/clipped_ratio` (TRL) or `response_length/clip_ratio` (veRL).
public struct LengthTruncationConfig: Sendable, Hashable {
    public var enabled = true
    /// Warning when at least this fraction of completions is cut for `consecutiveSteps` observations.
    public var warningRatio = 0.5
    /// Critical when at least this fraction is cut for `consecutiveSteps` observations.
    public var criticalRatio = 0.9
    /// Observations in a row each tier must hold.
    public var consecutiveSteps = 3
    public var warmupSteps = 0
    public init() {}
}

public struct AlertsConfig: Sendable, Hashable {
    public var slack = SlackConfig()
    public var email = EmailConfig()
    public var discord = DiscordConfig()
    public var webhook = WebhookConfig()
    /// The same detector at the same severity does not re-fire within this many steps.
    public var cooldownSteps = 100
    /// At most this many alerts are delivered per run; later ones are stored as suppressed.
    public var maxAlertsPerRun = 50
    public init() {}
}

public struct SlackConfig: Sendable, Hashable {
    public var enabled = false
    public var webhookURL = ""
    public var channel = ""
    public var mentionUsers: [String] = []
    public init() {}
}

public struct EmailConfig: Sendable, Hashable {
    public var enabled = false
    public var smtpHost = "smtp.gmail.com"
    public var smtpPort = 587
    public var smtpUser = ""
    public var smtpPassword = ""
    public var fromAddr = ""
    public var toAddrs: [String] = []
    public init() {}
}

public struct DiscordConfig: Sendable, Hashable {
    public var enabled = false
    public var webhookURL = ""
    public var username = "rlwatch"
    public var avatarURL = ""
    public var mentionRoleIDs: [String] = []
    public init() {}
}

public struct WebhookConfig: Sendable, Hashable {
    public var enabled = false
    public var url = ""
    public var method = "POST"
    public var headers: [String: String] = [:]
    public var templateJSON = ""
    public var timeoutSeconds = 10.0
    public init() {}
}

public struct StorageConfig: Sendable, Hashable {
    public var logDir = "./rlwatch_logs"
    public var dbName = "metrics.db"
    public init() {}
}

public struct DashboardConfig: Sendable, Hashable {
    public var port = 8501
    /// Loopback by default (0.5.1 used 0.0.0.0).
    public var host = "127.0.0.1"
    public init() {}
}
