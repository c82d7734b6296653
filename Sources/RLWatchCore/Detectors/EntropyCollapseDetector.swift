/// Entropy collapse: the policy stopped exploring and repeats itself.
///
/// An observation is *below the floor* when its entropy is under
/// - `threshold`, when the user set one (rlwatch 0.5.1's absolute rule, kept for files that set it), or
/// - otherwise `relative_threshold` × the run's early baseline: the median of its first `baseline_window`
///   finite entropy observations (see `EarlyMedian`). Real LLM token entropies are 0.03–0.3 on healthy runs
///   and 2–3 on small-vocabulary toy runs, so no absolute default fits both; 0.5.1's 1.0 calls every real
///   run collapsed. Nothing is judged until the baseline is complete.
///
/// Counts the training steps of consecutive observations below the floor (step numbers, see `StepClock`,
/// so a run logged every 5 steps alerts after as many steps as one logged every step): a warning at half of
/// `consecutive_steps` (at least 1), a critical at `consecutive_steps`, once per collapse episode. A step
/// number that goes back (a resume) restarts the count. NaN/±∞ entropies are ignored (rlwatch 0.5.1
/// counted a NaN as a recovery).
///
/// **Convergence is not collapse.** When the run logs a reward and it is clearly improving (see ``RewardTrend``),
/// a falling entropy is the policy converging on what it learned, and the streak does not alert; entropy falling
/// while reward stalls or falls is the collapse.
///
/// **Sudden collapse.** From the first steps on, warmup and baseline or not: an entropy at or below 5 % of the
/// run's first observations (their median) that fell at least 10× within its last five observations is critical
/// on its step — a run whose entropy goes 3.8 → 0 on step 2, or 0.22 → 0.007 in two steps while completions
/// shrink to one token. A slow 30× fall over hundreds of steps is judged by the streak rule instead.
public final class EntropyCollapseDetector: Detector {
    public let id = DetectorID.entropyCollapse
    private let config: EntropyCollapseConfig
    private var warmup: Warmup
    private var episode = Episode()
    private var clock = StepClock()
    /// Training steps of consecutive observations below the floor, ending with the latest.
    private var stepsBelow = 0
    /// Observations in that streak: it also needs two (see `minimumStreakObservations`).
    private var observationsBelow = 0
    /// The first 20 finite observations: the "from" in "dropped from X to Y" of the absolute rule.
    private var initial = Moments()
    private var baseline: EarlyMedian
    private var trend = RewardTrend()
    /// The first few finite observations (the "started high" of a sudden collapse) and the last few.
    private var firstValues: [Double] = []
    private var lastValues: [Double] = []
    private var streakStart: Int?
    /// The median of `firstValues` once they are all collected.
    private var earlyLevel: Double?

    /// A sudden collapse: at most this fraction of the early level, after a fall of this factor within the
    /// last ``suddenWindow`` observations.
    static let suddenFraction = 0.05
    static let suddenFall = 10.0
    static let suddenWindow = 5

    public init(_ config: EntropyCollapseConfig) {
        self.config = config
        warmup = Warmup(steps: config.warmupSteps)
        baseline = EarlyMedian(window: config.baselineWindow)
    }

    /// The entropy below which an observation counts, or nil while the relative baseline is incomplete.
    private var floor: Double? {
        if let threshold = config.threshold { return threshold }
        return baseline.value.map { $0 * config.relativeThreshold }
    }

    public func observe(_ step: MetricStep) -> Alert? {
        let tick = clock.tick(step.step)
        trend.observe(step.rewardMean, step: step.step)
        if tick.resumed { (stepsBelow, observationsBelow, streakStart) = (0, 0, nil) }
        guard let value = finite(step.entropy) else { return nil }
        if initial.count < 20 { initial.add(value) }
        let sudden = suddenCollapse(value)
        if firstValues.count < config.baselineWindow {
            firstValues.append(value)
            if firstValues.count == config.baselineWindow { earlyLevel = EarlyMedian.median(firstValues) }
        }
        lastValues.append(value)
        if lastValues.count > Self.suddenWindow { lastValues.removeFirst() }
        let evaluated = warmup.observe(tick)
        let floor = self.floor
        if floor == nil { baseline.add(value) }
        var level: Severity?
        let criticalAt = max(1, config.consecutiveSteps)
        if let floor, evaluated {
            if value < floor {
                if stepsBelow == 0 { streakStart = step.step }
                stepsBelow = addingSteps(stepsBelow, tick.steps)
                observationsBelow += 1
            } else {
                (stepsBelow, observationsBelow, streakStart) = (0, 0, nil)
            }
            let warningAt = max(1, config.consecutiveSteps / 2)
            let held = { (steps: Int) in
                self.stepsBelow >= steps && self.observationsBelow >= minimumStreakObservations(steps)
            }
            level = held(criticalAt) ? .critical : (held(warningAt) ? .warning : nil)
            // Reward still climbing: the policy is converging, not collapsing. Only an episode's start is held
            // back: a noisy reward crossing the "improving" line must not end an episode and open it again.
            if level != nil, !episode.isActive, trend.isImproving == true { level = nil }
        }
        // A sudden collapse is critical whatever the warmup, the baseline or the reward: one episode with the
        // streak rule's, so the same collapse is not reported twice.
        if sudden != nil { level = .critical }
        guard let severity = episode.update(level) else { return nil }
        if let sudden {
            return suddenAlert(step, severity: severity, value: value, early: sudden.early, before: sudden.before)
        }
        guard let floor else { return nil }
        return alert(step, severity: severity, value: value, floor: floor, criticalAt: criticalAt)
            .withOnset(streakStart ?? step.step)
    }

