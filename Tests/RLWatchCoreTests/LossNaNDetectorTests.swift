import RLWatchCore
import Testing

@Suite struct LossNaNDetectorTests {
    func detector(warmup: Int = 0) -> LossNaNDetector {
        var config = LossNaNConfig()
        config.warmupSteps = warmup
        return LossNaNDetector(config)
    }

    @Test func eachNonFiniteKindIsCriticalOnItsStep() {
        for (value, kind) in [(Double.nan, "NaN"), (.infinity, "+Inf"), (-.infinity, "-Inf")] {
            let alerts = feed(detector(), series(.loss, [0.3, value]))
            #expect(alerts.summary == ["2:critical"])
            #expect(alerts.first?.metricValues["kind"] == .string(kind))
        }
    }

    @Test func aRunOfNaNIsOneEpisodeThatRearmsAfterFiniteLosses() {
        let values: [Double?] = [.nan, .nan, 0.3, .nan, 0.3, 0.3, 0.3, .nan]
        #expect(feed(detector(), series(.loss, values)).summary == ["1:critical", "8:critical"])
    }

    @Test func finiteLossesNeverAlertAndNilIsNotAnObservation() {
        #expect(feed(detector(), series(.loss, [-5, 0, 1e30, -1e30, nil])).isEmpty)
        // warmup 3: the 3rd observation is the first evaluated; nil steps do not count.
        #expect(feed(detector(warmup: 3), series(.loss, [.nan, nil, .nan])).isEmpty)
        #expect(feed(detector(warmup: 3), series(.loss, [.nan, nil, .nan, .nan])).summary == ["4:critical"])
    }
}
