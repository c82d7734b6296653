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
    /// Addition: a run that stops sending steps.
    public var stall = StallConfig()
    /// Addition: a training process that dies (reported by the Python client).
    public var crash = CrashConfig()
    /// Addition: steps (or tokens) per unit of time falling well below the run's own median.
    public var throughput = ThroughputConfig()
    /// Addition: the user's own logged key → metric mappings.
    public var metrics = MetricsConfig()
    public var alerts = AlertsConfig()
    public var storage = StorageConfig()
    public var dashboard = DashboardConfig()
    /// Addition: what to do about an alert besides notifying (opt-in).
    public var actions = ActionsConfig()

    public init() {}
}

/// Entropy collapse: entropy staying below a floor for many training steps in a row.
///
/// The floor is relative by default: `relativeThreshold` × the median of the run's first `baselineWindow`
/// finite entropy observations. rlwatch 0.5.1's absolute `threshold: 1.0` calls every real LLM run collapsed
/// (mean per-token entropies are 0.03–0.3 on healthy runs), so an absolute floor applies only when the user
/// sets `threshold` explicitly (a 0.5.1 `rlwatch.yaml` that sets it keeps 0.5.1's rule).
public struct EntropyCollapseConfig: Sendable, Hashable {
    public var enabled = true
    /// Absolute floor: entropy below this counts as "collapsed". nil (the default): the relative floor decides.
    public var threshold: Double?
    /// Addition: entropy below this fraction of the run's early baseline counts as "collapsed" (used when
    /// `threshold` is nil).
    ///
    /// 0.3: the real runs that did not collapse stay above it (a veRL run drifting 0.20 → 0.066, 0.33× its
    /// baseline, a TRL run dipping to 0.26× on two log rows only), healthy runs drift at most to ≈0.5×, and
    /// the golden collapse trace crosses it on the same step as 0.5.1's 1.0.
    public var relativeThreshold = 0.3
    /// Addition: the baseline is the median of this many first finite entropy observations (observations, not
    /// steps); until it is complete nothing is judged against the relative floor.
    public var baselineWindow = 10
    /// Critical after this many training steps in a row below the floor; warning at half.
    public var consecutiveSteps = 50
    /// Training steps to see before this detector may fire.
    public var warmupSteps = 20
    public init() {}
}

public struct KLExplosionConfig: Sendable, Hashable {
    public var enabled = true
    /// Warning needs this many robust standard deviations (1.4826 × MAD) over the baseline median; critical 1.5×.
    public var sigmaMultiplier = 3.0
    /// PPO clip region, reported in alert metric values for context only.
    public var clipRegion = 0.2
    public var rollingWindow = 100
    public var warmupSteps = 20
    public var baselineMode = BaselineMode.rolling
    /// Addition: a warning needs a KL of at least (1 + this) × the baseline median (3× with 2.0), held on two
    /// observations in a row.
    public var minRelativeIncrease = 2.0
    /// Addition: a critical needs a KL of at least this many times the baseline median; it alerts on its own step.
    public var criticalRatio = 10.0
    /// Addition: a KL below this never alerts against the baseline. KL to the reference ramps up from ~1e-4 to
    /// its working level (0.01–0.1 nat per token) over the first tens of steps of every healthy run, and a
    /// single-prompt run's KL jumps between 0.002 and 0.12 step to step; explosions go well past 0.1.
    public var minKL = 0.1
    /// Addition: a KL at or above this many nats per token is critical from the first step, with or without a
    /// baseline (0 turns it off). Log-ratio KL estimators summed over the sequence rather than averaged per
    /// token run higher: raise it for them.
    public var criticalKL = 5.0
    /// Addition: a KL at or above this many nats per token on two observations in a row is a warning from the
    /// first step, baseline or not (0 turns it off): sustained KL past a nat per token is far outside any healthy
    /// per-token reference KL, whatever the run's own history.
    public var warningKL = 1.0
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
    /// Addition (saturation check): the reward std must fall to at most this fraction of its early
    /// baseline — the proxy reward pinned at its ceiling for every sample.
    public var saturationStdFraction = 0.05
    /// Addition (saturation check): the reward mean must stand at least this many baseline stds above
    /// its baseline mean.
    public var saturationRewardRise = 2.0
    /// Addition (saturation check): KL must reach this many times its early baseline (warning; three
    /// times that level for critical) and keep rising.
    public var saturationKLMultiplier = 5.0
    /// Addition (saturation check): nor may KL be below this absolute value (nats) — KL to the reference
    /// starts near 1e-4 on real runs, so a ratio alone is met by healthy growth to 0.01–0.05.
    public var saturationMinKL = 0.1
    /// Addition (saturation check): training steps in a row the condition must hold.
    public var saturationConsecutiveSteps = 10
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
    /// Rolling: grad norms drift over a long healthy run (they grow as entropy falls), and the robust baseline
    /// leaves spikes out, so it does not follow a real explosion.
    public var baselineMode = BaselineMode.rolling
    /// Addition: a warning needs a grad norm of at least (1 + this) × the baseline median (5× with 4.0), held on
    /// two observations in a row.
    public var minRelativeIncrease = 4.0
    /// Addition: a critical needs at least this many times the baseline median; it alerts on its own step.
    public var criticalRatio = 20.0
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
    /// Training steps in a row each tier must hold (step numbers, so the same at any logging interval).
    ///
    /// 15: the three log rows of the 5-step-logged real TRL run this was calibrated on; a two-row (10-step)
    /// transient stays quiet.
    public var consecutiveSteps = 15
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
    /// Warning after this many training steps of dead observations in a row (one isolated live observation
    /// is tolerated); critical after three times as many.
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
    /// Addition: warning also when at least this fraction is cut, `risingFactor` times the run's early level or
    /// more, while reward is not improving, for `consecutiveSteps` — truncation growing from 1 % to 20–36 % while
    /// the score stays flat is the failure starting, not a steady share of long answers (0 turns it off).
    public var risingRatio = 0.2
    /// Training steps in a row each tier must hold (15: three rows of a 5-step-logged run; see entropy explosion).
    public var consecutiveSteps = 15
    public var warmupSteps = 0
    public init() {}
}

