import RLWatchCore
import Testing

/// Step numbers near ±2^63: nothing that measures the distance between two steps may trap (issue 20: one batch
/// with such steps took `serve` down, and every run it monitored with it).
@Suite struct ExtremeStepTests {
    func alert(_ step: Int, _ severity: Severity = .critical) -> Alert {
        Alert(step: step, detector: .lossNaN, severity: severity, message: "m", metricValues: [:], recommendation: "r")
    }

    @Test func stepDistanceSaturates() {
        #expect(stepDistance(from: 3, to: 10) == 7)
        #expect(stepDistance(from: 10, to: 3) == -7)
        #expect(stepDistance(from: Int.min, to: Int.max) == Int.max)
        #expect(stepDistance(from: Int.max, to: Int.min) == Int.min)
        #expect(stepDistance(from: -1, to: Int.max) == Int.max)
        #expect(stepDistance(from: 1, to: Int.min) == Int.min)
    }

    @Test func policyCooldownAcrossTheWholeRange() {
        var policy = AlertPolicy(cooldownSteps: 100, maxAlertsPerRun: 50)
        #expect(policy.decide(alert(Int.min)) == .delivered)
        // As far apart as steps get: long past the cooldown.
        #expect(policy.decide(alert(Int.max)) == .delivered)
        // Going back across the range (without a new segment) is inside the cooldown, not a trap.
        #expect(policy.decide(alert(Int.min)) == .suppressed(.cooldown(lastStep: Int.max, cooldown: 100)))
        // A warning after a critical at the other end of the range.
        var warnings = AlertPolicy(cooldownSteps: 100, maxAlertsPerRun: 50)
        #expect(warnings.decide(alert(Int.min, .critical)) == .delivered)
        #expect(warnings.decide(alert(Int.max, .warning)) == .delivered)
    }

    /// Every detector sees rows at both ends of the range in one segment: reward, KL, loss and gradient data.
    @Test func analyzerJudgesStepsAtBothEndsOfTheRange() {
        let analyzer = RunAnalyzer(config: RLWatchConfig())
        let steps = [Int.min, Int.min + 1, Int.min + 2, -1, 0, 1, Int.max - 3, Int.max - 2, Int.max - 1, Int.max]
        var delivered: [Alert] = []
        for (index, number) in steps.enumerated() {
            let nan = number == Int.min || number == Int.max
            let analyzed = analyzer.process(
                MetricStep(
                    step: number, entropy: 1.5, klDivergence: 0.01 * Double(index + 1), rewardMean: 0.1 * Double(index),
                    rewardStd: 0.5, loss: nan ? .nan : 0.5, gradNorm: 1))
            #expect(analyzed.segment == 0)
            delivered += analyzed.delivered
        }
        // A NaN loss at each end, each its own episode, far past any cooldown: both delivered.
        #expect(delivered.filter { $0.detector == .lossNaN }.map(\.step) == [Int.min, Int.max])
    }

    /// The reward-saturation baseline spans "enough training steps" from its first observation: at the far end of
    /// the range that span is larger than any `Int`.
    @Test func rewardSaturationBaselineSpanningTheRange() {
        let detector = RewardHackingDetector(RewardHackingConfig())
        for number in [Int.min, Int.min + 1, Int.max - 1, Int.max] {
            _ = detector.observe(MetricStep(step: number, klDivergence: 0.01, rewardMean: 0.5, rewardStd: 0.2))
        }
    }
}
