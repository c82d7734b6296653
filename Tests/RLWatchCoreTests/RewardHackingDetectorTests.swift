import RLWatchCore
import RLWatchTesting
import Testing

@Suite struct RewardHackingDetectorTests {
    func detector(warmup: Int = 1, multiplier: Double = 3) -> RewardHackingDetector {
        var config = RewardHackingConfig()
        config.warmupSteps = warmup
        config.varianceMultiplier = multiplier
        return RewardHackingDetector(config)
    }

    @Test func varianceTiers() {
        // Baseline variance 0.25 (std 0.5); warning above 3×, critical above 6×, each on three observations in a row.
        let base = constant(0.5, 20)
        #expect(feed(detector(), series(.rewardStd, base + constant(0.86, 3))).isEmpty)
        #expect(feed(detector(), series(.rewardStd, base + constant(0.87, 3))).summary == ["23:warning"])
        #expect(feed(detector(), series(.rewardStd, base + constant(1.22, 3))).summary == ["23:warning"])
        #expect(feed(detector(), series(.rewardStd, base + constant(1.23, 3))).first?.metricValues.keys == [
            "current_variance", "baseline_variance", "variance_ratio", "reward_mean", "reward_std", "onset_step",
        ])
        #expect(feed(detector(), series(.rewardStd, base + constant(1.23, 3))).summary == ["23:critical"])
        #expect(feed(detector(), series(.rewardStd, base + constant(1.23, 3))).first?.onsetStep == 21)
        // Two observations are noise, however far out.
        #expect(feed(detector(), series(.rewardStd, base + constant(5, 2) + base)).isEmpty)
    }

    @Test func smallGroupNoiseIsNotAnExplosion() {
        // 4 completions per prompt, 0/1 rewards: a healthy run's reward std jumps between 0 and 0.58 every step.
        var rng = SeededRandom(seed: 5)
        let steps = (1...600).map { i in
            MetricStep(step: i, rewards: (0..<4).map { _ in rng.bernoulli(0.2 + 0.5 * Double(i) / 600) ? 1 : 0 })
        }
        #expect(feed(detector(warmup: 50), steps).isEmpty)
    }

    @Test func learningAfterASparseStartIsNotAnExplosion() {
        // Rewards ≈0 for 60 steps (std 0.01–0.02: a rare success), then the model starts solving: std 0.3–0.5 while
        // reward climbs. A baseline taken while rewards were ~0 must not make every later step look 1,000× out.
        var steps: [MetricStep] = (1...60).map { MetricStep(step: $0, rewardMean: 0.002, rewardStd: 0.01 + 0.01 * Double($0 % 2)) }
        steps += (61...200).map { i in
            MetricStep(step: i, rewardMean: min(0.8, 0.01 * Double(i - 60)), rewardStd: 0.3 + 0.2 * Double(i % 3) / 2)
        }
        #expect(feed(detector(warmup: 50), steps).isEmpty)
    }

    @Test func warmupCountsRewardObservations() {
        let values = constant(0.5, 20) + constant(5.0, 3)
        #expect(feed(detector(warmup: 21), series(.rewardStd, values)).summary == ["23:critical"])
        #expect(feed(detector(warmup: 22), series(.rewardStd, values)).isEmpty)
    }

    @Test func nanInTheBaselinePeriodIsSkipped() {
        // 0.5.1: a NaN among the first 20 variances makes the baseline NaN and the check dead for the run.
        let values: [Double?] = [.nan, .infinity] + constant(0.5, 20) + constant(5.0, 3)
        #expect(feed(detector(), series(.rewardStd, values)).summary == ["25:critical"])
    }

    @Test func constantRewardsBaselineIsDiscardedNotDividedBy() {
        // Sparse rewards: all-zero std for 30 steps, then learning starts. No critical from a 1e-8 baseline.
        let values = constant(0, 30) + constant(0.3, 25) + [0.35]
        #expect(feed(detector(), series(.rewardStd, values)).isEmpty)
    }

    @Test func derivedStdFromSamplesIgnoresNonFiniteSamples() {
        var steps: [MetricStep] = (1...25).map { MetricStep(step: $0, rewards: [0, 1, 0, 1]) }
        steps.append(MetricStep(step: 26, rewards: [0, 1, .nan, 1, 0]))
        for i in 27...29 { steps.append(MetricStep(step: i, rewards: [-10, 10, .infinity])) }
        #expect(feed(detector(), steps).summary == ["29:critical"])
    }

    @Test func discreteZeroOneRewardsNeverLookBimodal() {
        // A healthy GRPO run with 0/1 correctness rewards: two-valued from the start.
        var rng = SeededRandom(seed: 7)
        let steps = (1...400).map { i in
            MetricStep(step: i, rewards: (0..<16).map { _ in rng.bernoulli(0.3 + 0.3 * Double(i) / 400) ? 1 : 0 })
        }
        #expect(feed(detector(warmup: 50), steps).isEmpty)
    }

    @Test func bimodalityEmergingFromAUnimodalBaselineFires() {
        var rng = SeededRandom(seed: 11)
        var steps: [MetricStep] = (1...100).map { i in
            MetricStep(step: i, rewards: (0..<64).map { _ in rng.gaussian(mean: 0.5, std: 0.15) })
        }
        // From step 101 half of the completions found an exploit worth +0.4 (tighter spread):
        // the variance grows (< 3× the baseline), the distribution splits in two.
        for i in 101...130 {
            steps.append(
                MetricStep(
                    step: i,
                    rewards: (0..<64).map { k in rng.gaussian(mean: k % 2 == 0 ? 0.35 : 0.75, std: 0.06) }))
        }
        let alerts = feed(detector(warmup: 50), steps)
        #expect(alerts.count == 1)
        #expect(alerts.first?.severity == .warning)
        #expect(alerts.first.map { $0.step > 100 && $0.step <= 104 } == true, "\(alerts.summary)")
        #expect(alerts.first?.metricValues.keys == ["dip_statistic", "dip_p_value", "reward_mean", "n_samples"])
    }

    @Test func unimodalContinuousRewardsStayQuiet() {
        var rng = SeededRandom(seed: 3)
        let steps = (1...300).map { i in
            MetricStep(step: i, rewards: (0..<64).map { _ in rng.gaussian(mean: 0.5 + Double(i) / 1000, std: 0.2) })
        }
        #expect(feed(detector(warmup: 50), steps).isEmpty)
    }

    @Test func stepsWithoutRewardDataAreNotObservations() {
        let steps = series(.rewardStd, constant(0.5, 20) + [nil, nil] + constant(5.0, 3))
        #expect(feed(detector(warmup: 21), steps).summary == ["25:critical"])
    }
}