/// Addition: a run that sent steps and then went silent — a hang on a collective, a job killed by the scheduler
/// (not in rlwatch 0.5.1; judged on arrival times by a watchdog, see `LivenessTracker`).
public struct StallConfig: Sendable, Hashable {
    public var enabled = true
    /// Warning after this many seconds without a new step. nil (the default): the larger of `minAfterSeconds`
    /// and `intervalMultiplier` × the run's median wall-clock interval between steps.
    public var afterSeconds: Double?
    /// The shortest automatic warning time: 10 minutes, so a slow evaluation or checkpoint save is not a stall.
    public var minAfterSeconds = 600.0
    public var intervalMultiplier = 10.0
    /// Critical after this many seconds without a new step. nil (the default): `criticalMultiplier` × the warning
    /// time.
    public var criticalAfterSeconds: Double?
    public var criticalMultiplier = 3.0
    /// A run silent for longer than this is taken as abandoned: a restarted monitor does not track it again.
    /// Keeps a database full of old unfinished runs (every 0.5.1 run) from raising stalls on upgrade.
    public var forgetAfterSeconds = 86_400.0
    /// How often the watchdog looks at the live runs (seconds).
    public var checkIntervalSeconds = 5.0
    public init() {}
}

/// Addition: the training process died with an uncaught exception or a non-zero exit, as reported by the client.
public struct CrashConfig: Sendable, Hashable {
    public var enabled = true
    public init() {}
}

/// Addition: a run slowing down — a slow node, thermal throttling, a data-loader stall.
///
/// The rate is steps per minute over the last `windowSeconds`, and tokens per second when the trainer logs
/// `num_tokens` (TRL, cumulative) or `perf/throughput` (veRL). The run's own median rate, over the time it ran
/// at normal speed, is the baseline.
public struct ThroughputConfig: Sendable, Hashable {
    public var enabled = true
    /// Warning when the rate stays below this fraction of the run's median.
    public var dropFraction = 0.5
    /// The rate is measured over this many seconds of arrivals.
    public var windowSeconds = 60.0
    /// The rate must stay below the fraction for this long before it alerts.
    public var sustainedSeconds = 300.0
    /// The run's first seconds only build the baseline (start-up, compilation, warm caches are not judged).
    public var warmupSeconds = 600.0
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
    /// Addition: PagerDuty Events API v2 (critical alerts only).
    public var pagerduty = PagerDutyConfig()
    /// Addition: how deliveries to the channels are retried.
    public var retry = AlertRetryConfig()
    public init() {}
}

/// PagerDuty Events API v2: critical alerts open an incident, deduplicated per run and detector.
public struct PagerDutyConfig: Sendable, Hashable {
    public var enabled = false
    /// The integration's routing key (a secret).
    public var routingKey = ""
    /// The events endpoint; the public one unless a proxy or a test server stands in.
    public var url = "https://events.pagerduty.com/v2/enqueue"
    public init() {}
}

/// How failed deliveries are retried: exponential backoff with jitter, capped.
public struct AlertRetryConfig: Sendable, Hashable {
    /// Attempts per alert and channel, the first included.
    public var maxAttempts = 6
    /// The wait before the second attempt; each later wait doubles, with jitter.
    public var initialBackoffSeconds = 2.0
    /// No wait is longer than this (a server's `Retry-After` is capped by it too).
    public var maxBackoffSeconds = 300.0
    /// How long a dispatcher reserves an entry it is sending; one that dies mid-send leaves the entry to be
    /// retried after this, so it must outlast the slowest channel's timeout.
    public var leaseSeconds = 300.0
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
    /// Addition: `starttls` (0.5.1's behaviour, port 587), `tls` (implicit TLS, port 465) or `none` (a local relay;
    /// no password is ever sent then).
    public var security = "starttls"
    /// Addition: a PEM file of CA certificates to trust instead of the system's (a private relay); empty: system.
    public var caCertFile = ""
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
    /// A shared database (`postgres://USER@HOST:PORT/DB?sslmode=...`, or `sqlite:PATH`); empty keeps the SQLite file
    /// in `logDir`.
    public var url = ""
    /// Metric rows older than this many days are deleted (alerts and runs are kept); 0 keeps everything.
    public var retentionDays = 0
    public init() {}
}

public struct DashboardConfig: Sendable, Hashable {
    public var port = 8501
    /// Loopback by default (0.5.1 used 0.0.0.0).
    public var host = "127.0.0.1"
    public init() {}
}
