import RLWatchCore
import Testing

@Suite struct LearningSignalDeadDetectorTests {
    /// Warning after 3 dead observations, critical after 9.
    func detector(warmup: Int = 0, consecutive: Int = 3, threshold: Double = 0.95) -> LearningSignalDeadDetector {
        var config = LearningSignalDeadConfig()
        config.warmupSteps = warmup
        config.consecutiveSteps = consecutive
        config.fracZeroStdThreshold = threshold
        return LearningSignalDeadDetector(config)
    }

    func frac(_ values: [Double?]) -> [MetricStep] { extraSeries("frac_reward_zero_std", values) }

    /// Steps with a reward std and, where given, a grad norm.
    func flat(_ pairs: [(std: Double?, grad: Double?)]) -> [MetricStep] {
        pairs.enumerated().map { MetricStep(step: $0.offset + 1, rewardStd: $0.element.std, gradNorm: $0.element.grad) }
    }

    @Test func defaultsAreTheDocumentedOnes() {
        let config = LearningSignalDeadConfig()
        #expect(config.enabled && config.fracZeroStdThreshold == 0.95)
        #expect(config.consecutiveSteps == 10 && config.warmupSteps == 0)
    }

    @Test func warningAfterConsecutiveStepsCriticalAfterThreeTimesAsMany() {
        let alerts = feed(detector(), frac(constant(1.0, 12)))
        #expect(alerts.summary == ["3:warning", "9:critical"])
        #expect(alerts.allSatisfy { !$0.recommendation.isEmpty && $0.detector == .learningSignalDead })
        #expect(alerts[0].metricValues["dead_observations"] == .int(3))
        #expect(alerts[0].metricValues["since_step"] == .int(1))
        #expect(alerts[0].metricValues["signal"] == .string("frac_reward_zero_std"))
        #expect(alerts[0].recommendation.contains("temperature") && alerts[0].recommendation.contains("partial credit"))
        #expect(alerts[1].metricValues["dead_observations"] == .int(9))
        #expect(alerts[1].recommendation.hasPrefix("Stop the run"))
    }

    @Test func thresholdIsInclusive() {
        #expect(feed(detector(), frac(constant(0.95, 3))).summary == ["3:warning"])
        #expect(feed(detector(), frac(constant(0.949_999, 10))).isEmpty)
        #expect(feed(detector(threshold: 0.5), frac(constant(0.5, 3))).summary == ["3:warning"])
    }

    @Test func oneIsolatedLiveObservationDoesNotEndTheStretchTwoDo() {
        // The lucky 0.75 at step 3 is tolerated (not counted): the third dead observation is step 4.
        let tolerated = feed(detector(), frac([1, 1, 0.75, 1]))
        #expect(tolerated.summary == ["4:warning"])
        #expect(tolerated.first?.metricValues["since_step"] == .int(1))
        // Two live observations in a row end the stretch; it starts again at step 5.
        #expect(feed(detector(), frac([1, 1, 0.75, 0.75, 1, 1])).isEmpty)
        #expect(feed(detector(), frac([1, 1, 0.75, 0.75, 1, 1, 1])).summary == ["7:warning"])
    }

    @Test func recoveryRearmsAndANewDeadStretchAlertsAgain() {
        let values = constant(1, 3) + constant(0.2, 3) + constant(1, 3)
        #expect(feed(detector(), frac(values)).summary == ["3:warning", "9:warning"])
    }

    @Test func withoutTheFractionFlatRewardsAndAZeroGradNormAreDead() {
        let dead = flat(Array(repeating: (std: 0, grad: 0), count: 3))
        let alerts = feed(detector(), dead)
        #expect(alerts.summary == ["3:warning"])
        #expect(alerts.first?.metricValues["signal"] == .string("reward_std_and_grad_norm"))
        #expect(alerts.first?.metricValues["frac_reward_zero_std"] == .null)
        // Float noise counts as zero; no grad norm logged: the reward std alone decides.
        #expect(feed(detector(), flat(Array(repeating: (std: 1e-13, grad: -1e-13), count: 3))).count == 1)
        let noGrad = feed(detector(), flat(Array(repeating: (std: 0, grad: nil), count: 3)))
        #expect(noGrad.first?.metricValues["signal"] == .string("reward_std"))
    }

    @Test func aMovingGradientOrVaryingRewardsAreNotDead() {
        // A critic (PPO) still learns from constant rewards: the gradient is not zero.
        #expect(feed(detector(), flat(Array(repeating: (std: 0, grad: 0.01), count: 10))).isEmpty)
        #expect(feed(detector(), flat(Array(repeating: (std: 0.3, grad: 0), count: 10))).isEmpty)
        #expect(feed(detector(), flat(Array(repeating: (std: 1e-11, grad: 0), count: 10))).isEmpty)
    }

    @Test func perSampleRewardsThatAreAllEqualHaveZeroStd() {
        let steps = (1...3).map { MetricStep(step: $0, rewards: [1, 1, 1, 1]) }
        #expect(feed(detector(), steps).summary == ["3:warning"])
    }

