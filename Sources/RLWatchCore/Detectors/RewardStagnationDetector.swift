/// Settings of ``RewardStagnationDetector`` (section `reward_stagnation`).
public struct RewardStagnationConfig: DetectorSettings {
    public var enabled = true
    /// Training steps without reward progress (and with the KL rising) before it warns.
    public var windowSteps = 200
    /// The KL must be at least this many times its level `window_steps` ago…
    public var klRatio = 2.0
    /// …and at least this (per-token nats): a policy that has barely left the reference is not "moving". The
    /// synthetic healthy runs' KL climbs 0.01 → 0.025 on a flat reward, real healthy runs stay below 0.05 while
    /// flat; the real runs that drift without learning reach 0.3–7.
    public var minKL = 0.1
    /// Reward progress: a level at least this fraction of the larger magnitude above the run's early level.
    public var minProgress = 0.25
    public var warmupSteps = 50
    public init() {}
}

extension RLWatchConfig {
    /// No reward progress over a long window while the policy keeps moving away from the reference.
    public var rewardStagnation: RewardStagnationConfig {
        get { self[settings: RewardStagnationConfig.self] }
        set { self[settings: RewardStagnationConfig.self] = newValue }
    }
}

extension DetectorID {
    /// The policy keeps changing but the reward has never improved: the run is spending compute on nothing.
    public static let rewardStagnation: DetectorID = "reward_stagnation"
}

/// Reward stagnation (lowest tier: warning only): the reward has made no progress since the run started, for
/// `window_steps` training steps, while the KL to the reference keeps rising — the policy is moving, but not
/// towards anything the reward pays for.
///
/// Reward *progress* is a level (the median of 10 observations) at least `min_progress` (25 %) of the larger
/// magnitude above the run's early level (the median of its first 10), as ``RewardTrend`` judges it; the *KL
/// rising* is its recent level (median of 10) at least `kl_ratio` (2) × its level `window_steps` (200) training
/// steps earlier and at least `min_kl` (0.1). A run whose reward improved at any point is never judged again:
/// a late plateau after real progress is convergence, and KL creeping up on a plateau is ordinary there. On the
/// real healthy runs that never improve by 25 % (a PPO run starting at 94 % accuracy, a text-to-SQL run whose KL
/// doubles from 0.0003 to 0.0007) either the KL is flat or far below `min_kl`. It warns at most once a run: the
/// stagnation lasts until the reward makes progress, and a KL ratio hovering around `kl_ratio` would otherwise
/// re-arm and repeat the same warning.
public final class RewardStagnationDetector: Detector {
    public let id = DetectorID.rewardStagnation
    private let config: RewardStagnationConfig
    private var warmup: Warmup
    private var clock = StepClock()
    private var episode = Episode()
    private var trend = RewardTrend()
    private var progressed = false
    /// Set once it has warned: the episode ends only when the reward makes progress, which ends the judging too.
    private var warned = false
    private var recentKL: [Double] = []
    /// (step, KL level) once per observation, kept for `window_steps`: the level the current one is compared with.
    private var history: [(step: Int, kl: Double)] = []
    private var historyStart = 0
    private var stagnantSince: Int?

    static let levelWindow = 10

    public init(_ config: RewardStagnationConfig) {
        self.config = config
        warmup = Warmup(steps: config.warmupSteps)
    }

    public func observe(_ step: MetricStep) -> Alert? {
        let tick = clock.tick(step.step)
        guard !progressed, !warned else { return nil }
        trend.observe(step.rewardMean, step: step.step)
        if tick.resumed { (history, historyStart, recentKL, stagnantSince) = ([], 0, [], nil) }
        if let early = trend.earlyLevel, let level = trend.recentLevel {
            let rise = level - early
            if rise > 1e-9 && rise >= config.minProgress * max(abs(early), abs(level)) {
                progressed = true
                return nil
            }
        }
        guard let kl = finite(step.klDivergence) else { return nil }
        recentKL.append(kl)
        if recentKL.count > Self.levelWindow { recentKL.removeFirst() }
        guard warmup.observe(tick), recentKL.count >= Self.levelWindow, trend.recentLevel != nil else { return nil }
        let level = EarlyMedian.median(recentKL)
        history.append((step.step, level))
        // The oldest level still at least `window_steps` back is the one compared with.
        while historyStart + 1 < history.count, step.step - history[historyStart + 1].step >= config.windowSteps {
            historyStart += 1
        }
        if historyStart > 1024 {
            history.removeFirst(historyStart)
            historyStart = 0
        }
        let past = history[historyStart]
        let moving =
            step.step - past.step >= config.windowSteps && level >= config.minKL
            && level >= config.klRatio * max(past.kl, 1e-12)
        if moving, stagnantSince == nil { stagnantSince = past.step }
        if !moving { stagnantSince = nil }
        guard let severity = episode.update(moving ? .warning : nil) else { return nil }
        warned = true
        let early = trend.earlyLevel ?? 0
        let recent = trend.recentLevel ?? 0
        return Alert(
            step: step.step, detector: id, severity: severity,
            message:
                "Reward stagnation: the reward is at \(formatSignificant(recent, digits: 3)) (early level "
                + "\(formatSignificant(early, digits: 3))) and has not improved since the run started, while the KL "
                + "rose from \(formatSignificant(past.kl, digits: 3)) to \(formatSignificant(level, digits: 3)) over "
                + "the last \(step.step - past.step) training steps — the policy is moving, but not towards the reward.",
            metricValues: [
                "reward_level": .double(recent), "early_reward_level": .double(early), "kl_level": .double(level),
                "kl_level_before": .double(past.kl), "window_steps": .int(step.step - past.step),
            ],
            recommendation:
                "Check that the reward can be earned at all: score a handful of completions by hand, look for a "
                + "parser or format mismatch that gives every sample the same reward, and check the prompts match the "
                + "reward function. If the reward works, the task may be too hard for the model: filter for prompts it "
                + "solves sometimes. Stopping now saves the compute; the policy is drifting without learning."
        ).withOnset(stagnantSince ?? step.step)
    }
}

extension RewardStagnationDetector {
    /// The detector's entry in ``DetectorRegistry``.
    // swift-format-ignore
    public static let descriptor = DetectorDescriptor(
        id: .rewardStagnation,
        summary: "No reward progress since the start over a long window while the KL keeps rising (warning only).",
        enabled: \.rewardStagnation.enabled,
        fields: [
            .int("reward_stagnation.window_steps", \.rewardStagnation.windowSteps, .atLeast(1),
                 "Training steps without progress, with the KL rising, before it warns (>= 1)."),
            .double("reward_stagnation.kl_ratio", \.rewardStagnation.klRatio, .positive,
                    "The KL level must be this many times its level window_steps ago (> 0)."),
            .double("reward_stagnation.min_kl", \.rewardStagnation.minKL, .nonNegative,
                    "…and at least this (>= 0)."),
            .double("reward_stagnation.min_progress", \.rewardStagnation.minProgress, .unitFraction,
                    "A reward level this fraction of its magnitude above the early level is progress (> 0, <= 1)."),
            .int("reward_stagnation.warmup_steps", \.rewardStagnation.warmupSteps, .nonNegative,
                 "Training steps to see before this detector may fire (>= 0)."),
        ],
        inputs: [
            .metric(.rewardMean, missing: { _ in "no reward mean logged" }),
            .metric(.klDivergence, missing: { _ in "no KL logged" }),
        ],
        chart: .metric(.rewardMean)
    ) { RewardStagnationDetector($0.rewardStagnation) }
}
