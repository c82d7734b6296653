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
        let alerts = feed(detector(), series(.gradNorm, values + [25.0]))
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
        // Baseline median 1.0: a warning needs ≥ 5× on two observations in a row, a critical ≥ 20× on one.
        #expect(feed(detector(), series(.gradNorm, baseline + [4.9, 4.9])).isEmpty)
        #expect(feed(detector(), series(.gradNorm, baseline + [5.1, 5.1])).summary == ["42:warning"])
        #expect(feed(detector(), series(.gradNorm, baseline + [5.1])).isEmpty)
        #expect(feed(detector(), series(.gradNorm, baseline + [19.9])).isEmpty)
        #expect(feed(detector(), series(.gradNorm, baseline + [20.1])).summary == ["41:critical"])
    }

    @Test func singleStepSpikesOfASmallBatchRunAreQuiet() {
        // A one-prompt-per-step run logs 5–10× spikes that come straight back (4.19 against a median of 0.45).
        let noisy = sawtooth(0.45, spread: 0.2, 50)
        let values = noisy + [2.5] + noisy + [4.86] + noisy + [4.19] + noisy
        #expect(feed(detector(window: 100, mode: .rolling), series(.gradNorm, values)).isEmpty)
    }

    @Test func escalationFromWarningToCriticalWithinOneEpisode() {
        let alerts = feed(detector(), series(.gradNorm, baseline + [5.5, 5.6, 50.0, 60.0]))
        #expect(alerts.summary == ["42:warning", "43:critical"])
        #expect(alerts[0].onsetStep == 41)
    }

    @Test func aDeadStretchDoesNotBlindTheDetector() {
        // grad_norm exactly 0 for 200 steps (every group got the same reward), then a spike 100× the live level.
        let values = baseline + constant(0, 200) + [100.0]
        let alerts = feed(detector(window: 100, mode: .rolling), series(.gradNorm, values))
        #expect(alerts.summary == ["241:critical"])
    }

    @Test func deadGradientThenRecoveryIsNotASpike() {
        // grad_norm exactly 0 (a dead learning signal), then learning resumes.
        #expect(feed(detector(), series(.gradNorm, constant(0, 60) + [0.3, 0.4, 0.5])).isEmpty)
    }
}

@Suite struct GradientNormBimodalTests {
    @Test func liveStepsOfAMostlyDeadRunAreNotSpikes() {
        // Two thirds of the steps have no reward variance (grad norm ≈ 0.002 from the KL term alone), the rest learn
        // (≈ 0.6): the median sits at the dead level, so a live step is 300× the median but inside the run's range.
        let values: [Double?] = (0..<300).map { (i: Int) -> Double? in
            let live = 0.55 + 0.05 * Double(i % 7) / 7
            let dead = 0.002 + 0.0005 * Double(i % 5)
            return i % 3 == 0 ? live : dead
        }
        var config = GradientNormSpikeConfig()
        config.warmupSteps = 1
        #expect(feed(GradientNormSpikeDetector(config), series(.gradNorm, values)).isEmpty)
        // A real explosion in the same run (16,384) is still critical on its step.
        let alerts = feed(GradientNormSpikeDetector(config), series(.gradNorm, values + [16_384]))
        #expect(alerts.summary == ["301:critical"])
    }
}
