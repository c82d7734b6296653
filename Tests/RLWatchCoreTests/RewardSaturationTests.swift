import RLWatchCore
import RLWatchTesting
import Testing

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// The saturation check of `reward_hacking`: the proxy reward pinned at its ceiling with vanishing
/// variance while KL to the reference climbs — the textbook reward-hacking run, which the variance-explosion
/// and bimodality checks never see.
@Suite struct RewardSaturationTests {
    /// A textbook reward-hacking run over `trainingSteps` steps, logged every `interval`: the proxy reward
    /// climbs from 0.3 to ≈1.0 (a logistic centred on step 80), its std collapses from 0.25 to 1e-4, and KL
    /// climbs steadily from 0 to `klEnd`.
    static func hackingRun(trainingSteps: Int = 300, interval: Int = 1, klEnd: Double = 1.0) -> [MetricStep] {
        stride(from: interval, through: trainingSteps, by: interval).map { step in
            let progress = 1 / (1 + exp(-Double(step - 80) / 15))
            let wiggle = 1 + 0.02 * sin(Double(step) * 1.3)
            return MetricStep(
                step: step, klDivergence: klEnd * Double(step) / Double(trainingSteps) * wiggle,
                rewardMean: 0.3 + 0.6999 * progress, rewardStd: 0.25 * (1 - progress) + 1e-4,
                gradNorm: 0.3 * wiggle)
        }
    }

    static func alerts(_ steps: [MetricStep], _ config: RewardHackingConfig = RewardHackingConfig()) -> [Alert] {
        let detector = RewardHackingDetector(config)
        return steps.compactMap { detector.observe($0.resolved()) }
    }

