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

    /// 30 steps of a 0.05 ± 0.01 sawtooth: median 0.05, a working per-token KL after the ramp.
    let baseline = sawtooth(0.05, spread: 0.01, 30)

    @Test func manyNatsPerTokenIsCriticalFromTheFirstSteps() {
        // The TRL run that blew up on step 2: no baseline, default warmup, KL 2.7e7.
        let blowUp = feed(KLExplosionDetector(KLExplosionConfig()), series(.klDivergence, [0.0003, 2.7e7]))
        #expect(blowUp.summary == ["2:critical"])
        #expect(blowUp[0].metricValues["critical_kl"] == .double(5))
        #expect(blowUp[0].message.contains("critical level"))
        // Just below the critical level on a single step: nothing yet.
        #expect(feed(KLExplosionDetector(KLExplosionConfig()), series(.klDivergence, [0.0003, 4.9])).isEmpty)
    }

    @Test func sustainedNatPerTokenWarnsWithoutABaseline() {
        let alerts = feed(KLExplosionDetector(KLExplosionConfig()), series(.klDivergence, [0.01, 1.2, 1.4]))
        #expect(alerts.summary == ["3:warning"])
        #expect(alerts[0].onsetStep == 2)
        #expect(!alerts[0].message.contains("critical"))
        #expect(feed(KLExplosionDetector(KLExplosionConfig()), series(.klDivergence, [0.01, 1.2, 0.3])).isEmpty)
    }

    @Test func nonFiniteKLIsCriticalOnItsStep() {
        for bad in [Double.nan, .infinity, -.infinity] {
            let alerts = feed(KLExplosionDetector(KLExplosionConfig()), series(.klDivergence, [0.01, bad, bad]))
            #expect(alerts.summary == ["2:critical"], "\(bad)")
        }
    }

    @Test func aRelativeRiseMustHoldTwoObservations() {
        // 0.2 is 4× the median and many robust σ out: a warning on the second observation, onset the first.
        let alerts = feed(detector(), series(.klDivergence, baseline + [0.2, 0.2]))
        #expect(alerts.summary == ["32:warning"])
        #expect(alerts[0].onsetStep == 31)
        #expect(
            alerts[0].metricValues.keys
                == ["kl_divergence", "baseline_median", "baseline_scale", "ratio", "z_score", "clip_region", "onset_step"])
        // One step out and straight back: the ordinary excursion of a small-batch run.
        #expect(feed(detector(), series(.klDivergence, baseline + [0.9] + baseline)).isEmpty)
        // 10× twice in a row is critical, and the message says it reached the critical level.
        let critical = feed(detector(), series(.klDivergence, baseline + [0.6, 0.6]))
        #expect(critical.summary == ["32:critical"])
        #expect(critical[0].message.contains("critical level"))
    }

    @Test func noEvaluationBeforeTwentyBaselineObservations() {
        let values = sawtooth(0.05, spread: 0.01, 19) + [0.6, 0.6]
        #expect(feed(detector(), series(.klDivergence, values)).isEmpty)
        let enough = sawtooth(0.05, spread: 0.01, 20) + [0.6, 0.6]
        #expect(feed(detector(), series(.klDivergence, enough)).summary == ["22:critical"])
    }

    @Test func warmupBoundary() {
        // warmup 25: the 25th observation is the first evaluated, the 26th the second in a row.
        let at25 = sawtooth(0.05, spread: 0.01, 24) + [0.6, 0.6]
        #expect(feed(detector(warmup: 25), series(.klDivergence, at25)).summary == ["26:critical"])
        let at24 = sawtooth(0.05, spread: 0.01, 23) + [0.6, 0.6]
        #expect(feed(detector(warmup: 25), series(.klDivergence, at24)).isEmpty)
    }

    @Test func sustainedSpikeIsOneEpisodeThenRearms() {
        let values = baseline + constant(0.6, 5) + sawtooth(0.05, spread: 0.01, 5) + [0.6, 0.6]
        let alerts = feed(detector(window: 30, mode: .frozen), series(.klDivergence, values))
        #expect(alerts.summary == ["32:critical", "42:critical"])
    }

    @Test func aSpikeDoesNotHideTheNextOne() {
        // 0.5.1 (and a mean/std baseline): one KL of 36,108 lifts the rolling mean so far that the next spike
        // looks normal. The robust baseline leaves the first spike out.
        let values = baseline + [36_108, 36_108] + sawtooth(0.05, spread: 0.01, 10) + [0.6, 0.6]
        let alerts = feed(detector(), series(.klDivergence, values))
        #expect(alerts.summary == ["31:critical", "44:critical"])
    }

    @Test func nonFiniteValuesNeverPoisonTheBaseline() {
        // 0.5.1: one NaN in the window blinds the detector for the next `window` steps.
        let values = baseline + [.nan, .infinity, -.infinity] + sawtooth(0.05, spread: 0.01, 5) + [0.6, 0.6]
        let alerts = feed(detector(), series(.klDivergence, values))
        #expect(alerts.summary == ["31:critical", "40:critical"])
    }

    @Test func theRampAtTheStartOfARunIsQuiet() {
        // KL grows from ~5e-4 to 0.08 over 60 steps (160×) and levels off, with ±10 % noise: every healthy run.
        let ramp: [Double?] = (0..<120).map { (i: Int) -> Double? in
            let level = 0.0005 + 0.08 * (1 - exp(-Double(i) / 20))
            return level * (1 + 0.1 * Double(i % 7 - 3) / 3)
        }
        #expect(feed(KLExplosionDetector(KLExplosionConfig()), series(.klDivergence, ramp)).isEmpty)
        // …while the same run climbing on past a nat per token is caught.
        let runaway: [Double?] = (1...10).map { 0.08 * pow(1.6, Double($0)) }
        let alerts = feed(KLExplosionDetector(KLExplosionConfig()), series(.klDivergence, ramp + runaway))
        #expect(alerts.first.map { $0.step <= 124 } == true, "\(alerts.summary)")
    }

    @Test func tinyKLNeverAlertsBelowMinKL() {
        // A real sparse-reward run: KL 0.0002 → 0.0006 is 3× its baseline and many σ out, yet no explosion.
        let tiny = sawtooth(0.0002, spread: 0.00002, 30) + [0.0007, 0.0007]
        #expect(feed(detector(), series(.klDivergence, tiny)).isEmpty)
        var config = KLExplosionConfig()
        config.warmupSteps = 1
        config.minKL = 0
        #expect(feed(KLExplosionDetector(config), series(.klDivergence, tiny)).summary == ["32:warning"])
    }

    @Test func frozenBaselineCatchesASlowDrift() {
        // A slow climb 0.05 → 0.35 over 120 steps: the frozen baseline (the first full window) keeps the early
        // level, so the drift is reported once it has tripled it.
        let drift: [Double?] = (0..<120).map { 0.05 + 0.0025 * Double($0) }
        let alerts = feed(detector(window: 30, mode: .frozen), series(.klDivergence, baseline + drift))
        #expect(alerts.first?.severity == .warning)
        #expect(alerts.first.map { (70...80).contains($0.step) } == true, "\(alerts.summary)")
    }

    @Test func zeroAndConstantBaselinesNeverDivideByZero() {
        // KL is exactly 0 before the first update: no scale, nothing to judge against.
        #expect(feed(detector(), series(.klDivergence, constant(0, 50) + [1e-4, 2e-4, 5e-4])).isEmpty)
        // A constant baseline: the spread is floored, so a tiny wiggle is nothing and 4× is a warning.
        #expect(feed(detector(), series(.klDivergence, constant(0.05, 30) + [0.0505, 0.0505])).isEmpty)
        #expect(feed(detector(), series(.klDivergence, constant(0.05, 30) + [0.2, 0.2])).summary == ["32:warning"])
    }

    @Test func nilStepsAreNotObservations() {
        var values: [Double?] = []
        for value in baseline { values += [value, nil] }
        values += [0.6, nil, 0.6]
        let alerts = feed(detector(), series(.klDivergence, values))
        #expect(alerts.summary == ["63:critical"])
    }
}
