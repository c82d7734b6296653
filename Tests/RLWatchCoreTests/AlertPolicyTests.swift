import RLWatchCore
import Testing

@Suite struct AlertPolicyTests {
    func alert(_ step: Int, _ detector: DetectorID = .klExplosion, _ severity: Severity = .warning) -> Alert {
        Alert(step: step, detector: detector, severity: severity, message: "m", metricValues: [:], recommendation: "r")
    }

    @Test func cooldownEdgeExactlyPlusNPasses() {
        var policy = AlertPolicy(cooldownSteps: 100, maxAlertsPerRun: 50)
        #expect(policy.decide(alert(10)) == .delivered)
        #expect(policy.decide(alert(109)) == .suppressed(.cooldown(lastStep: 10, cooldown: 100)))
        #expect(policy.decide(alert(110)) == .delivered)
    }

    @Test func suppressedAlertsDoNotMoveTheWindow() {
        var policy = AlertPolicy(cooldownSteps: 10, maxAlertsPerRun: 50)
        _ = policy.decide(alert(0))
        _ = policy.decide(alert(5))
        #expect(policy.decide(alert(10)) == .delivered)
    }

    @Test func criticalPassesAWarningsCooldown() {
        var policy = AlertPolicy(cooldownSteps: 100, maxAlertsPerRun: 50)
        #expect(policy.decide(alert(10, .klExplosion, .warning)) == .delivered)
        #expect(policy.decide(alert(15, .klExplosion, .critical)) == .delivered)
    }

    @Test func warningDoesNotPassACriticalsCooldown() {
        var policy = AlertPolicy(cooldownSteps: 100, maxAlertsPerRun: 50)
        #expect(policy.decide(alert(280, .klExplosion, .critical)) == .delivered)
        #expect(policy.decide(alert(291, .klExplosion, .warning)) == .suppressed(.criticalCooldown(criticalStep: 280, cooldown: 100)))
        #expect(policy.decide(alert(380, .klExplosion, .warning)) == .delivered)
        // Other detectors are independent.
        #expect(policy.decide(alert(292, .entropyCollapse, .warning)) == .delivered)
    }

    @Test func capIsCheckedFirstAndRecorded() {
        var policy = AlertPolicy(cooldownSteps: 0, maxAlertsPerRun: 2)
        #expect(policy.decide(alert(1)) == .delivered)
        #expect(policy.decide(alert(2, .lossNaN, .critical)) == .delivered)
        #expect(policy.decide(alert(3, .entropyCollapse)) == .suppressed(.runCap(limit: 2)))
        #expect(policy.deliveredCount == 2)
        var none = AlertPolicy(cooldownSteps: 0, maxAlertsPerRun: 0)
        #expect(none.decide(alert(1)) == .suppressed(.runCap(limit: 0)))
    }

    @Test func newSegmentRestartsCooldowns() {
        var policy = AlertPolicy(cooldownSteps: 100, maxAlertsPerRun: 50)
        #expect(policy.decide(alert(500)) == .delivered)
        policy.startSegment()
        #expect(policy.decide(alert(450)) == .delivered)
    }
}

@Suite struct RunAnalyzerTests {
    @Test func backwardOrRepeatedStepsStartANewSegment() {
        let analyzer = RunAnalyzer(config: RLWatchConfig())
        #expect(analyzer.process(MetricStep(step: 1)).segment == 0)
        #expect(analyzer.process(MetricStep(step: 2)).segment == 0)
        #expect(analyzer.process(MetricStep(step: 2)).segment == 1)
        #expect(analyzer.process(MetricStep(step: 1)).segment == 2)
        #expect(analyzer.process(MetricStep(step: 5)).segment == 2)
    }