    @Test func textbookRewardHackingIsCritical() throws {
        let alerts = Self.alerts(Self.hackingRun())
        // std ≤ 5 % of its baseline from step ≈125, held for ten steps; KL 0.4 by then, over 3× the warning
        // level (the 0.1 floor: 5× the baseline of ≈0.018 is less) — straight to critical.
        #expect(alerts.summary.count == 1, "\(alerts.summary)")
        let alert = try #require(alerts.first)
        #expect(alert.severity == .critical)
        #expect((125...160).contains(alert.step), "\(alerts.summary)")
        #expect(alert.message.contains("Reward saturated"))
        #expect(alert.recommendation.contains("Inspect the completions"))
        #expect(Set(alert.metricValues.keys) == [
            "reward_mean", "baseline_reward_mean", "reward_std", "baseline_reward_std", "std_ratio",
            "kl_divergence", "baseline_kl", "kl_ratio",
        ])
        #expect((alert.metricValues["std_ratio"]?.doubleValue ?? 1) <= 0.05)
        #expect((alert.metricValues["kl_divergence"]?.doubleValue ?? 0) >= 0.3)
    }

    @Test func hackingABoundedRewardIsCaught() throws {
        // 0/1 rewards at 50 % accuracy (mean 0.5, std 0.5), then every completion scores 1 (std → 0.005) while KL
        // climbs 0.01 → 1.0 within 60 steps: 2 baseline stds above 0.5 is 1.5, beyond the reward's ceiling.
        var steps: [MetricStep] = (1...60).map { i in
            MetricStep(step: i, klDivergence: 0.01 * (1 + 0.05 * sin(Double(i))), rewardMean: 0.5 + 0.02 * sin(Double(i)), rewardStd: 0.5)
        }
        steps += (61...200).map { i in
            let progress = min(1, Double(i - 60) / 40)
            return MetricStep(
                step: i, klDivergence: 0.01 + 0.99 * min(1, Double(i - 60) / 60),
                rewardMean: 0.5 + 0.499 * progress, rewardStd: 0.5 * (1 - progress) + 0.005)
        }
        let alerts = Self.alerts(steps)
        let first = try #require(alerts.first, "no alert")
        #expect(first.message.contains("Reward saturated"))
        #expect((100...130).contains(first.step), "\(alerts.summary)")
    }

    @Test func saturationWhileKLIsStillLowWarnsThenEscalates() throws {
        // KL only reaches 0.6 by step 300: 0.25 when the reward saturates (warning), past 0.3 from step 150.
        let alerts = Self.alerts(Self.hackingRun(klEnd: 0.6))
        #expect(alerts.map(\.severity) == [.warning, .critical], "\(alerts.summary)")
        let warning = try #require(alerts.first)
        let critical = try #require(alerts.last)
        #expect((125...160).contains(warning.step), "\(alerts.summary)")
        #expect((150...175).contains(critical.step), "\(alerts.summary)")
    }

    @Test(arguments: [5, 10])
    func textbookRewardHackingLoggedSparselyStillAlerts(interval: Int) throws {
        let alerts = Self.alerts(Self.hackingRun(interval: interval))
        let first = try #require(alerts.first, "interval \(interval)")
        #expect((125...180).contains(first.step), "\(alerts.summary)")
    }

    @Test func saturatedRewardWithModestKLIsALegitimatePlateau() {
        // The model learns to solve every prompt: reward 0.3 → 1.0, std → 1e-4, but KL levels off at 0.04.
        let steps = Self.hackingRun().map { step in
            var step = step
            step.klDivergence = 0.04 * (1 - exp(-Double(step.step) / 60))
            return step
        }
        #expect(Self.alerts(steps).isEmpty)
    }

    @Test func risingKLWithHealthyRewardSpreadIsNotSaturation() {
        let steps = Self.hackingRun().map { step in
            var step = step
            step.rewardStd = 0.25
            return step
        }
        #expect(Self.alerts(steps).isEmpty)
    }

    @Test func highButFlatKLIsNotRising() {
        // Reward saturated and KL high, but KL has stopped climbing: no "KL rises steadily".
        let steps = Self.hackingRun().map { step in
            var step = step
            step.klDivergence = step.step <= 20 ? 0.01 : 0.6 * (1 + 0.02 * sin(Double(step.step)))
            return step
        }
        #expect(Self.alerts(steps).isEmpty)
    }

    @Test func missingKLNeverJudgesSaturation() {
        let steps = Self.hackingRun().map { step in
            var step = step
            step.klDivergence = nil
            return step
        }
        #expect(Self.alerts(steps).isEmpty)
    }

    @Test func thresholdsAreConfigurable() {
        var config = RewardHackingConfig()
        config.saturationMinKL = 2  // KL never reaches 2 in the textbook run
        #expect(Self.alerts(Self.hackingRun(), config).isEmpty)
        config = RewardHackingConfig()
        config.saturationStdFraction = 0.001  // std bottoms out at 1e-4 / 0.25 = 0.04 %, reached late
        #expect(Self.alerts(Self.hackingRun(), config).first.map { $0.step > 160 } ?? true)
    }

    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func healthySyntheticRunsStayQuiet(seed: UInt64) {
        var options = SyntheticRuns.HealthyOptions()
        options.seed = seed
        #expect(Self.alerts(SyntheticRuns.healthy(options)).isEmpty)
    }

    @Test(arguments: [1, 5, 10])
    func healthyRealScaleRunsStayQuiet(interval: Int) {
        for seed: UInt64 in 1...8 {
            var options = SyntheticRuns.RealScaleOptions()
            options.seed = seed
            options.loggingInterval = interval
            let alerts = Self.alerts(SyntheticRuns.healthyAtRealScale(options))
            #expect(alerts.isEmpty, "seed \(seed): \(alerts.summary)")
        }
    }

    @Test func configKeysParse() throws {
        let yaml = """
            reward_hacking:
              saturation_std_fraction: 0.1
              saturation_reward_rise: 1.5
              saturation_kl_multiplier: 8
              saturation_min_kl: 0.2
              saturation_consecutive_steps: 20
            """
        let config = try RLWatchConfig.parse(yaml: yaml).config.rewardHacking
        #expect(config.saturationStdFraction == 0.1)
        #expect(config.saturationRewardRise == 1.5)
        #expect(config.saturationKLMultiplier == 8)
        #expect(config.saturationMinKL == 0.2)
        #expect(config.saturationConsecutiveSteps == 20)
        #expect(throws: ConfigError.self) { try RLWatchConfig.parse(yaml: "reward_hacking:\n  saturation_std_fraction: 0\n") }
    }
}
