import RLWatchCore
import Testing

@Suite struct AdvantageVarianceDetectorTests {
    func detector(warmup: Int = 1, multiplier: Double = 3) -> AdvantageVarianceDetector {
        var config = AdvantageVarianceConfig()
        config.warmupSteps = warmup
        config.stdMultiplier = multiplier
        return AdvantageVarianceDetector(config)
    }

    @Test func ratioTiers() {
        // Warning at 3× the median on two observations in a row; critical at 6× on its own step.
        let base = constant(1.0, 30)
        #expect(feed(detector(), series(.advantageStd, base + [2.99, 2.99])).isEmpty)
        #expect(feed(detector(), series(.advantageStd, base + [3.01])).isEmpty)
        #expect(feed(detector(), series(.advantageStd, base + [3.01, 3.01])).summary == ["32:warning"])
        #expect(feed(detector(), series(.advantageStd, base + [5.9, 5.9])).summary == ["32:warning"])
        #expect(feed(detector(), series(.advantageStd, base + [6.01])).summary == ["31:critical"])
    }

    @Test func stepsWithoutRewardVarianceDoNotDragTheBaselineDown() {
        // Group-normalised advantages: std ≈1 on a step with any reward variance, exactly 0 when every group got
        // the same reward. A baseline mean over both (≈0.33 here) made every ordinary step look 3× "unstable".
        var values: [Double?] = []
        for _ in 0..<20 { values += [0.9998, 0, 0] }
        #expect(feed(detector(), series(.advantageStd, values + [0.9998, 0.9998, 0.9998])).isEmpty)
    }

    @Test func warmupBoundary() {
        #expect(feed(detector(warmup: 30), series(.advantageStd, constant(1.0, 29) + [10])).summary == ["30:critical"])
        #expect(feed(detector(warmup: 31), series(.advantageStd, constant(1.0, 29) + [10])).isEmpty)
    }

    @Test func zeroOrNegativeBaselineIsNotJudged() {
        #expect(feed(detector(), series(.advantageStd, constant(0, 30) + [5])).isEmpty)
        #expect(feed(detector(), series(.advantageStd, constant(-1, 30) + [5])).isEmpty)
    }

    @Test func nonFiniteIgnoredAndEpisodeRearms() {
        let values = constant(1.0, 25) + [.nan, .infinity] + [10, 10, 1, 1, 1, 10]
        #expect(feed(detector(), series(.advantageStd, values)).summary == ["28:critical", "33:critical"])
    }
}
