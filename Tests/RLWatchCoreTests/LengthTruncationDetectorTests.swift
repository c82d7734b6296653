import RLWatchCore
import Testing

@Suite struct LengthTruncationDetectorTests {
    func detector(warmup: Int = 0, consecutive: Int = 3) -> LengthTruncationDetector {
        var config = LengthTruncationConfig()
        config.warmupSteps = warmup
        config.consecutiveSteps = consecutive
        return LengthTruncationDetector(config)
    }

    func clipped(_ values: [Double?]) -> [MetricStep] { extraSeries("completions/clipped_ratio", values) }

    @Test func defaultsAreTheDocumentedOnes() {
        let config = LengthTruncationConfig()
        #expect(config.enabled && config.warningRatio == 0.5 && config.criticalRatio == 0.9)
        // 15 training steps: three rows of a run logged every 5 steps (the count is in steps since issue 8's item 6).
        #expect(config.consecutiveSteps == 15 && config.warmupSteps == 0)
    }

    @Test func warningThenCriticalOncePerEpisode() {
        let alerts = feed(detector(), clipped(constant(0.6, 3) + constant(1.0, 5)))
        #expect(alerts.summary == ["3:warning", "6:critical"])
        #expect(alerts.allSatisfy { !$0.recommendation.isEmpty && $0.detector == .lengthTruncation })
        #expect(alerts[0].metricValues["clipped_ratio"] == .double(0.6))
        #expect(alerts[1].metricValues["consecutive_observations"] == .int(3))
        #expect(alerts[1].message.contains("100 %"))
        #expect(alerts[0].recommendation.contains("max completion length"))
        #expect(alerts[0].recommendation.contains("stop token"))
    }

    @Test func eachThresholdIsInclusive() {
        #expect(feed(detector(), clipped(constant(0.5, 3))).summary == ["3:warning"])
        #expect(feed(detector(), clipped(constant(0.499_999, 10))).isEmpty)
        #expect(feed(detector(), clipped(constant(0.9, 3))).summary == ["3:critical"])
        #expect(feed(detector(), clipped(constant(0.899_999, 10))).summary == ["3:warning"])
    }

    @Test func aTwoRowTransientStaysQuiet() {
        // The real TRL run's excursion at steps 40–50: 0.68, 0.98, 0.28.
        #expect(feed(detector(), clipped([0.675, 0.975, 0.275, 0.025])).isEmpty)
    }

    @Test func veRLKeyIsReadAndTRLsWinsWhenBothAreLogged() {
        let veRL = extraSeries("response_length/clip_ratio", constant(0.95, 3))
        #expect(feed(detector(), veRL).summary == ["3:critical"])
        var both = clipped(constant(0.1, 3))
        for index in both.indices { both[index].extras["response_length/clip_ratio"] = 0.95 }
        #expect(feed(detector(), both).isEmpty)
    }

    @Test func meanCompletionLengthIsInTheMetricValues() {
        var steps = clipped(constant(0.6, 3))
        steps[2].extras["response_length/mean"] = 2604.75
        let alert = feed(detector(), steps).first
        #expect(alert?.metricValues["mean_completion_length"] == .double(2604.75))
        #expect(alert?.message.contains("2604.8 tokens") == true)
        // Not logged: null, and no sentence about it.
        let plain = feed(detector(), clipped(constant(0.6, 3))).first
        #expect(plain?.metricValues["mean_completion_length"] == .null)
        #expect(plain?.message.contains("tokens") == false)
    }

    @Test func recoveryRearmsAndANewEpisodeAlertsAgain() {
        let values = constant(0.6, 3) + constant(0.05, 3) + constant(0.6, 3)
        #expect(feed(detector(), clipped(values)).summary == ["3:warning", "9:warning"])
        let brief = constant(0.6, 3) + constant(0.05, 2) + constant(0.6, 3)
        #expect(feed(detector(), clipped(brief)).summary == ["3:warning"])
    }

    @Test func nilAndNonFiniteValuesAreIgnored() {
        #expect(feed(detector(), clipped([0.6, .nan, nil, 0.6, .infinity, 0.6])).summary == ["6:warning"])
    }

    @Test func warmupBoundaryTheWarmupThObservationIsTheFirstEvaluated() {
        #expect(feed(detector(warmup: 4, consecutive: 1), clipped(constant(0.6, 5))).summary == ["4:warning"])
        let sparse = clipped([0.6, nil, 0.6, 0.6, nil, 0.6])
        #expect(feed(detector(warmup: 4, consecutive: 1), sparse).summary == ["6:warning"])
    }

    @Test func disabledDetectorIsNotBuilt() {
        var config = RLWatchConfig()
        config.lengthTruncation.enabled = false
        #expect(!DetectorRegistry.makeDetectors(config).contains { $0.id == .lengthTruncation })
        #expect(DetectorRegistry.makeDetectors(RLWatchConfig()).contains { $0.id == .lengthTruncation })
    }

    // MARK: Training steps, not log rows (issue 8 item 6)

    @Test(arguments: [1, 5, 10])
    func theDefaultFifteenStepsHoldAtAnyLoggingInterval(interval: Int) {
        // Fully truncated from step 101 on: 15 steps later (the first row at or after step 115) it is critical.
        let rows = stride(from: interval, through: 300, by: interval).map { step -> MetricStep in
            var row = MetricStep(step: step)
            row.extras = ["completions/clipped_ratio": step > 100 ? 1.0 : 0.02]
            return row
        }
        let alerts = feed(LengthTruncationDetector(LengthTruncationConfig()), rows)
        #expect(alerts.map(\.severity) == [.critical], "every \(interval): \(alerts.summary)")
        #expect((115..<(115 + interval)).contains(alerts[0].step), "every \(interval): \(alerts.summary)")
    }
}
