import RLWatchCore
import Testing

@Suite struct ValueDivergenceDetectorTests {
    static let explained = "critic/vf_explained_var"
    static let loss = "critic/vf_loss"

    func detector(warmup: Int = 20) -> ValueDivergenceDetector {
        var config = ValueDivergenceConfig()
        config.warmupSteps = warmup
        return ValueDivergenceDetector(config)
    }

    @Test func defaultsAreTheDocumentedOnes() {
        let config = RLWatchConfig().valueDivergence
        #expect(config.enabled && config.minExplainedVariance == 0 && config.criticalExplainedVariance == -1)
        #expect(config.lossRatio == 10 && config.consecutiveSteps == 20 && config.baselineWindow == 10)
        #expect(config.warmupSteps == 20)
    }

    /// The real veRL PPO run's scale: explained variance 0.2–0.5 with single-step dips to −0.12, value loss
    /// 0.001–0.11 around an early 0.04.
    @Test func aHealthyPPORunAtRealScalesStaysQuiet() {
        for seed in 1...20 as ClosedRange<UInt64> {
            var explained = noisy(0.33, relative: 0.7, 335, seed: seed)
            for index in stride(from: 50, to: 335, by: 47) { explained[index] = -0.12 }
            let losses = noisy(0.04, relative: 0.95, 335, seed: seed + 100)
            let rows = zip(explained, losses).map { [Self.explained: $0, Self.loss: $1] }
            #expect(feed(detector(), loggedEvery(1, rows)).isEmpty, "seed \(seed)")
        }
    }

    @Test func aCriticThatStopsExplainingWarnsThenEscalates() {
        let rows: [[String: Double]] = (1...100).map { index in
            switch index {
            case ...40: [Self.explained: 0.3, Self.loss: 0.04]
            case ...70: [Self.explained: -0.3, Self.loss: 0.08]
            default: [Self.explained: -0.5, Self.loss: 0.6]
            }
        }
        let alerts = feed(detector(), loggedEvery(1, rows))
        #expect(alerts.summary == ["60:warning", "90:critical"])
        #expect(alerts[0].onsetStep == 41)
        #expect(alerts[1].message.contains("15.0× its early level"))
        #expect(alerts[1].recommendation.contains("critic"))
    }

    @Test func aValueLossAloneWarns() {
        // TRL PPO logs no explained variance.
        let rows = (1...60).map { index in ["loss/value_avg": index > 30 ? 2.0 : 0.1] }
        #expect(feed(detector(), loggedEvery(1, rows)).summary == ["50:warning"])
    }

    @Test func aGRPORunGivesNoInput() {
        let rows = (1...60).map { _ in ["actor/pg_loss": 0.1] }
        #expect(feed(detector(warmup: 0), loggedEvery(1, rows)).isEmpty)
    }
}
