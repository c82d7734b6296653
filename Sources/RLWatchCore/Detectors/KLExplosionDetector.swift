/// KL explosion: the policy is running away from the reference model.
///
/// A z-score against a rolling (default) or frozen baseline of earlier finite KL values, with a
/// minimum effect size (see `ZScoreRule`). NaN/±∞ KL values are ignored and never enter the baseline,
/// so one bad value cannot blind the detector (rlwatch 0.5.1 stays silent for a whole window after a NaN).
public final class KLExplosionDetector: Detector {
    public let id = DetectorID.klExplosion
    private let config: KLExplosionConfig
    private var spike: SpikeTracker

    public init(_ config: KLExplosionConfig) {
        self.config = config
        spike = SpikeTracker(
            warmupSteps: config.warmupSteps, window: config.rollingWindow, mode: config.baselineMode,
            rule: ZScoreRule(
                sigma: config.sigmaMultiplier, minRelativeIncrease: config.minRelativeIncrease,
                minimumValue: config.minKL))
    }

    public func observe(_ step: MetricStep) -> Alert? {
        let tick = spike.tick(step.step)
        guard let value = finite(step.klDivergence),
            let (severity, baseline, z) = spike.observe(value, tick: tick)
        else { return nil }
        let modeWord = config.baselineMode.rawValue
        let message =
            "KL divergence = \(f4(value)), \(fixed(z, decimals: 1))σ above its \(modeWord) baseline mean "
            + "\(f4(baseline.mean)) (\(fixed(SpikeTracker.magnitude(value, baseline), decimals: 1))×) — the policy is "
            + "drifting away from the reference model."
        let recommendation: String
        switch severity {
        case .critical:
            recommendation =
                "Raise the KL penalty coefficient 2–3× now and lower the learning rate. A KL this far out is "
                + "usually unrecoverable from the current weights: revert to a checkpoint from before the spike "
                + "and resume with the tighter coefficient. Check entropy too — if it is also falling, fix that first."
        case .warning:
            recommendation =
                "Increase the KL penalty coefficient (double it) or lower the learning rate, and inspect the "
                + "completions at this step for an out-of-distribution behaviour the reward model likes. Look at "
                + "entropy alongside KL."
        }
        return Alert(
            step: step.step, detector: id, severity: severity, message: message,
            metricValues: [
                "kl_divergence": .double(value),
                "rolling_mean": .double(baseline.mean),
                "rolling_std": .double(baseline.std),
                "z_score": .double(z),
                "clip_region": .double(config.clipRegion),
            ],
            recommendation: recommendation, magnitude: SpikeTracker.magnitude(value, baseline))
    }
}

/// Warmup, baseline, z-score rule and episode of a spike detector (KL, gradient norm), in one piece.
struct SpikeTracker {
    private var warmup: Warmup
    private var clock = StepClock()
    private var baseline: Baseline
    private var recent = SlidingWindow(capacity: SpikeTracker.recentCount)
    private let rule: ZScoreRule
    private(set) var episode = Episode()

    /// Observations that make up the "where the series just was" level of `ZScoreRule`.
    static let recentCount = 5

    init(warmupSteps: Int, window: Int, mode: BaselineMode, rule: ZScoreRule) {
        warmup = Warmup(steps: warmupSteps)
        baseline = Baseline(mode: mode, window: window)
        self.rule = rule
    }

    /// Judges a finite value against the baseline before it, then adds it to the baseline.
    ///
    /// The warmup counts training steps (`tick`, from ``tick(_:)``); the baseline and the recent level count
    /// observations.
    ///
    /// - Returns: the severity to alert at (start or escalation of an episode), the baseline and z-score.
    mutating func observe(_ value: Double, tick: StepTick) -> (Severity, BaselineStats, Double)? {
        defer {
            baseline.add(value)
            recent.append(value)
        }
        guard warmup.observe(tick), let stats = baseline.stats else {
            _ = episode.update(nil)
            return nil
        }
        let level = rule.level(value, stats, recentLevel: recent.count > 0 ? recent.mean : nil)
        guard let severity = episode.update(level, magnitude: Self.magnitude(value, stats)) else { return nil }
        return (severity, stats, rule.zScore(value, stats))
    }

    /// Records a row the detector sees, with or without its metric (see `StepClock`).
    mutating func tick(_ step: Int) -> StepTick { clock.tick(step) }

    /// Feeds a level decided outside the baseline (a non-finite gradient norm) into the episode.
    mutating func force(_ level: Severity, magnitude: Double) -> Severity? {
        episode.update(level, magnitude: magnitude)
    }

    /// How many times the baseline mean a value is: the alert's `magnitude`.
    static func magnitude(_ value: Double, _ baseline: BaselineStats) -> Double {
        value / max(abs(baseline.mean), 1e-12)
    }
}
