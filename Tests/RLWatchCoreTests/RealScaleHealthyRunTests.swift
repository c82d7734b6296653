import RLWatchCore
import RLWatchTesting
import Testing

/// Healthy GRPO runs at the scales real LLM runs log (entropy 0.05–0.3, KL 1e-4–0.05, 0/1 rewards,
/// `frac_reward_zero_std` around 0.2–0.5, up to ≈10 % truncated completions), logged every 1, 5 and 10
/// steps, raise nothing from the detectors rlwatch 0.5.1 does not have.
@Suite struct RealScaleHealthyRunTests {
    static let added: Set<DetectorID> = [.entropyExplosion, .learningSignalDead, .lengthTruncation]

    static let cases: [(seed: UInt64, interval: Int, style: SyntheticRuns.ExtrasStyle)] =
        (UInt64(1)...UInt64(12)).flatMap { seed in
            [1, 5, 10].map { (seed, $0, seed % 3 == 0 ? SyntheticRuns.ExtrasStyle.veRL : .trl) }
        }

    /// Every alert of `detectors` (delivered or not) on the healthy run of case `index`, described for a message.
    static func alerts(case index: Int, from detectors: Set<DetectorID>) -> (alerts: [Alert], context: String) {
        let (seed, interval, style) = cases[index]
        var options = SyntheticRuns.RealScaleOptions()
        options.seed = seed
        options.loggingInterval = interval
        options.extrasStyle = style
        options.rows = 600
        let analyzer = RunAnalyzer(config: RLWatchConfig())
        var alerts: [Alert] = []
        for step in SyntheticRuns.healthyAtRealScale(options) {
            alerts += analyzer.process(step).outcomes.map(\.alert).filter { detectors.contains($0.detector) }
        }
        let described = alerts.map { "\($0.step) \($0.detector) \($0.message)" }
        return (alerts, "seed \(seed) every \(interval): \(described)")
    }

    @Test(arguments: cases.indices)
    func healthyRealScaleRunRaisesNoneOfTheAddedDetectors(index: Int) {
        let (alerts, context) = Self.alerts(case: index, from: Self.added)
        #expect(alerts.isEmpty, "\(context)")
    }

    /// Entropy collapse with its default relative floor: real-scale entropies (0.05–0.3, drifting −50 % to +80 %)
    /// are healthy, whatever the logging interval (0.5.1's absolute 1.0 flagged every one of these runs).
    @Test(arguments: cases.indices)
    func healthyRealScaleRunRaisesNoEntropyCollapse(index: Int) {
        let (alerts, context) = Self.alerts(case: index, from: [.entropyCollapse])
        #expect(alerts.isEmpty, "\(context)")
    }

    @Test func theGeneratorHasRealScales() {
        var options = SyntheticRuns.RealScaleOptions()
        options.rows = 2000
        let steps = SyntheticRuns.healthyAtRealScale(options)
        let fractions = steps.compactMap(\.fracRewardZeroStd)
        let meanFraction = fractions.reduce(0, +) / Double(fractions.count)
        #expect((0.2...0.5).contains(meanFraction), "\(meanFraction)")
        // Every group of a step constant happens, but rarely: far from ten steps in a row.
        #expect(fractions.filter { $0 >= 0.95 }.count < fractions.count / 100)
        let clipped = steps.compactMap(\.clippedRatio)
        #expect(clipped.reduce(0, +) / Double(clipped.count) <= 0.1)
        #expect(steps.allSatisfy { ($0.entropy ?? 0) < 0.6 && ($0.klDivergence ?? 0) < 0.1 })
        #expect(steps.allSatisfy { ($0.rewardStd ?? 0) > 0 })
    }
}
