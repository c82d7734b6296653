import RLWatchCore
import Testing

@Suite struct RewardStagnationDetectorTests {
    /// A run logged every `interval` steps: reward and KL per row.
    func run(_ count: Int, interval: Int = 1, reward: (Int) -> Double, kl: (Int) -> Double, seed: UInt64 = 9) -> [MetricStep] {
        let noise = noisy(1, relative: 0.1, count, seed: seed)
        return (0..<count).map { index in
            MetricStep(
                step: (index + 1) * interval, klDivergence: kl(index) * noise[(index + 3) % count],
                rewardMean: reward(index) * noise[index])
        }
    }

    @Test func defaultsAreTheDocumentedOnes() {
        let config = RLWatchConfig().rewardStagnation
        #expect(config.enabled && config.windowSteps == 200 && config.klRatio == 2 && config.minKL == 0.1)
        #expect(config.minProgress == 0.25 && config.warmupSteps == 50)
    }

    @Test func aFlatRewardWhileTheKLKeepsRisingWarnsOnce() throws {
        // Reward 0.3 throughout (never 25 % better), KL 0.02 → 0.52 over 500 steps.
        let steps = run(500, reward: { _ in 0.3 }, kl: { 0.02 + 0.001 * Double($0) })
        let alerts = feed(RewardStagnationDetector(RewardStagnationConfig()), steps)
        #expect(alerts.summary.count == 1)
        let alert = try #require(alerts.first)
        #expect(alert.severity == .warning)
        // The first comparison 200 steps back (step 210: KL ~0.23 against ~0.03) already shows it.
        #expect((205...300).contains(alert.step))
        #expect(alert.message.contains("has not improved"))
    }

    @Test func aRunThatImprovedAndThenPlateausStaysQuiet() {
        // Reward 0.3 → 0.7 in the first 150 steps, flat after; KL keeps creeping up on the plateau.
        for seed in 1...10 as ClosedRange<UInt64> {
            let steps = run(
                600, reward: { 0.3 + 0.4 * min(1, Double($0) / 150) }, kl: { 0.01 + 0.0003 * Double($0) }, seed: seed)
            #expect(feed(RewardStagnationDetector(RewardStagnationConfig()), steps).isEmpty, "seed \(seed)")
        }
    }

    @Test func aPolicyBarelyMovingOrAFlatKLStaysQuiet() {
        // The real text-to-SQL run: reward flat, KL doubling from 0.0003 to 0.0007 — far below min_kl.
        let tiny = run(1000, interval: 5, reward: { _ in 0.35 }, kl: { 0.0003 + 0.0000020 * Double($0) })
        #expect(feed(RewardStagnationDetector(RewardStagnationConfig()), tiny).isEmpty)
        // A PPO run at 94 % from the start with its KL flat at 0.3; the synthetic healthy run's 0.01 → 0.025.
        let flat = run(400, reward: { _ in 0.94 }, kl: { _ in 0.3 })
        #expect(feed(RewardStagnationDetector(RewardStagnationConfig()), flat).isEmpty)
        let creeping = run(400, reward: { _ in 0.3 }, kl: { 0.01 + 0.00004 * Double($0) })
        #expect(feed(RewardStagnationDetector(RewardStagnationConfig()), creeping).isEmpty)
        #expect(feed(RewardStagnationDetector(RewardStagnationConfig()), flat).isEmpty)
    }
}
