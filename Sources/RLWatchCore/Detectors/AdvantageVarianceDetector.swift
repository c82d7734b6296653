/// Advantage-variance spike: the value/advantage estimates became unstable.
///
/// A ratio of the current advantage std to the baseline mean (not a z-score, as in rlwatch 0.5.1):
/// warning above `std_multiplier`, critical above twice it. A baseline that is zero or negative has no
/// scale and is not judged against (0.5.1 clamps it to 1e-8 and turns any positive value into a critical).
public final class AdvantageVarianceDetector: Detector {
    public let id = DetectorID.advantageVariance
    private let config: AdvantageVarianceConfig
    private var warmup: Warmup
    private var baseline: Baseline
    private var episode = Episode()
    private var clock = StepClock()

    public init(_ config: AdvantageVarianceConfig) {
        self.config = config
        warmup = Warmup(steps: config.warmupSteps)
        baseline = Baseline(mode: config.baselineMode, window: config.rollingWindow)
    }

    public func observe(_ step: MetricStep) -> Alert? {
        let tick = clock.tick(step.step)
        guard let value = finite(step.advantageStd) else { return nil }
        defer { baseline.add(value) }
        var level: Severity?
        var judged: (stats: BaselineStats, ratio: Double)?
        if warmup.observe(tick), let stats = baseline.stats, stats.mean > 0 {
            let ratio = value / stats.mean
            judged = (stats, ratio)
            level =
                ratio > 2 * config.stdMultiplier ? .critical : (ratio > config.stdMultiplier ? .warning : nil)
        }
        guard let severity = episode.update(level, magnitude: judged?.ratio), let (stats, ratio) = judged else { return nil }
        let message =
            "Advantage std = \(f4(value)), \(fixed(ratio, decimals: 1))× its \(config.baselineMode.rawValue) "
            + "baseline mean \(f4(stats.mean)) — the advantage estimates have become unstable."
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
                "baseline_mean": .double(stats.mean),
                "baseline_std": .double(stats.std),
                "ratio": .double(ratio),
            ],
            recommendation: recommendation, magnitude: ratio)
    }
}
