import RLWatchCore
import Testing

@Suite struct GradientNormSpikeDetectorTests {
    func detector(warmup: Int = 1, window: Int = 28, mode: BaselineMode = .frozen) -> GradientNormSpikeDetector {
        var config = GradientNormSpikeConfig()
        config.warmupSteps = warmup
        config.rollingWindow = window
        config.baselineMode = mode
        return GradientNormSpikeDetector(config)
    }

    let baseline = sawtooth(1.0, spread: 0.1, 40)

    @Test func postMortemExplosionIsCriticalOnItsStep() {
        // The real post-mortem: grad norms 0.1–3.0, then 111 (the warning sign), then 5.4e7 (the explosion).
        // 111 opens a critical episode; the explosion is 500,000× further out and is news of its own.
        let alerts = feed(detector(), series(.gradNorm, baseline + [111.17, 54_648_652]))
        #expect(alerts.summary == ["41:critical", "42:critical"])
        // Values that stay at the spike's level do not re-alert.
        #expect(feed(detector(), series(.gradNorm, baseline + [111.17, 150, 300, 900])).summary == ["41:critical"])
    }

    @Test func nonFiniteGradNormIsCriticalOnTheSameStepEvenDuringWarmup() {
        #expect(feed(detector(warmup: 20), series(.gradNorm, [0.5, .nan])).summary == ["2:critical"])
        let alerts = feed(detector(), series(.gradNorm, [.infinity]))
        #expect(alerts.summary == ["1:critical"])
        #expect(alerts[0].metricValues["kind"] == .string("+Inf"))
    }

    @Test func nanInsideTheFrozenWindowDoesNotKillTheDetector() {
        // 0.5.1 freezes a NaN baseline and is blind for the rest of the run.
        var values = baseline
        values.insert(.nan, at: 10)
        let alerts = feed(detector(), series(.gradNorm, values + [10.0]))
        #expect(alerts.summary == ["11:critical", "42:critical"])
    }

    @Test func slowHealthyClimbIsQuietAgainstTheFrozenBaseline() {
        // +50 % over 2,000 steps with ±10 % sawtooth noise: drift, not an explosion.
        let climb: [Double?] = (0..<2000).map { (i: Int) -> Double? in
            let trend = 1.0 + 0.5 * Double(i) / 2000
            let wiggle = 1.0 + 0.1 * Double(i % 7 - 3) / 3
            return trend * wiggle
        }
        #expect(feed(detector(window: 100), series(.gradNorm, climb)).isEmpty)
    }

    @Test func thresholdsBothSides() {
        // frozen baseline (4 full sawtooth periods): mean 1.0, std ≈ 0.0667; warning needs > 3σ and ≥ 2×, critical > 4.5σ and ≥ 3×.
        #expect(feed(detector(), series(.gradNorm, baseline + [1.99])).isEmpty)
        #expect(feed(detector(), series(.gradNorm, baseline + [2.01])).summary == ["41:warning"])
        #expect(feed(detector(), series(.gradNorm, baseline + [2.99])).summary == ["41:warning"])
        #expect(feed(detector(), series(.gradNorm, baseline + [3.01])).summary == ["41:critical"])
    }

    @Test func escalationFromWarningToCriticalWithinOneEpisode() {
        let alerts = feed(detector(), series(.gradNorm, baseline + [2.5, 2.6, 50.0, 60.0]))
        #expect(alerts.summary == ["41:warning", "43:critical"])
    }

    @Test func deadGradientThenRecoveryIsNotASpike() {
        // grad_norm exactly 0 (a dead learning signal), then learning resumes.
        #expect(feed(detector(), series(.gradNorm, constant(0, 60) + [0.3, 0.4, 0.5])).isEmpty)
    }
}
