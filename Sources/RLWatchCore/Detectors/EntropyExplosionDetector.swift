/// Entropy explosion: the policy's entropy rose far above the run's own early level, so it is sampling
/// close to noise.
///
/// Real GRPO runs fail this way as often as they collapse: token entropy goes from ≈0.1 to 4–8 while
/// completions run to the length cap and reward falls to 0. Absolute thresholds do not transfer between
/// models (healthy LLM entropies range from 0.03 to 0.3 and more), so the trip-wire is a ratio to a
/// baseline the run sets itself: the **median** of its first `baseline_window` finite entropy
/// observations (see `EarlyMedian`). The baseline observations are not judged.
///
/// While the run's reward is clearly improving (see ``RewardTrend``) a *steady* rise is exploration, and nothing
/// alerts; an abrupt one (more than doubling within 20 observations) still does, since a proxy reward climbing
/// while entropy jumps is a reward being gamed.
///
/// After that, each tier counts consecutive observations above its ratio, in training steps (see
/// `TierStreak`): a warning after `consecutive_steps` steps above `warning_ratio` × baseline, a critical
/// after as many above `critical_ratio` × baseline, once per episode. NaN/±∞ entropies are ignored and do
/// not break a streak.
public final class EntropyExplosionDetector: Detector {
    public let id = DetectorID.entropyExplosion
    private let config: EntropyExplosionConfig
    private var warmup: Warmup
    private var episode = Episode()
    private var streak: TierStreak
    private var clock = StepClock()
    private var baseline: EarlyMedian
    /// The step of the first observation of the current run above the warning ratio.
    private var streakStart: Int?
    private var trend = RewardTrend()
    /// The last ``paceWindow`` finite entropies, oldest first: how fast entropy is rising.
    private var recent: [Double] = []

    /// Observations the pace of a rise is judged over, and how much the newest few may exceed the oldest few for
    /// the rise to count as steady.
    static let paceWindow = 20
    static let steadyFactor = 2.0

    public init(_ config: EntropyExplosionConfig) {
        self.config = config
        warmup = Warmup(steps: config.warmupSteps)
        streak = TierStreak(required: config.consecutiveSteps)
        baseline = EarlyMedian(window: config.baselineWindow)
    }

    public func observe(_ step: MetricStep) -> Alert? {
        let tick = clock.tick(step.step)
        trend.observe(step.rewardMean, step: step.step)
        guard let value = finite(step.entropy) else { return nil }
        recent.append(value)
        if recent.count > Self.paceWindow { recent.removeFirst() }
        let evaluated = warmup.observe(tick)
        guard let baseline = baseline.value else {
            self.baseline.add(value)
            return nil
        }
        guard evaluated else { return nil }
        let ratio = value / baseline
        if ratio <= config.warningRatio { streakStart = nil } else if streakStart == nil { streakStart = step.step }
        var level = streak.level(
            warning: ratio > config.warningRatio, critical: ratio > config.criticalRatio, tick: tick,
            episode: episode)
        // A steady rise while reward keeps climbing is exploration, not a policy sampling noise. An abrupt one is
        // not excused by the reward: a proxy reward that climbs while entropy jumps is the reward being gamed.
        if level != nil, !episode.isActive, trend.isImproving == true, isSteady { level = nil }
        guard let severity = episode.update(level) else { return nil }
        return alert(step, severity: severity, value: value, baseline: baseline, ratio: ratio)
            .withOnset(streakStart ?? step.step)
    }

    /// Whether entropy's recent rise is steady: the median of its newest 5 observations at most ``steadyFactor``
    /// times the median of the oldest 5 of the last ``paceWindow`` (with fewer kept, it cannot be told: steady).
    private var isSteady: Bool {
        guard recent.count >= Self.paceWindow else { return true }
        let oldest = EarlyMedian.median(Array(recent.prefix(5)))
        let newest = EarlyMedian.median(Array(recent.suffix(5)))
        return newest <= Self.steadyFactor * oldest
    }

