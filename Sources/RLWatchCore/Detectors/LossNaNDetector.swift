/// Loss NaN/Inf or exploded: the optimizer has blown up.
///
/// Critical on the first non-finite loss of an episode (after the warmup, 0 by default), and on a finite loss
/// whose magnitude is `explosionFactor` (1,000) times the run's typical magnitude — the median |loss| of its
/// earlier non-zero observations, floored at 0.01 — or more: a loss of 1e6 on step 2 of a run whose losses were ~0.1,
/// a custom loop's 4.8e3 against a median of 0.2. RL losses are noisy and change sign, so nothing short of
/// orders of magnitude counts. The episode lasts until the loss has been back to normal for a few observations.
public final class LossNaNDetector: Detector {
    public let id = DetectorID.lossNaN
    private var warmup: Warmup
    private var episode = Episode()
    private var clock = StepClock()
    private var magnitudes = RobustWindow(capacity: 100)
    private var onset: Int?

    /// How many times the typical |loss| a finite loss must be to count as exploded.
    public static let explosionFactor = 1000.0
    /// The typical |loss| is floored at this, so a loss that sits at ~0 (GRPO with beta 0 often logs 0.0)
    /// does not make 0.5 look exploded.
    public static let magnitudeFloor = 0.01

    public init(_ config: LossNaNConfig) {
        warmup = Warmup(steps: config.warmupSteps)
    }

    public func observe(_ step: MetricStep) -> Alert? {
        let tick = clock.tick(step.step)
        guard let loss = step.loss else { return nil }
        let evaluated = warmup.observe(tick)
        var typical: Double?
        if loss.isFinite, let levels = magnitudes.levels {
            typical = max(levels.median, Self.magnitudeFloor)
        }
        let exploded = loss.isFinite && typical.map { abs(loss) >= Self.explosionFactor * $0 } == true
        // Exact zeros (a GRPO step whose groups all got the same reward logs loss 0) say nothing about scale.
        if loss.isFinite, !exploded, loss != 0 { magnitudes.append(abs(loss)) }
        guard evaluated else { return nil }
        let wasActive = episode.isActive
        guard let severity = episode.update(loss.isFinite && !exploded ? nil : .critical) else {
            if !episode.isActive { onset = nil }
            return nil
        }
        if !wasActive { onset = step.step }
        let recommendation =
            "Stop the run now and revert to the last good checkpoint; the current weights cannot be resumed. "
            + "Before restarting: add gradient clipping (max_grad_norm=1.0) or tighten it, cut the learning "
            + "rate 5–10×, and check the loss for log(0), a divide-by-zero in advantage normalisation on a "
            + "constant batch, or fp16 overflow (use bf16). If a gradient-norm spike fired first, clipping is "
            + "the fix."
        if loss.isFinite, let typical {
            let factor = abs(loss) / typical
            return Alert(
                step: step.step, detector: id, severity: severity,
                message:
                    "Loss exploded: \(formatNumber(loss)), \(fixed(factor, decimals: 0))× the run's typical "
                    + "magnitude (median |loss| \(f4(typical))) — the update has blown up even though the value is "
                    + "still finite.",
                metricValues: ["loss": .double(loss), "typical_abs_loss": .double(typical), "factor": .double(factor)],
                recommendation: recommendation, magnitude: factor
            ).withOnset(onset ?? step.step)
        }
        let kind = nonFiniteKind(loss)
        return Alert(
            step: step.step, detector: id, severity: severity,
            message: "Loss is non-finite (\(kind)) — every further update corrupts the policy.",
            metricValues: ["loss": .double(loss), "kind": .string(kind)],
            recommendation: recommendation
        ).withOnset(onset ?? step.step)
    }
}

extension LossNaNDetector {
    /// The detector's entry in ``DetectorRegistry``.
    // swift-format-ignore
    public static let descriptor = DetectorDescriptor(
        id: .lossNaN, summary: "Loss becoming NaN or infinite (critical on every such step).",
        enabled: \.lossNaN.enabled,
        fields: [
            .int("loss_nan.warmup_steps", \.lossNaN.warmupSteps, .nonNegative,
                 "Training steps to see before this detector may fire (>= 0)."),
        ],
        inputs: [.metric(.loss) { _ in "no loss logged" }],
        chart: .metric(.loss)
    ) { LossNaNDetector($0.lossNaN) }
}
