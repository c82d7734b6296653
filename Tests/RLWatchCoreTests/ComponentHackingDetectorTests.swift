import RLWatchCore
import Testing

@Suite struct ComponentHackingDetectorTests {
    /// A TRL GRPO run logged every step with three reward components (TRL ≥ 0.16 keys), the total their sum.
    func run(_ count: Int, format: (Int) -> Double, correctness: (Int) -> Double, brevity: (Int) -> Double, seed: UInt64 = 5)
        -> [MetricStep]
    {
        let a = noisy(1, relative: 0.1, count, seed: seed)
        let b = noisy(1, relative: 0.1, count, seed: seed + 1)
        return (0..<count).map { index in
            // A saturated format reward is exactly its maximum on every sample: no noise at the ceiling.
            let f = format(index) >= 1 ? 1 : format(index) * a[index]
            let c = correctness(index) * b[index]
            let l = brevity(index) * a[(index + 7) % count]
            return MetricStep(
                step: index + 1, rewardMean: f + c + l,
                extras: [
                    "rewards/format_reward_func/mean": f, "rewards/format_reward_func/std": 0.1,
                    "rewards/correctness_reward_func/mean": c, "rewards/brevity_reward_func/mean": l,
                ])
        }
    }

    static func ramp(_ index: Int) -> Double { min(1, 0.2 + 0.8 * Double(index) / 60) }

    @Test func defaultsAreTheDocumentedOnes() {
        let config = RLWatchConfig().componentHacking
        #expect(config.enabled && config.saturationWindow == 10 && config.saturationTolerance == 0.05)
        #expect(config.minRise == 0.1 && config.minFall == 0.1 && config.baselineWindow == 10)
        #expect(config.consecutiveSteps == 20 && config.warmupSteps == 50)
    }

    @Test func aSaturatedComponentWhileTheOthersFallWarnsThenEscalates() throws {
        let steps = run(
            300, format: Self.ramp, correctness: { $0 < 80 ? 0.5 : 0.3 }, brevity: { $0 < 180 ? 0.4 : 0.2 })
        let alerts = feed(ComponentHackingDetector(ComponentHackingConfig()), steps)
        #expect(alerts.map(\.severity) == [.warning, .critical])
        let warning = try #require(alerts.first)
        #expect((95...120).contains(warning.step))
        #expect(warning.metricValues["component"] == .string("format_reward_func"))
        #expect(warning.message.contains("correctness_reward_func"))
        #expect((195...220).contains(try #require(alerts.last).step))
    }

    @Test func formatSaturatingWhileTheTaskIsFlatOrRisingStaysQuiet() {
        for seed in 1...10 as ClosedRange<UInt64> {
            let flat = run(300, format: Self.ramp, correctness: { _ in 0.3 }, brevity: { _ in 0.4 }, seed: seed)
            #expect(feed(ComponentHackingDetector(ComponentHackingConfig()), flat).isEmpty, "flat, seed \(seed)")
            let learning = run(
                300, format: Self.ramp, correctness: { 0.2 + 0.5 * Double($0) / 300 }, brevity: { _ in 0.4 }, seed: seed)
            #expect(feed(ComponentHackingDetector(ComponentHackingConfig()), learning).isEmpty, "rising, seed \(seed)")
        }
    }

    @Test func aTotalThatFallsIsNotAHackThatPays() {
        // The saturated part gains less than the others lose: the reward detectors' case, not this one's.
        let steps = run(300, format: { min(0.3, 0.2 + Double($0) / 600) / 0.3 * 0.3 }, correctness: { $0 < 80 ? 0.8 : 0.3 },
                        brevity: { $0 < 80 ? 0.4 : 0.1 })
        #expect(feed(ComponentHackingDetector(ComponentHackingConfig()), steps).isEmpty)
    }

    @Test func oneComponentAloneIsNotEnough() {
        let steps = (1...300).map { index in
            MetricStep(step: index, rewardMean: Self.ramp(index), extras: ["rewards/format_reward_func/mean": Self.ramp(index)])
        }
        #expect(feed(ComponentHackingDetector(ComponentHackingConfig()), steps).isEmpty)
    }
}
