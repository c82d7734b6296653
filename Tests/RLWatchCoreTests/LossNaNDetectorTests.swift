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

    @Test func ordinaryFiniteLossesNeverAlertAndNilIsNotAnObservation() {
        // RL losses are noisy and change sign: a 25× swing is ordinary.
        #expect(feed(detector(), series(.loss, [-5, 0, 3, -4, nil, 0.2, -120, 80])).isEmpty)
        // warmup 3: the 3rd observation is the first evaluated; nil steps do not count.
        #expect(feed(detector(warmup: 3), series(.loss, [.nan, nil, .nan])).isEmpty)
        #expect(feed(detector(warmup: 3), series(.loss, [.nan, nil, .nan, .nan])).summary == ["4:critical"])
    }

    @Test func aLossOrdersOfMagnitudeAboveTheRunsTypicalOneIsAnExplosion() {
        // The TRL run that blew up on step 2: loss ≈0.02, then 1e6 (finite, so a NaN check alone says nothing).
        let alerts = feed(detector(), series(.loss, [0.02, 1.2e6]))
        #expect(alerts.summary == ["2:critical"])
        #expect(alerts[0].message.contains("exploded"))
        // A custom loop: |loss| ≈0.2, then 4.8e3 (24,000×); the episode ends once losses are back to normal.
        let values: [Double?] = sawtooth(0.2, spread: 0.1, 40) + [4.8e3, 3e3] + constant(0.2, 3) + [1.16e7]
        #expect(feed(detector(), series(.loss, values)).summary == ["41:critical", "46:critical"])
        // Zeros (a step without reward variance logs loss 0) say nothing about the scale: losses of 0 and
        // ±25 are ordinary, not 2,500× a 0.01 floor.
        let zeros: [Double?] = constant(0, 30) + [-25.9, 0, 14.9, 0, -3]
        #expect(feed(detector(), series(.loss, zeros)).isEmpty)
    }
}
