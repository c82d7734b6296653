import Foundation
import RLWatchCore
import Testing

@Suite struct EntropyExplosionDetectorTests {
    /// Small windows so each rule shows in a few steps: baseline of 4, warning above 4×, critical above 10×.
    func detector(warmup: Int = 0, consecutive: Int = 3, baseline: Int = 4) -> EntropyExplosionDetector {
        var config = EntropyExplosionConfig()
        config.warmupSteps = warmup
        config.consecutiveSteps = consecutive
        config.baselineWindow = baseline
        return EntropyExplosionDetector(config)
    }

    @Test func defaultsAreTheDocumentedOnes() {
        let config = EntropyExplosionConfig()
        #expect(config.enabled && config.warningRatio == 4 && config.criticalRatio == 10)
        // 15 training steps: three rows of a run logged every 5 steps (the count is in steps since issue 8's item 6).
        #expect(config.consecutiveSteps == 15 && config.baselineWindow == 10 && config.warmupSteps == 0)
    }

    @Test func warningThenCriticalOncePerEpisode() {
        let values = constant(0.25, 4) + constant(1.5, 3) + constant(3.0, 5)
        let alerts = feed(detector(), series(.entropy, values))
        #expect(alerts.summary == ["7:warning", "10:critical"])
        #expect(alerts.allSatisfy { !$0.recommendation.isEmpty && $0.detector == .entropyExplosion })
        #expect(alerts[0].metricValues["baseline_entropy"] == .double(0.25))
        #expect(alerts[0].metricValues["ratio"] == .double(6))
        #expect(alerts[1].metricValues["current_entropy"] == .double(3))
        #expect(alerts[1].metricValues["consecutive_observations"] == .int(3))
        #expect(alerts[1].recommendation.contains("checkpoint") && alerts[1].recommendation.contains("learning rate"))
    }

    @Test func baselineIsTheMedianSoAnOutlierInTheWindowDoesNotInflateIt() {
        // Median of [0.25, 0.25, 8, 0.25] is 0.25; the 8 is a baseline observation and is not judged.
        let values: [Double?] = [0.25, 0.25, 8, 0.25] + constant(1.5, 3)
        let alerts = feed(detector(), series(.entropy, values))
        #expect(alerts.summary == ["7:warning"])
        #expect(alerts.first?.metricValues["baseline_entropy"] == .double(0.25))
    }

