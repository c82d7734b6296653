import Foundation
import RLWatchCore
import Testing

@Suite struct KLExplosionDetectorTests {
    func detector(warmup: Int = 1, window: Int = 100, mode: BaselineMode = .rolling) -> KLExplosionDetector {
        var config = KLExplosionConfig()
        config.warmupSteps = warmup
        config.rollingWindow = window
        config.baselineMode = mode
        return KLExplosionDetector(config)
    }

    /// 30 steps of a 0.01 ± 0.002 sawtooth: mean 0.01, population std ≈ 0.00153.
    let baseline = sawtooth(0.01, spread: 0.002, 30)

    @Test func spikeIsCriticalOnTheStepItHappens() {
        let alerts = feed(detector(), series(.klDivergence, baseline + [5.0]))
        #expect(alerts.summary == ["31:critical"])
        #expect(alerts[0].metricValues.keys == ["kl_divergence", "rolling_mean", "rolling_std", "z_score", "clip_region"])
    }

    @Test func warningNeedsBothSigmaAndEffectSize() {
        // 0.021: z ≈ 7 (> 4.5) but only 2.1× the mean (< 3× for critical) → warning.
        #expect(feed(detector(), series(.klDivergence, baseline + [0.021])).summary == ["31:warning"])
        // 0.019: z ≈ 5.9 yet below 2× the mean → nothing: a statistically "significant" wiggle.
        #expect(feed(detector(), series(.klDivergence, baseline + [0.019])).isEmpty)
        // 0.031: 3.1× the mean and z ≈ 13.7 → critical.
        #expect(feed(detector(), series(.klDivergence, baseline + [0.031])).summary == ["31:critical"])
    }

    @Test func noEvaluationBeforeTwentyBaselineObservations() {
        let values = sawtooth(0.01, spread: 0.002, 19) + [5.0]
        #expect(feed(detector(), series(.klDivergence, values)).isEmpty)
        let enough = sawtooth(0.01, spread: 0.002, 20) + [5.0]
        #expect(feed(detector(), series(.klDivergence, enough)).summary == ["21:critical"])
    }

    @Test func warmupBoundary() {
        // warmup 25: the 25th observation is the first evaluated.
        let at25 = sawtooth(0.01, spread: 0.002, 24) + [5.0]
        #expect(feed(detector(warmup: 25), series(.klDivergence, at25)).summary == ["25:critical"])
        let at24 = sawtooth(0.01, spread: 0.002, 23) + [5.0]
        #expect(feed(detector(warmup: 25), series(.klDivergence, at24)).isEmpty)
    }

    @Test func sustainedSpikeIsOneEpisodeThenRearms() {
        let values = baseline + constant(5.0, 5) + sawtooth(0.01, spread: 0.002, 5) + [5.0]
        // A frozen baseline keeps the spike values out, so the second spike is judged like the first.
        let alerts = feed(detector(window: 30, mode: .frozen), series(.klDivergence, values))
        #expect(alerts.summary == ["31:critical", "41:critical"])
    }

    @Test func nonFiniteValuesNeverPoisonTheBaseline() {
        // 0.5.1: one NaN in the window blinds the detector for the next `window` steps.
        let values = baseline + [.nan, .infinity, -.infinity] + sawtooth(0.01, spread: 0.002, 5) + [5.0]
        let alerts = feed(detector(), series(.klDivergence, values))
        #expect(alerts.summary == ["39:critical"])
        #expect(feed(detector(window: 20, mode: .frozen), series(.klDivergence, [.nan] + baseline + [5.0])).summary == ["32:critical"])
    }

    @Test func smoothEarlyGrowthIsNotASpike() {
        // KL grows from ~0 and levels off, like a healthy run's first steps (with ±10 % noise):
        // 6× its starting value by step 60, yet never a jump relative to where it just was.
        let growth: [Double?] = (0..<60).map { (i: Int) -> Double? in
            let level = 0.002 + 0.028 * (1 - exp(-Double(i) / 30))
            let wiggle = 1 + 0.1 * Double(i % 7 - 3) / 3
            return level * wiggle
        }
        #expect(feed(detector(), series(.klDivergence, growth)).isEmpty)
        // …but a jump to 4× the current level is a spike on its step.
        #expect(feed(detector(), series(.klDivergence, growth + [0.1])).summary == ["61:critical"])
        // …and a runaway that keeps accelerating reaches the critical gate against the baseline.
        let runaway: [Double?] = (0..<40).map { (i: Int) -> Double? in 0.025 * (1 + 0.02 * Double(i * i)) }
        #expect(feed(detector(), series(.klDivergence, growth + runaway)).first?.severity == .critical)
    }

    @Test func tinyKLNeverAlertsBelowMinKL() {
        // A real sparse-reward run: KL 0.0002 → 0.0006 is 3× its baseline and 4σ out, yet no explosion.
        let tiny = sawtooth(0.0002, spread: 0.00002, 30) + [0.0006]
        #expect(feed(detector(), series(.klDivergence, tiny)).isEmpty)
        var config = KLExplosionConfig()
        config.warmupSteps = 1
        config.minKL = 0
        #expect(feed(KLExplosionDetector(config), series(.klDivergence, tiny)).summary == ["31:critical"])
    }

    @Test func zeroAndConstantBaselinesNeverDivideByZero() {
        // KL is exactly 0 before the first update: no scale, nothing to judge against.
        #expect(feed(detector(), series(.klDivergence, constant(0, 50) + [1e-4, 2e-4, 5e-4])).isEmpty)
        // A constant non-zero baseline: std 0 is floored, doubling still warns, a tiny wiggle does not.
        #expect(feed(detector(), series(.klDivergence, constant(0.01, 30) + [0.0101])).isEmpty)
        #expect(feed(detector(), series(.klDivergence, constant(0.01, 30) + [0.05])).summary == ["31:critical"])
    }

    @Test func nilStepsAreNotObservations() {
        var values: [Double?] = []
        for value in baseline { values += [value, nil] }
        values.append(5.0)
        let alerts = feed(detector(), series(.klDivergence, values))
        #expect(alerts.summary == ["61:critical"])
    }
}
