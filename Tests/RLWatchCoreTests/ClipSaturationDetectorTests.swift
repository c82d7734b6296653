import RLWatchCore
import Testing

@Suite struct ClipSaturationDetectorTests {
    func detector(warmup: Int = 20) -> ClipSaturationDetector {
        var config = ClipSaturationConfig()
        config.warmupSteps = warmup
        return ClipSaturationDetector(config)
    }

    @Test func defaultsAreTheDocumentedOnes() {
        let config = RLWatchConfig().clipSaturation
        #expect(config.enabled && config.warningFraction == 0.3 && config.criticalFraction == 0.5)
        #expect(config.consecutiveSteps == 20 && config.warmupSteps == 20)
    }

    @Test func sustainedClippingWarnsThenEscalates() {
        let values: [Double?] = noisy(0.004, relative: 0.5, 30).map { $0 } + constant(0.35, 20) + constant(0.6, 20)
        let alerts = feed(detector(), series(.clipFraction, values))
        #expect(alerts.summary == ["50:warning", "70:critical"])
        #expect(alerts[0].onsetStep == 31)
        #expect(alerts[0].metricValues["clip_fraction"] == .double(0.35))
        #expect(alerts[0].recommendation.contains("learning rate"))
    }

    @Test func realScaleHealthyRunsStayQuiet() {
        // veRL GRPO 0.0005–0.004; veRL PPO up to 0.006; a diverging run's 0.07; bursts to 0.25 on single rows.
        for seed in 1...20 as ClosedRange<UInt64> {
            var values = noisy(0.02, relative: 0.9, 400, seed: seed)
            for index in stride(from: 50, to: 400, by: 37) { values[index] = 0.25 + Double(seed) / 100 }
            #expect(feed(detector(), series(.clipFraction, values.map { $0 })).isEmpty, "seed \(seed)")
        }
    }

    @Test func openRLHFAndTheVeRLLowerFractionAreRead() {
        let rows = (1...50).map { _ in ["ppo_clip_ratio": 0.4] }
        #expect(feed(detector(), loggedEvery(1, rows)).summary == ["39:warning"])
        var step = MetricStep(step: 1, clipFraction: 0.2, extras: ["actor/pg_clipfrac_lower": 0.15])
        #expect(ClipSaturationDetector.clipFraction(step) == 0.35)
        step.clipFraction = .nan
        #expect(ClipSaturationDetector.clipFraction(step) == nil)
    }

    @Test func aTransientShorterThanTheStreakStaysQuiet() {
        let values: [Double?] = constant(0.01, 30) + constant(0.9, 15) + constant(0.01, 30)
        #expect(feed(detector(), series(.clipFraction, values)).isEmpty)
    }
}
