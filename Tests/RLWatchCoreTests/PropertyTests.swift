import RLWatchCore
import RLWatchTesting
import Testing

/// Property-style tests over seeded random inputs: whatever arrives, detectors do not trap, and healthy
/// input stays quiet.
@Suite struct PropertyTests {
    static let seeds: [UInt64] = Array(1...40)

    /// A value drawn from a nasty mix: nil, NaN, ±∞, zero, huge, tiny, negative, ordinary.
    static func nasty(_ rng: inout SeededRandom) -> Double? {
        switch rng.next() % 10 {
        case 0: nil
        case 1: .nan
        case 2: .infinity
        case 3: -.infinity
        case 4: 0
        case 5: 1e300 * (rng.bernoulli(0.5) ? 1 : -1)
        case 6: 1e-300
        case 7: -rng.uniform() * 10
        default: rng.uniform() * 3
        }
    }

    @Test(arguments: seeds)
    func randomInterleavingsNeverTrap(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        var config = RLWatchConfig()
        // Short warmups and windows so every code path is reached in 300 steps.
        config.entropyCollapse.warmupSteps = Int(rng.next() % 5)
        config.entropyCollapse.consecutiveSteps = Int(rng.next() % 6)
        config.klExplosion.warmupSteps = Int(rng.next() % 5)
        config.klExplosion.rollingWindow = 2 + Int(rng.next() % 30)
        config.gradientNormSpike.rollingWindow = 2 + Int(rng.next() % 30)
        config.advantageVariance.rollingWindow = 2 + Int(rng.next() % 30)
        config.rewardHacking.warmupSteps = Int(rng.next() % 5)
        config.rewardHacking.baselineWindow = 1 + Int(rng.next() % 30)
        config.rewardMeanDrift.warmupSteps = Int(rng.next() % 5)
        config.rewardMeanDrift.consecutiveSteps = Int(rng.next() % 5)
        config.alerts.cooldownSteps = Int(rng.next() % 20)
        let analyzer = RunAnalyzer(config: config)
        var alerts = 0
        for i in 0..<300 {
            let stepNumber = rng.bernoulli(0.05) ? Int(rng.next() % 300) : i
            var rewards: [Double]?
            if rng.bernoulli(0.3) {
                rewards = (0..<Int(rng.next() % 80)).map { _ in Self.nasty(&rng) ?? .nan }
            }
            let step = MetricStep(
                step: stepNumber, entropy: Self.nasty(&rng), klDivergence: Self.nasty(&rng),
                rewardMean: Self.nasty(&rng), rewardStd: Self.nasty(&rng), rewards: rewards,
                advantageStd: Self.nasty(&rng), loss: Self.nasty(&rng), gradNorm: Self.nasty(&rng))
            let result = analyzer.process(step)
            for outcome in result.outcomes {
                #expect(!outcome.alert.recommendation.isEmpty)
                #expect(!outcome.alert.message.isEmpty)
                alerts += 1
            }
        }
        #expect(alerts >= 0)
    }

    @Test(arguments: seeds)
    func constantHealthyInputNeverAlerts(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        let entropy = 1.5 + rng.uniform() * 2.5
        let kl = 0.001 + rng.uniform() * 0.049
        let rewardStd = 0.1 + rng.uniform() * 1.9
        let advantage = 0.5 + rng.uniform() * 1.5
        let grad = 0.1 + rng.uniform() * 4.9
        let analyzer = RunAnalyzer(config: RLWatchConfig())
        for i in 0..<300 {
            let result = analyzer.process(
                MetricStep(
                    step: i, entropy: entropy, klDivergence: kl, rewardMean: 0.5, rewardStd: rewardStd,
                    advantageStd: advantage, loss: 0.3, gradNorm: grad))
            #expect(result.outcomes.isEmpty, "step \(i): \(result.outcomes.map(\.alert.message))")
        }
    }

    @Test(arguments: seeds)
    func noAlertWithinTheWarmup(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        var config = RLWatchConfig()
        config.entropyCollapse.warmupSteps = 30
        config.entropyCollapse.consecutiveSteps = 1
        config.klExplosion.warmupSteps = 30
        config.rewardHacking.warmupSteps = 30
        config.advantageVariance.warmupSteps = 30
        config.lossNaN.warmupSteps = 30
        config.rewardMeanDrift.warmupSteps = 30
        config.rewardMeanDrift.consecutiveSteps = 1
        config.entropyExplosion.warmupSteps = 30
        config.learningSignalDead.warmupSteps = 30
        config.lengthTruncation.warmupSteps = 30
        // The baseline-free sanity bounds apply from step 1 on purpose, warmup or not: a non-finite grad norm or
        // KL, a KL of many nats per token, an entropy that collapsed suddenly from its early level. Within the
        // warmup those are the only alerts, and each names the bound it crossed.
        let sanityKeys: [DetectorID: Set<String>] = [
            .gradientNormSpike: ["kind"],
            .klExplosion: ["kind", "critical_kl", "warning_kl"],
            .entropyCollapse: ["early_entropy"],
        ]
        for detector in DetectorRegistry.makeDetectors(config) {
            for i in 1..<30 {
                let value = Self.nasty(&rng) ?? 1
                var step = MetricStep(step: i, rewards: [value, -value])
                for metric in MetricName.allCases { step[metric] = value }
                guard let alert = detector.observe(step.resolved()) else { continue }
                let allowed = sanityKeys[detector.id] ?? []
                #expect(
                    !allowed.isDisjoint(with: alert.metricValues.keys),
                    "\(detector.id) at observation \(i): \(alert.message)")
            }
        }
    }
}

/// Healthy GRPO-like runs — noise on everything, KL growing from near zero, a slowly climbing grad norm,
/// 0/1 rewards — must not raise a single alert with the default configuration.
@Suite struct HealthyRunTests {
    @Test(arguments: Array(UInt64(1)...UInt64(12)))
    func syntheticHealthyRunIsQuiet(seed: UInt64) {
        var options = SyntheticRuns.HealthyOptions()
        options.seed = seed
        options.steps = 1500
        let analyzer = RunAnalyzer(config: RLWatchConfig())
        var alerts: [Alert] = []
        for step in SyntheticRuns.healthy(options) { alerts += analyzer.process(step).outcomes.map(\.alert) }
        #expect(alerts.isEmpty, "\(alerts.map { "\($0.step) \($0.detector) \($0.message)" })")
    }

    @Test func demoRunIsCaught() {
        let analyzer = RunAnalyzer(config: RLWatchConfig())
        var delivered: [Alert] = []
        for step in SyntheticRuns.entropyCollapseWithKLRunaway() { delivered += analyzer.process(step).delivered }
        let detectors = Set(delivered.map(\.detector))
        #expect(detectors.contains(.entropyCollapse))
        #expect(detectors.contains(.klExplosion))
        #expect(delivered.allSatisfy { $0.step >= 280 }, "\(delivered.map { "\($0.step) \($0.detector)" })")
    }
}
