import RLWatchCore
import Testing

@Suite struct ImportanceRatioDetectorTests {
    static let mean = "sampling/importance_sampling_ratio/mean"
    static let max = "sampling/importance_sampling_ratio/max"
    static let min = "sampling/importance_sampling_ratio/min"

    func detector(warmup: Int = 20) -> ImportanceRatioDetector {
        var config = ImportanceRatioConfig()
        config.warmupSteps = warmup
        return ImportanceRatioDetector(config)
    }

    @Test func defaultsAreTheDocumentedOnes() {
        let config = RLWatchConfig().importanceRatio
        #expect(config.enabled && config.lowMean == 0.5 && config.criticalLowMean == 0.2)
        #expect(config.highMean == 2 && config.criticalHighMean == 5 && config.maxRatio == 100)
        #expect(config.maskedFraction == 0.5 && config.consecutiveSteps == 10 && config.warmupSteps == 0)
    }

    /// The real TRL run, logged every 5 steps: mean 0.75–1.09 with min ratios down to 0.04 and capped max 1.4–2.0,
    /// then 0.28, 0.028, 0.022 as trainer and sampler part ways.
    @Test func aRealScaleDropIsCritical() {
        let healthy = noisy(0.95, relative: 0.15, 26).enumerated().map { index, mean in
            [Self.mean: mean, Self.max: 1.4 + Double(index % 6) / 10, Self.min: index == 6 ? 0.04 : 0.3]
        }
        let failing: [[String: Double]] = [0.284, 0.028, 0.022, 0.004].map { [Self.mean: $0, Self.max: 0.2, Self.min: 0] }
        let alerts = feed(detector(), loggedEvery(5, healthy + failing))
        #expect(alerts.summary == ["140:warning", "145:critical"])
        #expect(alerts[0].onsetStep == 135)
        #expect(alerts[1].metricValues["importance_ratio_mean"] == .double(0.022))
        #expect(alerts[1].recommendation.contains("truncated"))
    }

    @Test func healthyRunsAtRealScalesStayQuiet() {
        for seed in 1...20 as ClosedRange<UInt64> {
            let rows = noisy(1.0, relative: 0.3, 300, seed: seed).map { [Self.mean: $0, Self.max: 2.0, Self.min: 1e-30] }
            #expect(feed(detector(), loggedEvery(1, rows)).isEmpty, "seed \(seed)")
        }
    }

    @Test func aHugeMaximumOrARejectedMajorityWarns() {
        let huge = (1...40).map { index in ["rollout_corr/rollout_is_mean": 1.0, "rollout_corr/rollout_is_max": index > 25 ? 500.0 : 3] }
        #expect(feed(detector(), loggedEvery(1, huge)).summary == ["35:warning"])
        let masked = (1...40).map { index in ["rollout_corr/rollout_rs_masked_fraction": index > 25 ? 0.7 : 0.05] }
        let alerts = feed(detector(), loggedEvery(1, masked))
        #expect(alerts.summary == ["35:warning"])
        #expect(alerts[0].message.contains("70 %"))
    }

    @Test func aHighMeanIsCriticalAtFive() {
        let rows = (1...40).map { index in [Self.mean: index > 25 ? 6.0 : 1.0] }
        #expect(feed(detector(), loggedEvery(1, rows)).summary == ["35:critical"])
    }

    @Test func theWarmupHoldsEvenABrokenStart() {
        let rows = (1...15).map { _ in [Self.mean: 0.01] }
        #expect(feed(detector(), loggedEvery(1, rows)).isEmpty)
        #expect(feed(detector(warmup: 0), loggedEvery(1, rows)).summary == ["10:critical"])
    }
}
