import RLWatchCore
import Testing

@Suite struct StalenessDetectorTests {
    let key = "training/off_policy/trajectory_staleness/mean"

    @Test func defaultsAreTheDocumentedOnes() {
        let config = RLWatchConfig().staleness
        #expect(config.enabled && config.warningRatio == 2 && config.criticalRatio == 4 && config.minStaleness == 2)
        #expect(config.minDroppedPerStep == 1 && config.consecutiveSteps == 10 && config.baselineWindow == 10)
        #expect(config.warmupSteps == 10)
    }

    @Test func stalenessRisingPastItsEarlyLevelWarnsThenEscalates() throws {
        // veRL fully-async with staleness_threshold 1: trajectories 0.3–1 versions behind, then the rollouts lag.
        let values = noisy(0.6, relative: 0.5, 60) + noisy(2.5, relative: 0.1, 30) + noisy(5, relative: 0.1, 30)
        let alerts = feed(StalenessDetector(StalenessConfig()), loggedEvery(1, values.map { [key: $0] }))
        #expect(alerts.summary == ["70:warning", "100:critical"])
        #expect(alerts[0].onsetStep == 61)
        #expect(alerts[0].message.contains("policy versions old"))
        #expect(alerts[0].recommendation.contains("staleness_threshold"))
    }

    @Test func aRunConfiguredToLagStaysQuietAtItsOwnLevel() {
        // Two versions behind by design, noisy: its early level, not a rise.
        for seed in 1...10 as ClosedRange<UInt64> {
            let values = noisy(2, relative: 0.5, 300, seed: seed)
            #expect(feed(StalenessDetector(StalenessConfig()), loggedEvery(1, values.map { [key: $0] })).isEmpty)
        }
        // And a fresh run (always 0) never reaches the two-version minimum.
        #expect(feed(StalenessDetector(StalenessConfig()), loggedEvery(1, Array(repeating: [key: 0.0], count: 200))).isEmpty)
    }

    @Test func staleDropsAreReadAsARateOfTheRunningCount() throws {
        // The running count grows 0–1 a step, then 20 a step; a reset (count back to 0) is not a negative rate.
        var count = 0.0
        var rows: [[String: Double]] = []
        for index in 0..<120 {
            if index == 30 { count = 0 }
            count += index < 60 ? Double(index % 2) : 20
            rows.append(["fully_async/count/dropped_stale_samples": count])
        }
        let alerts = feed(StalenessDetector(StalenessConfig()), loggedEvery(2, rows))
        #expect(alerts.map(\.severity) == [.warning, .critical] || alerts.map(\.severity) == [.critical])
        let first = try #require(alerts.first)
        #expect(first.step > 120 && first.step <= 150)
        #expect(first.metricValues["dropped_stale_per_step"] == .double(10))
    }
}
