/// Loss NaN/Inf: the optimizer has blown up.
///
/// Critical on the first non-finite loss of an episode (after the warmup, 0 by default); the episode
/// lasts until the loss has been finite for a few observations. Finite losses, negative ones included,
/// never alert.
public final class LossNaNDetector: Detector {
    public let id = DetectorID.lossNaN
    private var warmup: Warmup
    private var episode = Episode()
    private var clock = StepClock()

    public init(_ config: LossNaNConfig) {
        warmup = Warmup(steps: config.warmupSteps)
    }

    public func observe(_ step: MetricStep) -> Alert? {
        let tick = clock.tick(step.step)
        guard let loss = step.loss, warmup.observe(tick) else { return nil }
        guard episode.update(loss.isFinite ? nil : .critical) != nil else { return nil }
        let kind = nonFiniteKind(loss)
        return Alert(
            step: step.step, detector: id, severity: .critical,
            message: "Loss is non-finite (\(kind)) — every further update corrupts the policy.",
            metricValues: ["loss": .double(loss), "kind": .string(kind)],
            recommendation:
                "Stop the run now and revert to the last good checkpoint; the current weights cannot be resumed. "
                + "Before restarting: add gradient clipping (max_grad_norm=1.0) or tighten it, cut the learning "
                + "rate 5–10×, and check the loss for log(0), a divide-by-zero in advantage normalisation on a "
                + "constant batch, or fp16 overflow (use bf16). If a gradient-norm spike fired first, clipping is "
                + "the fix.")
    }
}
