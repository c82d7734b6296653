import RLWatchCore
import Testing

@Suite struct AdvantageVarianceDetectorTests {
    func detector(warmup: Int = 1, multiplier: Double = 3) -> AdvantageVarianceDetector {
        var config = AdvantageVarianceConfig()
        config.warmupSteps = warmup
        config.stdMultiplier = multiplier
        return AdvantageVarianceDetector(config)
    }

    @Test func ratioTiersAreStrict() {
        let base = constant(1.0, 30)
        #expect(feed(detector(), series(.advantageStd, base + [3.0])).isEmpty)
        #expect(feed(detector(), series(.advantageStd, base + [3.01])).summary == ["31:warning"])
        #expect(feed(detector(), series(.advantageStd, base + [6.0])).summary == ["31:warning"])
        #expect(feed(detector(), series(.advantageStd, base + [6.01])).summary == ["31:critical"])
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
