import RLWatchCore
import Testing

@Suite struct RolloutMismatchDetectorTests {
    static let trlKey = "sampling/sampling_logp_difference/mean"

    func detector(warmup: Int = 20, consecutive: Int = 10) -> RolloutMismatchDetector {
        var config = RolloutMismatchConfig()
        config.warmupSteps = warmup
        config.consecutiveSteps = consecutive
        return RolloutMismatchDetector(config)
    }

    @Test func defaultsAreTheDocumentedOnes() {
        let config = RLWatchConfig().rolloutMismatch
        #expect(config.enabled && config.warningRatio == 4 && config.criticalRatio == 10)
        #expect(config.minMismatch == 0.02 && config.highMismatch == 0.1 && config.minEffectiveSampleSize == 0.2)
        #expect(config.consecutiveSteps == 10 && config.baselineWindow == 10 && config.warmupSteps == 0)
    }

    /// The real TRL run's shape, logged every 5 steps: |Δ log p| 0.004–0.013 for 26 rows, then 0.05 and 0.27.
    @Test func aRealScaleRiseWarnsThenEscalates() {
        let healthy = noisy(0.0075, relative: 0.5, 26)
        let values = healthy + [0.0499, 0.2736, 0.196, 0.1466, 0.2127]
        let alerts = feed(detector(), loggedEvery(5, values.map { [Self.trlKey: $0] }))
        #expect(alerts.summary == ["140:warning", "145:critical"])
        #expect(alerts[0].metricValues["key"] == .string(Self.trlKey))
        #expect(alerts[0].onsetStep == 135)
        #expect(alerts[0].recommendation.contains("fp32"))
        #expect(alerts[1].recommendation.contains("checkpoint"))
    }

    @Test func aHealthyRunAtRealScalesStaysQuiet() {
        for seed in 1...20 as ClosedRange<UInt64> {
            // Healthy noise with single-row excursions to 3× (a step whose batch held one odd completion).
            var values = noisy(0.008, relative: 0.6, 300, seed: seed)
            for index in stride(from: 37, to: 300, by: 41) { values[index] *= 3 }
            #expect(feed(detector(), loggedEvery(1, values.map { [Self.trlKey: $0] })).isEmpty, "seed \(seed)")
        }
    }

    @Test func aSingleRowSpikeIsNotAStreak() {
        var values = noisy(0.006, relative: 0.3, 40)
        values[30] = 0.5
        #expect(feed(detector(), loggedEvery(5, values.map { [Self.trlKey: $0] })).isEmpty)
    }

    @Test func aRunBrokenFromTheStartWarnsOnTheAbsoluteLevel() {
        // Mismatch high from step 1 (bf16 logits on one side): the early level is broken too.
        let alerts = feed(detector(), loggedEvery(1, noisy(0.15, relative: 0.2, 40).map { ["vllm_kl": $0] }))
        // Judged from step 20 (the warmup), held for 10 steps: steps 20–29.
        #expect(alerts.summary == ["29:warning"])
        // With the default (no warmup) it holds from step 1: steps 1–10.
        #expect(feed(RolloutMismatchDetector(RolloutMismatchConfig()), loggedEvery(1, noisy(0.15, relative: 0.2, 40).map { ["vllm_kl": $0] })).summary == ["10:warning"])
    }

    @Test func anEffectiveSampleSizeCollapseIsCritical() {
        let rows: [[String: Double]] = (1...60).map { index in
            ["rollout_corr/kl": 0.001, "rollout_corr/rollout_is_eff_sample_size": index <= 40 ? 0.9 : 0.1]
        }
        let alerts = feed(detector(), loggedEvery(1, rows))
        #expect(alerts.summary == ["50:critical"])
        #expect(alerts[0].metricValues["effective_sample_size"] == .double(0.1))
        #expect(alerts[0].message.contains("effective sample size"))
    }

    @Test func theWarmupAndNonFiniteValuesAreRespected() {
        let values: [Double] = Array(repeating: 0.005, count: 10) + Array(repeating: 0.3, count: 10)
        // Warmup 100: nothing before step 100 of a 20-step run.
        #expect(feed(detector(warmup: 100), loggedEvery(1, values.map { [Self.trlKey: $0] })).isEmpty)
        let holes = values.map { [Self.trlKey: $0] } + [[Self.trlKey: .nan], [Self.trlKey: .infinity], [:]]
        // 0.3 from step 11, 60× the early level: critical after 10 steps; the NaN, ∞ and missing rows after it add nothing.
        #expect(feed(detector(warmup: 0), loggedEvery(1, holes)).summary == ["20:critical"])
    }

    @Test func keysAreReadInPriorityOrder() {
        let step = MetricStep(step: 1, extras: ["vllm_kl": 0.5, Self.trlKey: 0.01, "training/rollout_probs_diff_mean": 0.2])
        #expect(RolloutMismatchDetector.mismatch(step)?.key == Self.trlKey)
        #expect(RolloutMismatchDetector.mismatch(MetricStep(step: 1, extras: ["rollout_corr/kl": -0.1])) == nil)
    }
}
