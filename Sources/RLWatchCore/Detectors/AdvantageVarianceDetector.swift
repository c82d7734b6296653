/// Advantage-variance spike: the value/advantage estimates became unstable.
///
/// A ratio of the current advantage std to the run's own level — the median of its earlier non-zero values
/// (see ``RobustBaseline``) — not a z-score, as in rlwatch 0.5.1: warning above `std_multiplier`, critical above
/// twice it, each held on two observations in a row (see ``SpikeRule``). Zeros stay out of the baseline: with
/// group-normalised advantages the std is ≈1 on every step with any reward variance and exactly 0 on a step
/// where every group got the same reward, so a baseline *mean* over both (≈0.3) made every ordinary step look
/// 3× "unstable". A baseline that is zero or negative has no scale and is not judged against.
public final class AdvantageVarianceDetector: Detector {
    public let id = DetectorID.advantageVariance
    private let config: AdvantageVarianceConfig
    private var spike: SpikeTracker

    public init(_ config: AdvantageVarianceConfig) {
        self.config = config
        spike = SpikeTracker(
            warmupSteps: config.warmupSteps, window: config.rollingWindow, mode: config.baselineMode,
            rule: SpikeRule(
                warningRatio: config.stdMultiplier, criticalRatio: 2 * config.stdMultiplier, sigma: 0,
                persistence: 2))
    }

    public func observe(_ step: MetricStep) -> Alert? {
        let tick = spike.tick(step.step)
        // A standard deviation is never negative; zero (no variance at all) has no scale.
        guard let value = finite(step.advantageStd), value > 0,
            let judgement = spike.observe(value, step: step.step, tick: tick), let stats = judgement.baseline
        else { return nil }
        let severity = judgement.severity
        let message =
            "Advantage std = \(f4(value)), \(fixed(judgement.ratio, decimals: 1))× its \(config.baselineMode.rawValue) "
            + "baseline (median \(f4(stats.median))) — the advantage estimates have become unstable."
        let recommendation =
            severity == .critical
            ? "Enable advantage normalisation (the most common fix), increase the batch size, and lower the "
                + "learning rate so the value estimates can catch up. Spikes like this often precede a gradient "
                + "explosion or entropy collapse by 50–100 steps."
            : "Turn on advantage normalisation if it is off and consider a larger batch. Treat this as an early "
                + "warning: watch gradient norm and entropy over the next steps."
        return Alert(
            step: step.step, detector: id, severity: severity, message: message,
            metricValues: [
                "advantage_std": .double(value),
                "baseline_median": .double(stats.median),
                "baseline_scale": .double(stats.scale),
                "ratio": .double(judgement.ratio),
            ],
            recommendation: recommendation, magnitude: judgement.ratio
        ).withOnset(judgement.onsetStep)
    }
}

extension AdvantageVarianceDetector {
    /// The detector's entry in ``DetectorRegistry``.
    // swift-format-ignore
    public static let descriptor = DetectorDescriptor(
        id: .advantageVariance, summary: "Advantage standard deviation blowing up relative to its baseline.",
        enabled: \.advantageVariance.enabled,
        fields: [
            .double("advantage_variance.std_multiplier", \.advantageVariance.stdMultiplier, .positive,
                    "Warning when advantage std exceeds the baseline mean by this factor; critical above 2x (> 0)."),
            .int("advantage_variance.rolling_window", \.advantageVariance.rollingWindow, .window(atLeast: 2),
                 "Observations in the baseline window (2-100000)."),
            .int("advantage_variance.warmup_steps", \.advantageVariance.warmupSteps, .nonNegative,
                 "Training steps to see before this detector may fire (>= 0)."),
            .baselineMode("advantage_variance.baseline_mode", \.advantageVariance.baselineMode,
                          "rolling: the last rolling_window values; frozen: the first full window, kept for the run."),
        ],
        inputs: [
            .metric(.advantageStd) { coverage in
                var why = "no advantage_std logged"
                if coverage.looksLikeVeRL { why += " (veRL logs critic/advantages/mean, max and min, no std)" }
                if coverage.looksLikeTRL { why += " (TRL does not log one)" }
                return why
            }
        ],
        chart: .metric(.advantageStd)
    ) { AdvantageVarianceDetector($0.advantageVariance) }
}