    private func alert(_ step: MetricStep, severity: Severity, value: Double, baseline: Double, ratio: Double)
        -> Alert
    {
        let run = severity == .critical ? streak.criticalRun : streak.warningRun
        let observations = severity == .critical ? streak.criticalObservations : streak.warningObservations
        let times = "\(fixed(ratio, decimals: 1))×"
        var context = ""
        if let clipped = step.clippedRatio {
            context = " \(fixed(clipped * 100, decimals: 0)) % of completions hit the maximum length."
        }
        let message: String
        let recommendation: String
        switch severity {
        case .critical:
            message =
                "Entropy explosion: policy entropy is \(f4(value)), \(times) its early baseline \(f4(baseline)), "
                + "and has stayed above \(formatNumber(config.criticalRatio))× for \(run) consecutive steps "
                + "— the policy is sampling close to noise.\(context)"
            recommendation =
                "Revert to the last checkpoint saved before entropy began to rise: a policy this random rarely "
                + "recovers by itself. Resume with the learning rate cut 2–5×. Check the sampling temperature (above "
                + "1.0 inflates entropy) and the max completion length: completions running to the cap while reward "
                + "falls are the same breakdown seen from the length side. If you train with an entropy bonus, "
                + "lower or remove it."
        case .warning:
            message =
                "Policy entropy is rising far above its baseline: \(f4(value)), \(times) the early baseline "
                + "\(f4(baseline)), above \(formatNumber(config.warningRatio))× for \(run) consecutive steps."
                + context
            recommendation =
                "Cut the learning rate 2–5× and keep a checkpoint from before the rise at hand. Check the sampling "
                + "temperature and the max completion length, and read a few recent completions for rambling or "
                + "repetition. If entropy keeps climbing, revert to that checkpoint."
        }
        var values: MetricValues = [
            "current_entropy": .double(value),
            "baseline_entropy": .double(baseline),
            "ratio": .double(ratio),
            "consecutive_steps": .int(run),
            "consecutive_observations": .int(observations),
        ]
        if let length = step.meanCompletionLength { values["mean_completion_length"] = .double(length) }
        if let clipped = step.clippedRatio { values["clipped_ratio"] = .double(clipped) }
        return Alert(
            step: step.step, detector: id, severity: severity, message: message, metricValues: values,
            recommendation: recommendation)
    }
}

extension EntropyExplosionDetector {
    /// The detector's entry in ``DetectorRegistry``.
    // swift-format-ignore
    public static let descriptor = DetectorDescriptor(
        id: .entropyExplosion, summary: "Policy entropy rising far above its own early baseline.",
        enabled: \.entropyExplosion.enabled,
        fields: [
            .double("entropy_explosion.warning_ratio", \.entropyExplosion.warningRatio, .positive,
                    "Warning when entropy exceeds this many times its early baseline (> 0)."),
            .double("entropy_explosion.critical_ratio", \.entropyExplosion.criticalRatio, .positive,
                    "Critical when entropy exceeds this many times its early baseline (> 0)."),
            .int("entropy_explosion.consecutive_steps", \.entropyExplosion.consecutiveSteps, .atLeast(1),
                 "Training steps in a row each level must hold before it alerts (>= 1)."),
            .int("entropy_explosion.baseline_window", \.entropyExplosion.baselineWindow, .window(atLeast: 1),
                 "Baseline = median of this many first finite entropy observations, which are not judged (1-100000)."),
            .int("entropy_explosion.warmup_steps", \.entropyExplosion.warmupSteps, .nonNegative,
                 "Training steps to see before this detector may fire (>= 0)."),
        ],
        inputs: [.metric(.entropy) { _ in "no entropy logged" }],
        chart: .metric(.entropy)
    ) { EntropyExplosionDetector($0.entropyExplosion) }
}