    @Test func resumeFromCheckpointStillAlertsAfterTheRewind() {
        var config = RLWatchConfig()
        config.lossNaN.warmupSteps = 0
        let analyzer = RunAnalyzer(config: config)
        var delivered: [Alert] = []
        for step in [MetricStep(step: 100, loss: .nan)] + (101...104).map({ MetricStep(step: $0, loss: 0.3) }) {
            delivered += analyzer.process(step).delivered
        }
        // Resume from the checkpoint at step 50; the NaN comes back at 60 — 0.5.1 would hold it back
        // until step 200 because 60 − 100 < cooldown.
        for step in (50...59).map({ MetricStep(step: $0, loss: 0.3) }) + [MetricStep(step: 60, loss: .nan)] {
            delivered += analyzer.process(step).delivered
        }
        #expect(delivered.map(\.step) == [100, 60])
    }

    @Test func rewardsDeriveMeanAndStdExplicitValuesWin() {
        let derived = MetricStep(step: 1, rewards: [0, 1, 1, 0]).resolved()
        #expect(derived.rewardMean == 0.5)
        #expect(derived.rewardStd == 0.5)
        let explicit = MetricStep(step: 1, rewardMean: 9, rewards: [0, 1, 1, 0]).resolved()
        #expect(explicit.rewardMean == 9)
        #expect(explicit.rewardStd == 0.5)
        let allBad = MetricStep(step: 1, rewards: [.nan]).resolved()
        #expect(allBad.rewardMean?.isNaN == true)
        let empty = MetricStep(step: 1, rewards: []).resolved()
        #expect(empty.rewardMean?.isNaN == true)
    }
}

@Suite struct ExtremeTransientTests {
    func alert(_ step: Int, magnitude: Double?) -> Alert {
        Alert(
            step: step, detector: .klExplosion, severity: .critical, message: "m", metricValues: [:],
            recommendation: "r", magnitude: magnitude)
    }

    @Test func farMoreSevereAlertPassesTheCooldown() {
        var policy = AlertPolicy(cooldownSteps: 100, maxAlertsPerRun: 50)
        #expect(policy.decide(alert(60, magnitude: 3.1)) == .delivered)
        #expect(policy.decide(alert(70, magnitude: 30)) == .suppressed(.cooldown(lastStep: 60, cooldown: 100)))
        #expect(policy.decide(alert(80, magnitude: 100)) == .delivered)
        #expect(policy.decide(alert(90, magnitude: 200)) == .suppressed(.cooldown(lastStep: 80, cooldown: 100)))
        #expect(policy.decide(alert(95, magnitude: nil)) == .suppressed(.cooldown(lastStep: 80, cooldown: 100)))
    }

    @Test func oneStepExtremeKLInsideAMilderEpisodeAlertsOnItsStep() {
        var config = RLWatchConfig()
        config.klExplosion.warmupSteps = 1
        config.gradientNormSpike.warmupSteps = 1
        let analyzer = RunAnalyzer(config: config)
        var delivered: [Alert] = []
        // KL ≈ 0.15 and grad norm ≈ 1.5; from step 41 a milder rise that stays up (an ongoing episode),
        // then at step 45 one step of KL 17.8 and grad norm 154 (≈100× baseline).
        for i in 1...40 {
            let wiggle = Double(i % 7 - 3) / 30
            delivered += analyzer.process(MetricStep(step: i, klDivergence: 0.15 * (1 + wiggle), gradNorm: 1.5 * (1 + wiggle))).delivered
        }
        for i in 41...44 { delivered += analyzer.process(MetricStep(step: i, klDivergence: 0.5, gradNorm: 8)).delivered }
        delivered += analyzer.process(MetricStep(step: 45, klDivergence: 17.8, gradNorm: 154)).delivered
        let at45 = delivered.filter { $0.step == 45 }.map(\.detector)
        #expect(Set(at45) == [.klExplosion, .gradientNormSpike], "\(delivered.map { "\($0.step) \($0.detector) \($0.severity)" })")
        // The milder episode opened on its second observation (a relative rise must hold twice).
        #expect(delivered.filter { $0.step == 42 }.count == 2)
        #expect(delivered.filter { $0.step == 42 }.allSatisfy { $0.onsetStep == 41 })
    }
}
