/// Gradient-norm spike: gradients exploded, usually the step before a NaN loss.
///
/// The same z-score model as the KL detector, with a frozen baseline by default (grad norms drift up
/// slowly on healthy runs; a rolling baseline would follow a real climb). A NaN/±∞ gradient norm is a
/// critical on that same step, whatever the warmup: the Hugging Face Trainer often hides the NaN loss
/// that goes with it, so a non-finite grad norm may be the only symptom a user sees.
public final class GradientNormSpikeDetector: Detector {
    public let id = DetectorID.gradientNormSpike
    private let config: GradientNormSpikeConfig
    private var spike: SpikeTracker

    public init(_ config: GradientNormSpikeConfig) {
        self.config = config
        spike = SpikeTracker(
            warmupSteps: config.warmupSteps, window: config.rollingWindow, mode: config.baselineMode,
            rule: ZScoreRule(sigma: config.sigmaMultiplier, minRelativeIncrease: config.minRelativeIncrease))
    }

    private static let criticalRecommendation =
        "Act on this now — gradient spikes are rarely transient: add gradient clipping (max_grad_norm=1.0) or "
        + "tighten it to 0.5, cut the learning rate 2–5× and restart from the last good checkpoint. In fp16, "
        + "switch to bf16 or add a loss scaler; look for a layer with exploding activations."

    public func observe(_ step: MetricStep) -> Alert? {
        let tick = spike.tick(step.step)
        guard let value = step.gradNorm else { return nil }
        guard value.isFinite else {
            guard spike.force(.critical, magnitude: .infinity) != nil else { return nil }
            return Alert(
                step: step.step, detector: id, severity: .critical,
                message:
                    "Gradient norm is non-finite (\(nonFiniteKind(value))) — the optimizer step has blown up; "
                    + "the loss is likely NaN even if the trainer's log does not show it.",
                metricValues: ["grad_norm": .double(value), "kind": .string(nonFiniteKind(value))],
                recommendation: Self.criticalRecommendation, magnitude: .infinity)
        }
        guard let (severity, baseline, z) = spike.observe(value, tick: tick) else { return nil }
        let message =
            "Gradient norm = \(f4(value)), \(fixed(z, decimals: 1))σ above its \(config.baselineMode.rawValue) "
            + "baseline mean \(f4(baseline.mean)) (\(fixed(SpikeTracker.magnitude(value, baseline), decimals: 1))×) — "
            + "gradients are exploding; this often precedes a NaN loss."
        let recommendation =
            severity == .critical
            ? Self.criticalRecommendation
            : "Set or tighten gradient clipping (max_grad_norm=1.0) and consider lowering the learning rate; "
                + "watch the next steps closely — a NaN loss often follows within 10–50 steps."
        return Alert(
            step: step.step, detector: id, severity: severity, message: message,
            metricValues: [
                "grad_norm": .double(value),
                "baseline_mean": .double(baseline.mean),
                "baseline_std": .double(baseline.std),
                "z_score": .double(z),
            ],
            recommendation: recommendation, magnitude: SpikeTracker.magnitude(value, baseline))
    }
}