    /// The early level and the highest recent value when `value` is a sudden collapse (see the type's notes).
    private func suddenCollapse(_ value: Double) -> (early: Double, before: Double)? {
        guard value >= 0, !firstValues.isEmpty else { return nil }
        let early = earlyLevel ?? EarlyMedian.median(firstValues)
        guard early > EarlyMedian.minimumBaseline, value <= Self.suddenFraction * early,
            let before = lastValues.max(), value * Self.suddenFall <= before
        else { return nil }
        return (early, before)
    }

    private func suddenAlert(_ step: MetricStep, severity: Severity, value: Double, early: Double, before: Double)
        -> Alert
    {
        Alert(
            step: step.step, detector: id, severity: severity,
            message:
                "Entropy collapsed suddenly: policy entropy is \(f4(value)), down from \(f4(before)) a few "
                + "observations ago and \(fixed(100 * value / early, decimals: 1)) % of the run's early level "
                + "\(f4(early)) — the policy has become (almost) deterministic.",
            metricValues: [
                "current_entropy": .double(value),
                "recent_max_entropy": .double(before),
                "early_entropy": .double(early),
            ],
            recommendation:
                "Stop and revert to the last checkpoint from before the drop: a policy that collapses this fast has "
                + "usually diverged (check KL, the loss and the completions — one repeated token, empty answers). "
                + "Resume with the learning rate cut 5–10× and gradient clipping on; raise the KL coefficient or "
                + "add an entropy bonus.",
            magnitude: early / max(value, 1e-12)
        ).withOnset(step.step)
    }

    private func alert(_ step: MetricStep, severity: Severity, value: Double, floor: Double, criticalAt: Int)
        -> Alert
    {
        var values: MetricValues = [
            "current_entropy": .double(value),
            "initial_entropy": .double(initial.mean),
            "consecutive_steps_below": .int(stepsBelow),
            "threshold": .double(floor),
        ]
        // What the floor is: the user's absolute value, or a fraction of the run's own early level.
        let below: String
        let from: String
        if config.threshold == nil, let baseline = baseline.value {
            let ratio = value / baseline
            values["baseline_entropy"] = .double(baseline)
            values["ratio"] = .double(ratio)
            values["relative_threshold"] = .double(config.relativeThreshold)
            below = "\(formatNumber(config.relativeThreshold))× that baseline (\(f4(floor)))"
            from = "\(f4(value)), \(fixed(ratio, decimals: 2))× its early baseline \(f4(baseline)),"
        } else {
            below = formatNumber(floor)
            from = "fell from \(fixed(initial.mean, decimals: 2)) to \(f4(value)) and"
        }
        let message: String
        let recommendation: String
        switch severity {
        case .critical:
            message =
                "Entropy collapse: policy entropy \(config.threshold == nil ? "is " : "")\(from) has stayed below "
                + "\(below) for \(stepsBelow) consecutive steps — the model has stopped exploring."
            recommendation =
                "Cut the learning rate 5–10× (the fix most of the time), raise the KL penalty coefficient 2–3× "
                + "and/or the entropy bonus. If entropy is already very low the current policy may not recover: "
                + "roll back to the last checkpoint where entropy was healthy and resume with the lower "
                + "learning rate."
        case .warning:
            let now =
                config.threshold == nil
                ? "\(f4(value)) (\(fixed(value / (baseline.value ?? 1), decimals: 2))× its early baseline)"
                : f4(value)
            message =
                "Policy entropy is declining while reward is not improving: \(now), below \(below) for "
                + "\(stepsBelow) consecutive steps."
            recommendation =
                "Act while it is still recoverable: lower the learning rate (about 5×) or raise the KL penalty "
                + "or entropy bonus, and watch whether entropy keeps falling."
        }
        return Alert(
            step: step.step, detector: id, severity: severity, message: message, metricValues: values,
            recommendation: recommendation)
    }
}

extension EntropyCollapseDetector {
    /// The detector's entry in ``DetectorRegistry``.
    // swift-format-ignore
    public static let descriptor = DetectorDescriptor(
        id: .entropyCollapse, summary: "Policy entropy staying far below the run's early level for many steps in a row.",
        enabled: \.entropyCollapse.enabled,
        fields: [
            .optionalDouble("entropy_collapse.threshold", \.entropyCollapse.threshold, .nonNegative, example: 1.0,
                            "Absolute floor (>= 0), as in rlwatch 0.5.1; unset (null): relative_threshold decides."),
            .double("entropy_collapse.relative_threshold", \.entropyCollapse.relativeThreshold, .openUnitInterval,
                    "Without threshold: entropy below this fraction of the run's early baseline counts as collapsed."),
            .int("entropy_collapse.baseline_window", \.entropyCollapse.baselineWindow, .window(atLeast: 1),
                 "Baseline = median of this many first finite entropy observations (1-100000)."),
            .int("entropy_collapse.consecutive_steps", \.entropyCollapse.consecutiveSteps, .nonNegative,
                 "Critical after this many training steps in a row below the floor; warning at half (>= 0)."),
            .int("entropy_collapse.warmup_steps", \.entropyCollapse.warmupSteps, .nonNegative,
                 "Training steps to see before this detector may fire (>= 0)."),
        ],
        inputs: [.metric(.entropy) { _ in "no entropy logged" }],
        chart: .metric(.entropy)
    ) { EntropyCollapseDetector($0.entropyCollapse) }
}