    @Test func theFractionWinsOverRewardStdWhenBothAreLogged() {
        var steps = flat(Array(repeating: (std: 0, grad: 0), count: 5))
        for index in steps.indices { steps[index].extras["frac_reward_zero_std"] = 0.25 }
        #expect(feed(detector(), steps).isEmpty)
    }

    @Test func nilAndNonFiniteValuesAreNotObservations() {
        // A NaN fraction falls back to the reward std; a NaN reward std or grad norm says nothing.
        var steps = frac([1, .nan, nil, 1])
        steps[1].rewardStd = 0
        steps[2].rewardStd = .nan
        #expect(feed(detector(), steps).summary == ["4:warning"])
        let nanGrad = flat([(0, 0), (0, .nan), (0, .infinity), (0, 0)])
        #expect(feed(detector(), nanGrad).isEmpty)
        #expect(feed(detector(), flat([(0, 0), (0, .nan), (0, 0), (0, 0)])).summary == ["4:warning"])
    }

    @Test func warmupBoundaryTheWarmupThObservationIsTheFirstCounted() {
        // Warmup 3 with consecutive 1: observations 1–2 are neither judged nor counted.
        let alerts = feed(detector(warmup: 3, consecutive: 1), frac(constant(1, 6)))
        #expect(alerts.summary == ["3:warning", "5:critical"])
        #expect(alerts.first?.metricValues["since_step"] == .int(3))
        // Steps without evidence do not advance the warmup.
        let sparse = frac([1, nil, nil, 1, nil, 1])
        #expect(feed(detector(warmup: 3, consecutive: 1), sparse).summary == ["6:warning"])
    }

    @Test func disabledDetectorIsNotBuilt() {
        var config = RLWatchConfig()
        config.learningSignalDead.enabled = false
        #expect(!DetectorRegistry.makeDetectors(config).contains { $0.id == .learningSignalDead })
        #expect(DetectorRegistry.makeDetectors(RLWatchConfig()).contains { $0.id == .learningSignalDead })
    }

    // MARK: Training steps, not log rows (issue 8 item 6)

    @Test(arguments: [1, 5, 10])
    func deadStretchCountsTrainingStepsAtAnyLoggingInterval(interval: Int) {
        // Dead from the first row, consecutive 30 (critical at 90 steps), logged every `interval` steps from
        // step `interval`: the first row counts one step, each later one `interval`.
        let rows = extraSeries("frac_reward_zero_std", constant(1.0, 200)).map { row -> MetricStep in
            var row = row
            row.step *= interval
            return row
        }
        let alerts = feed(detector(consecutive: 30), rows)
        #expect(alerts.map(\.severity) == [.warning, .critical], "every \(interval): \(alerts.summary)")
        #expect((30..<(30 + 2 * interval)).contains(alerts[0].step), "every \(interval): \(alerts.summary)")
        #expect((90..<(90 + 2 * interval)).contains(alerts[1].step), "every \(interval): \(alerts.summary)")
    }

    @Test func oneSparseRowIsNotAStretch() {
        // Logged every 10 steps, consecutive 10: one dead row covers 10 steps but needs a second one.
        let rows = extraSeries("frac_reward_zero_std", [0.3, 1.0, 0.3, 0.3, 1.0, 1.0]).map { row -> MetricStep in
            var row = row
            row.step *= 10
            return row
        }
        #expect(feed(detector(consecutive: 10), rows).summary == ["60:warning"])
    }
}

@Suite struct ZeroGradientDeadSignalTests {
    /// A custom loop that logs neither a reward std nor frac_reward_zero_std, only a grad norm.
    static func steps(_ gradNorms: [Double]) -> [MetricStep] {
        gradNorms.enumerated().map { MetricStep(step: $0.offset + 1, rewardMean: 0, gradNorm: $0.element) }
    }

    @Test func aGradNormOfExactlyZeroStepAfterStepIsADeadSignal() {
        // The CS336 runs: reward exactly 0 and grad_norm exactly 0 on every row after the format broke.
        let alerts = feed(LearningSignalDeadDetector(LearningSignalDeadConfig()), Self.steps(Array(repeating: 0.3, count: 20) + Array(repeating: 0, count: 40)))
        #expect(alerts.summary == ["30:warning", "50:critical"])
        #expect(alerts[0].metricValues["signal"] == .string("grad_norm"))
        #expect(alerts[0].onsetStep == 21)
    }

    @Test func gradientAccumulationZerosAreNotADeadSignal() {
        // Logged every micro-step: 0 on three accumulation steps, the real norm on the optimizer step.
        let pattern = (0..<200).map { $0 % 4 == 3 ? 0.4 : 0 }
        #expect(feed(LearningSignalDeadDetector(LearningSignalDeadConfig()), Self.steps(pattern)).isEmpty)
    }
}