    @Test func eachRatioIsStrict() {
        // 1.0 / 0.25 is exactly 4 and 2.5 / 0.25 exactly 10: neither alerts at its own tier.
        #expect(feed(detector(), series(.entropy, constant(0.25, 4) + constant(1.0, 6))).isEmpty)
        #expect(feed(detector(), series(.entropy, constant(0.25, 4) + constant(1.000_001, 3))).summary == ["7:warning"])
        #expect(feed(detector(), series(.entropy, constant(0.25, 4) + constant(2.5, 6))).summary == ["7:warning"])
        #expect(
            feed(detector(), series(.entropy, constant(0.25, 4) + constant(2.500_001, 3))).summary == ["7:critical"])
    }

    @Test func eachTierNeedsItsOwnConsecutiveObservations() {
        // Two above, one back to normal, two above: never three in a row.
        let values = constant(0.25, 4) + [1.5, 1.5, 0.3, 1.5, 1.5]
        #expect(feed(detector(), series(.entropy, values)).isEmpty)
        // One critical-level value inside a warning stretch does not escalate on its own.
        let spike = constant(0.25, 4) + [1.5, 1.5, 1.5, 5, 1.5, 1.5]
        #expect(feed(detector(), series(.entropy, spike)).summary == ["7:warning"])
    }

    @Test func warmupBoundaryAndBaselineObservationsAreNeverJudged() {
        // Warmup 6, baseline 4: observation 5 is past the baseline but inside the warmup; 6 is judged.
        let values = constant(0.25, 4) + constant(2.0, 3)
        #expect(feed(detector(warmup: 6, consecutive: 1), series(.entropy, values)).summary == ["6:warning"])
        // With no warmup the first judged observation is the one after the baseline.
        #expect(feed(detector(consecutive: 1), series(.entropy, values)).summary == ["5:warning"])
        // A run that explodes inside its baseline window has no baseline yet to compare with.
        #expect(feed(detector(consecutive: 1), series(.entropy, [0.25, 0.25, 3, 3])).isEmpty)
    }

    @Test func recoveryRearmsAndANewExplosionAlertsAgain() {
        let values = constant(0.25, 4) + constant(1.5, 3) + constant(0.25, 3) + constant(1.5, 3)
        #expect(feed(detector(), series(.entropy, values)).summary == ["7:warning", "13:warning"])
    }

    @Test func briefRecoveryBelowTheRearmCountDoesNotRealert() {
        let values = constant(0.25, 4) + constant(1.5, 3) + constant(0.25, 2) + constant(1.5, 3)
        #expect(feed(detector(), series(.entropy, values)).summary == ["7:warning"])
    }

    @Test func nilAndNonFiniteValuesAreIgnoredEverywhere() {
        // Not baseline observations, not breaks in a streak.
        let values: [Double?] = [0.25, nil, .nan, 0.25, 0.25, .infinity, 0.25, 1.5, -.infinity, 1.5, nil, 1.5]
        let alerts = feed(detector(), series(.entropy, values))
        #expect(alerts.summary == ["12:warning"])
        #expect(alerts.first?.metricValues["baseline_entropy"] == .double(0.25))
    }

    @Test func aZeroBaselineHasNoScaleAndIsCollectedAgain() {
        // Four zeros (entropy not computed yet) are discarded; the next four make the baseline.
        let values = constant(0, 4) + constant(0.25, 4) + constant(1.5, 3)
        let alerts = feed(detector(), series(.entropy, values))
        #expect(alerts.summary == ["11:warning"])
        #expect(alerts.first?.metricValues["baseline_entropy"] == .double(0.25))
    }

    @Test func completionLengthAndClippedRatioJoinTheMetricValuesWhenLogged() {
        var steps = series(.entropy, constant(0.25, 4) + constant(1.5, 3))
        steps[6].extras = ["completions/clipped_ratio": 0.75, "completions/mean_length": 498]
        let alert = feed(detector(), steps).first
        #expect(alert?.metricValues["clipped_ratio"] == .double(0.75))
        #expect(alert?.metricValues["mean_completion_length"] == .double(498))
        #expect(alert?.message.contains("75 % of completions") == true)
        // Without the extras those keys are absent.
        let plain = feed(detector(), series(.entropy, constant(0.25, 4) + constant(1.5, 3))).first
        #expect(plain?.metricValues["clipped_ratio"] == nil)
        #expect(plain?.metricValues["mean_completion_length"] == nil)
    }

    @Test func aSlowHealthyDriftAtRealScaleStaysQuiet() {
        // 0.05 rising steadily to 0.15 (3×) with ±10 % noise: under the 4× warning ratio.
        let values: [Double?] = (0..<400).map { (i: Int) -> Double? in
            let level: Double = 0.05 + 0.1 * Double(i) / 400
            let wiggle: Double = 0.1 * Double(i % 7 - 3) / 3
            return level * (1 + wiggle)
        }
        var config = EntropyExplosionConfig()
        config.consecutiveSteps = 3
        #expect(feed(EntropyExplosionDetector(config), series(.entropy, values)).isEmpty)
    }

    @Test func disabledDetectorIsNotBuilt() {
        var config = RLWatchConfig()
        config.entropyExplosion.enabled = false
        #expect(!DetectorRegistry.makeDetectors(config).contains { $0.id == .entropyExplosion })
        #expect(DetectorRegistry.makeDetectors(RLWatchConfig()).contains { $0.id == .entropyExplosion })
    }
}

@Suite struct EntropyExplosionConvergenceTests {
    @Test func aSteadyRiseWhileRewardClimbsIsNotAnExplosion() {
        // Entropy bonus on: entropy 0.13 → 0.65 (5× its early level) over 600 steps while reward climbs 0.2 → 0.8.
        let steps = (1...600).map { i in
            MetricStep(step: i, entropy: 0.13 * (1 + 4 * Double(i) / 600), rewardMean: 0.2 + 0.6 * Double(i) / 600)
        }
        #expect(feed(EntropyExplosionDetector(EntropyExplosionConfig()), steps).isEmpty)
        // The same rise while reward falls to 0 is the breakdown, and the alert records where it began.
        let failing = (1...600).map { i in
            MetricStep(step: i, entropy: 0.13 * (1 + 4 * Double(i) / 600), rewardMean: 0.5 * (1 - Double(i) / 600))
        }
        let alerts = feed(EntropyExplosionDetector(EntropyExplosionConfig()), failing)
        #expect(alerts.first?.severity == .warning)
        #expect(alerts.first.map { $0.onsetStep < $0.step } == true)
        #expect(alerts.allSatisfy { !$0.message.contains("critical at") })
    }
}
