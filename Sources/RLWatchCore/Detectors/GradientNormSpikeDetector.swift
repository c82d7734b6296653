/// Gradient-norm spike: gradients exploded, usually the step before a NaN loss.
///
/// The same robust model as the KL detector (see ``SpikeRule``): a warning at `1 + min_relative_increase` ×
/// the run's own level (5× by default, the median of its earlier non-zero grad norms) held on two observations
/// in a row; a critical at `critical_ratio` × (20×) on its own step, or at half that on two in a row — real explosions are orders of magnitude
/// out (16,384 or 2.75e6 against 0.2; 111 against 0.1–3) while healthy small-batch runs log single-step grad
/// norms 5–10× their median. Exact zeros (every group got the same reward, so there was no gradient) never enter
/// the baseline, so a long dead stretch cannot blind the detector. A NaN/±∞ gradient norm is a critical on that
/// same step, whatever the warmup: the Hugging Face Trainer often hides the NaN loss that goes with it.
public final class GradientNormSpikeDetector: Detector {
    public let id = DetectorID.gradientNormSpike
    private let config: GradientNormSpikeConfig
    private var spike: SpikeTracker

    public init(_ config: GradientNormSpikeConfig) {
        self.config = config
        spike = SpikeTracker(
            warmupSteps: config.warmupSteps, window: config.rollingWindow, mode: config.baselineMode,
            rule: SpikeRule(
                warningRatio: 1 + config.minRelativeIncrease, criticalRatio: config.criticalRatio,
                sigma: config.sigmaMultiplier, upperRangeFraction: 1.0 / 3, sustainedCriticalRatio: config.criticalRatio / 2))
    }

    private static let criticalRecommendation =
        "Act on this now — gradient spikes are rarely transient: add gradient clipping (max_grad_norm=1.0) or "
        + "tighten it to 0.5, cut the learning rate 2–5× and restart from the last good checkpoint. In fp16, "
        + "switch to bf16 or add a loss scaler; look for a layer with exploding activations."

    public func observe(_ step: MetricStep) -> Alert? {
        let tick = spike.tick(step.step)
        guard let value = step.gradNorm else { return nil }
        guard value.isFinite else {
            guard spike.force(.critical, step: step.step) != nil else { return nil }
            return Alert(
                step: step.step, detector: id, severity: .critical,
                message:
                    "Gradient norm is non-finite (\(nonFiniteKind(value))) — the optimizer step has blown up; "
                    + "the loss is likely NaN even if the trainer's log does not show it.",
                metricValues: ["grad_norm": .double(value), "kind": .string(nonFiniteKind(value))],
                recommendation: Self.criticalRecommendation, magnitude: .infinity
            ).withOnset(step.step)
        }
        guard let judgement = spike.observe(value, step: step.step, tick: tick) else { return nil }
        let baseline = judgement.baseline
        let reached =
            judgement.severity == .critical
            ? "past the critical level (\(formatNumber(config.criticalRatio))× on one step, \(formatNumber(config.criticalRatio / 2))× on two in a row)"
            : "\(formatNumber(1 + config.minRelativeIncrease))× or more for two observations in a row"
        let message =
            "Gradient norm = \(f4(value)), \(fixed(judgement.ratio, decimals: 1))× its \(config.baselineMode.rawValue) "
            + "baseline (median \(baseline.map { f4($0.median) } ?? "?")) — \(reached): gradients are exploding; "
            + "this often precedes a NaN loss."
        let recommendation =
            judgement.severity == .critical
            ? Self.criticalRecommendation
            : "Set or tighten gradient clipping (max_grad_norm=1.0) and consider lowering the learning rate; "
                + "watch the next steps closely — a NaN loss often follows within 10–50 steps."
        var values: MetricValues = ["grad_norm": .double(value)]
        if let baseline {
            values["baseline_median"] = .double(baseline.median)
            values["baseline_scale"] = .double(baseline.scale)
            values["ratio"] = .double(judgement.ratio)
            values["z_score"] = .double(judgement.zScore)
        }
        return Alert(
            step: step.step, detector: id, severity: judgement.severity, message: message, metricValues: values,
            recommendation: recommendation, magnitude: judgement.ratio.isFinite ? judgement.ratio : nil
        ).withOnset(judgement.onsetStep)
    }
}

extension GradientNormSpikeDetector {
    /// The detector's entry in ``DetectorRegistry``.
    // swift-format-ignore
    public static let descriptor = DetectorDescriptor(
        id: .gradientNormSpike, summary: "Gradient norm spiking above its baseline.",
        enabled: \.gradientNormSpike.enabled,
        fields: [
            .double("gradient_norm_spike.sigma_multiplier", \.gradientNormSpike.sigmaMultiplier, .positive,
                    "Warning needs this many robust standard deviations above the baseline median; critical 1.5x (> 0)."),
            .int("gradient_norm_spike.rolling_window", \.gradientNormSpike.rollingWindow, .window(atLeast: 2),
                 "Observations in the baseline window (2-100000)."),
            .int("gradient_norm_spike.warmup_steps", \.gradientNormSpike.warmupSteps, .nonNegative,
                 "Training steps to see before this detector may fire (>= 0)."),
            .baselineMode("gradient_norm_spike.baseline_mode", \.gradientNormSpike.baselineMode,
                          "rolling: the last rolling_window values; frozen: the first full window, kept for the run."),
            .double("gradient_norm_spike.min_relative_increase", \.gradientNormSpike.minRelativeIncrease, .nonNegative,
                    "Warning: grad norm at least (1 + this) x the baseline median on two observations in a row (>= 0)."),
            .double("gradient_norm_spike.critical_ratio", \.gradientNormSpike.criticalRatio, .positive,
                    "Critical: grad norm at least this many times the baseline median, on its own step (> 0)."),
        ],
        inputs: [.metric(.gradNorm) { _ in "no grad_norm logged" }],
        chart: .metric(.gradNorm)
    ) { GradientNormSpikeDetector($0.gradientNormSpike) }
}
