import RLWatchCore
import Testing

@Suite struct EntropyCollapseDetectorTests {
    func detector(warmup: Int = 1, consecutive: Int = 10, threshold: Double = 1.0) -> EntropyCollapseDetector {
        var config = EntropyCollapseConfig()
        config.warmupSteps = warmup
        config.consecutiveSteps = consecutive
        config.threshold = threshold
        return EntropyCollapseDetector(config)
    }

    @Test func warningAtHalfAndCriticalAtFullCountOncePerEpisode() {
        let alerts = feed(detector(), series(.entropy, constant(0.5, 30)))
        #expect(alerts.summary == ["5:warning", "10:critical"])
        #expect(alerts.allSatisfy { !$0.recommendation.isEmpty })
        #expect(alerts[1].metricValues["consecutive_steps_below"] == .int(10))
    }

    @Test func warmupBoundaryTheWarmupThObservationIsTheFirstEvaluated() {
        // consecutive 2 → warning at 1 below, critical at 2. With warmup 5, observations 1–4 are silent.
        let d = detector(warmup: 5, consecutive: 2)
        let alerts = feed(d, series(.entropy, constant(0.5, 5)))
        #expect(alerts.summary == ["5:warning"])
    }

    @Test func thresholdIsStrict() {
        #expect(feed(detector(consecutive: 2), series(.entropy, constant(1.0, 10))).isEmpty)
        #expect(feed(detector(consecutive: 2), series(.entropy, constant(0.999_999, 2))).summary == ["1:warning", "2:critical"])
    }

    @Test func recoveryRearmsAndANewCollapseAlertsAgain() {
        let values = constant(0.5, 10) + constant(2.0, 3) + constant(0.5, 10)
        let alerts = feed(detector(), series(.entropy, values))
        #expect(alerts.summary == ["5:warning", "10:critical", "18:warning", "23:critical"])
    }

    @Test func briefRecoveryBelowRearmCountDoesNotRealert() {
        // One healthy value resets the counter but the episode only ends after 3 quiet observations;
        // the counter below warning level is itself quiet, so the warning comes back after 5 more.
        let values = constant(0.5, 10) + [2.0] + constant(0.5, 4)
        #expect(feed(detector(), series(.entropy, values)).summary == ["5:warning", "10:critical"])
    }

    @Test func nilAndNonFiniteValuesAreIgnoredNotRecoveries() {
        var values: [Double?] = constant(0.5, 4)
        values += [nil, .nan, .infinity, -.infinity]
        values += constant(0.5, 6)
        let alerts = feed(detector(), series(.entropy, values))
        #expect(alerts.summary == ["9:warning", "14:critical"])
    }

    @Test func consecutiveOneGoesStraightToCritical() {
        #expect(feed(detector(consecutive: 1), series(.entropy, constant(0.5, 3))).summary == ["1:critical"])
    }

    @Test func disabledDetectorIsNotBuilt() {
        var config = RLWatchConfig()
        config.entropyCollapse.enabled = false
        #expect(!DetectorRegistry.makeDetectors(config).contains { $0.id == .entropyCollapse })
        #expect(DetectorRegistry.makeDetectors(RLWatchConfig()).count == DetectorID.all.count)
    }
}
