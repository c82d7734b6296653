import RLWatchCore
import Testing

/// `RunAnalyzer.isRepeat`: the same step sent again is recognised; anything else is a step of its own.
@Suite struct RunAnalyzerRepeatTests {
    static func step(_ number: Int, loss: Double = 0.3) -> MetricStep {
        MetricStep(
            step: number, entropy: 1.5, klDivergence: .nan, rewards: [0, 1, 1, .infinity], loss: loss, gradNorm: 2,
            extras: ["completions/clipped_ratio": 0.1, "b": -0.0])
    }

    @Test func aStepSentAgainIsARepeatAndOtherValuesOrNumbersAreNot() {
        let analyzer = RunAnalyzer(config: RLWatchConfig(), remembersRecentSteps: true)
        for number in 0..<10 { _ = analyzer.process(Self.step(number)) }
        #expect(analyzer.isRepeat(Self.step(9)))
        #expect(analyzer.isRepeat(Self.step(3)))
        // NaN equals NaN here, whatever its payload.
        var otherNaN = Self.step(4)
        otherNaN.klDivergence = Double(nan: 7, signaling: false)
        #expect(analyzer.isRepeat(otherNaN))
        #expect(!analyzer.isRepeat(Self.step(9, loss: 0.31)))
        var extra = Self.step(9)
        extra.extras["new"] = 1
        #expect(!analyzer.isRepeat(extra))
        var fewerRewards = Self.step(9)
        fewerRewards.rewards = [0, 1, 1]
        #expect(!analyzer.isRepeat(fewerRewards))
        #expect(!analyzer.isRepeat(Self.step(10)), "a new step number is never a repeat")
        // Derived reward statistics do not matter: the step as sent and as stored (resolved) are the same step.
        #expect(analyzer.isRepeat(Self.step(5).resolved()))
        #expect(analyzer.segment == 0)
    }

    @Test func onlyTheCurrentSegmentsLatestStepsAreRemembered() {
        let analyzer = RunAnalyzer(config: RLWatchConfig(), remembersRecentSteps: true)
        let count = RunAnalyzer.recentCapacity + 50
        for number in 0..<count { _ = analyzer.process(Self.step(number)) }
        #expect(!analyzer.isRepeat(Self.step(49)), "older than the window")
        #expect(analyzer.isRepeat(Self.step(50)))
        #expect(analyzer.isRepeat(Self.step(count - 1)))
        // A resume with other values starts segment 1; segment 0's steps are no longer repeats.
        _ = analyzer.process(Self.step(100, loss: 9))
        #expect(analyzer.segment == 1)
        #expect(!analyzer.isRepeat(Self.step(count - 1)))
        #expect(analyzer.isRepeat(Self.step(100, loss: 9)))
    }

    @Test func anAnalyzerThatDoesNotRememberSeesNoRepeats() {
        let analyzer = RunAnalyzer(config: RLWatchConfig())
        for number in 0..<10 { _ = analyzer.process(Self.step(number)) }
        #expect(!analyzer.isRepeat(Self.step(9)))
    }

    @Test func fingerprintsDependOnEveryField() {
        let base = Self.step(1)
        var variants: [MetricStep] = []
        for name in MetricName.allCases {
            var changed = base
            changed[name] = 12.5  // no metric of `base` has this value
            variants.append(changed)
            if base[name] != nil {
                var removed = base
                removed[name] = nil
                variants.append(removed)
            }
        }
        var step = base
        step.step = 2
        variants.append(step)
        var reordered = base
        reordered.rewards = [1, 0, 1, .infinity]
        variants.append(reordered)
        var renamed = base
        renamed.extras = ["completions/clipped_ratio": 0.1, "c": -0.0]
        variants.append(renamed)
        var longer = base
        longer.extras = ["completions/clipped_ratio_": 0.1, "b": -0.0]
        variants.append(longer)
        var positiveZero = base
        positiveZero.extras = ["completions/clipped_ratio": 0.1, "b": 0.0]
        variants.append(positiveZero)
        var noRewards = base
        noRewards.rewards = nil
        variants.append(noRewards)
        var emptyRewards = base
        emptyRewards.rewards = []
        variants.append(emptyRewards)
        let prints = Set(variants.map(\.fingerprint))
        #expect(prints.count == variants.count)
        #expect(!prints.contains(base.fingerprint))
    }
}
