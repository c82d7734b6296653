import RLWatchCore
import Testing

@Suite struct LengthHackingDetectorTests {
    /// A TRL GRPO run logged every step: `length(i)` tokens, two components, the total their sum.
    func run(
        _ count: Int, length: (Int) -> Double, task: (Int) -> Double, other: (Int) -> Double,
        taskKey: String = "rewards/correctness_reward_func/mean", otherKey: String = "rewards/reasoning_reward_func/mean",
        seed: UInt64 = 3
    ) -> [MetricStep] {
        let noise = noisy(1, relative: 0.08, count, seed: seed)
        let noise2 = noisy(1, relative: 0.08, count, seed: seed + 11)
        return (0..<count).map { index in
            let correctness = task(index) * noise[index]
            let reasoning = other(index) * noise2[index]
            return MetricStep(
                step: index + 1, rewardMean: correctness + reasoning,
                extras: [
                    "completions/mean_length": length(index) * noise2[index], taskKey: correctness,
                    otherKey: reasoning,
                ])
        }
    }

    /// Length flat at 300 tokens, then growing 4 tokens a step from step 80.
    static func growing(_ index: Int) -> Double { 300 + 4 * Double(max(0, index - 80)) }

    @Test func defaultsAreTheDocumentedOnes() {
        let config = RLWatchConfig().lengthHacking
        #expect(config.enabled && config.lengthRatio == 1.4 && config.criticalLengthRatio == 2.0)
        #expect(config.minCorrelation == 0.6 && config.window == 100 && config.baselineWindow == 10)
        #expect(config.consecutiveSteps == 20 && config.warmupSteps == 50)
    }

    @Test func lengthPaidByANonTaskComponentWarnsThenEscalates() throws {
        // Reasoning reward paid per step of reasoning: grows with the length, correctness stays at 0.5.
        let steps = run(
            320, length: Self.growing, task: { _ in 0.5 },
            other: { 0.1 + 0.4 * (Self.growing($0) - 300) / 900 })
        let alerts = feed(LengthHackingDetector(LengthHackingConfig()), steps)
        #expect(alerts.map(\.severity) == [.warning, .critical])
        let warning = try #require(alerts.first)
        // 420 tokens (1.4× 300) at step ~110, in the median of the last 10 rows ~5 steps later, then held 20 steps.
        #expect((125...145).contains(warning.step))
        #expect(warning.metricValues["component"] == .string("reasoning_reward_func"))
        #expect(warning.message.contains("correctness_reward_func"))
        #expect(warning.recommendation.contains("overlong"))
        #expect(try #require(alerts.last).step > warning.step)
    }

    @Test func healthyReasoningRunsWhoseAccuracyRisesWithLengthStayQuiet() {
        // DeepSeek-R1 style: answers lengthen as accuracy climbs; the format reward saturated early and stays flat.
        for seed in 1...10 as ClosedRange<UInt64> {
            let steps = run(
                320, length: Self.growing, task: { 0.2 + 0.5 * (Self.growing($0) - 300) / 960 },
                other: { $0 < 30 ? 0.3 + 0.02 * Double($0) : 0.9 }, otherKey: "rewards/format_reward_func/mean",
                seed: seed)
            #expect(feed(LengthHackingDetector(LengthHackingConfig()), steps).isEmpty, "seed \(seed)")
        }
    }

    @Test func withoutATaskComponentLengthAndRewardRisingTogetherStayQuiet() {
        // The real veRL distillation runs grow 2.3× as the score improves; nothing tells them from a hack.
        let steps = run(
            320, length: Self.growing, task: { _ in 0.5 }, other: { 0.1 + 0.4 * (Self.growing($0) - 300) / 900 },
            taskKey: "rewards/style_reward_func/mean")
        #expect(feed(LengthHackingDetector(LengthHackingConfig()), steps).isEmpty)
        let noComponents = steps.map { step in
            var step = step
            step.extras = ["response_length/mean": step.extras["completions/mean_length"] ?? 0]
            return step
        }
        #expect(feed(LengthHackingDetector(LengthHackingConfig()), noComponents).isEmpty)
    }

    @Test func aTotalThatFallsIsNotPaidByTheLength() {
        // The real MBPP run: length 3.8×, a reasoning component rising, correctness and the total falling.
        let steps = run(
            320, length: Self.growing, task: { 0.8 - 0.3 * (Self.growing($0) - 300) / 960 },
            other: { 0.1 + 0.1 * (Self.growing($0) - 300) / 960 })
        #expect(feed(LengthHackingDetector(LengthHackingConfig()), steps).isEmpty)
    }

    @Test func componentKeysAndTaskNamesAreRecognised() {
        let config = RLWatchConfig()
        #expect(config.lengthHacking == LengthHackingConfig())
        let old = run(
            320, length: Self.growing, task: { _ in 0.5 }, other: { 0.1 + 0.4 * (Self.growing($0) - 300) / 900 },
            taskKey: "rewards/accuracy_reward", otherKey: "rewards/xmlcount_reward_func")
        #expect(feed(LengthHackingDetector(LengthHackingConfig()), old).map(\.severity) == [.warning, .critical])
        // A logged total is not a component: with only it beside the task there is nothing paying for the length.
        let total = run(
            320, length: Self.growing, task: { _ in 0.5 }, other: { 0.1 + 0.4 * (Self.growing($0) - 300) / 900 },
            otherKey: "rewards/reward_fn_total/mean")
        #expect(feed(LengthHackingDetector(LengthHackingConfig()), total).isEmpty)
    }

    @Test func nonFiniteAndMissingInputsAreIgnored() {
        var steps = run(
            320, length: Self.growing, task: { _ in 0.5 }, other: { 0.1 + 0.4 * (Self.growing($0) - 300) / 900 })
        for index in stride(from: 5, to: 320, by: 9) {
            steps[index].extras["completions/mean_length"] = .nan
            steps[index].rewardMean = nil
        }
        let alerts = feed(LengthHackingDetector(LengthHackingConfig()), steps)
        #expect(alerts.first?.severity == .warning)
    }
}
