import RLWatchCore
import Testing

@testable import RLWatchIngest

/// Parses one line with a fresh parser.
func parse(_ line: String) throws -> MetricStep {
    var parser = MetricsLineParser()
    return try parser.parse(line)
}

/// The error a line is rejected with, or `nil` if it parses.
func parseError(_ line: String) -> MetricsLineError? {
    var parser = MetricsLineParser()
    do {
        _ = try parser.parse(line)
        return nil
    } catch {
        return error
    }
}

@Suite struct MetricsLineParserTests {
    @Test func topLevelMetrics() throws {
        let step = try parse(#"{"step": 3, "entropy": 1.25, "loss": -0.5, "grad_norm": 2}"#)
        #expect(step == MetricStep(step: 3, entropy: 1.25, loss: -0.5, gradNorm: 2))
    }

    @Test(arguments: ["metrics", "data"])
    func nestedMetrics(container: String) throws {
        let step = try parse(#"{"step": 7, "\#(container)": {"entropy": 0.5, "kl_divergence": 0.01, "tokens": 12}}"#)
        #expect(step == MetricStep(step: 7, entropy: 0.5, klDivergence: 0.01, extras: ["tokens": 12]))
    }

    @Test func nestedAndTopLevelCombine() throws {
        let step = try parse(#"{"metrics": {"loss": 1.5}, "reward_mean": 0.25, "step": 1, "data": {"grad_norm": 3}}"#)
        #expect(step == MetricStep(step: 1, rewardMean: 0.25, loss: 1.5, gradNorm: 3))
    }

    @Test func stepInsideContainerIsNotTheStep() throws {
        let step = try parse(#"{"step": 2, "metrics": {"step": 99, "loss": 1}}"#)
        #expect(step == MetricStep(step: 2, loss: 1))
        #expect(parseError(#"{"metrics": {"step": 99, "loss": 1}}"#)?.kind == .missingStep)
    }

    @Test func containerKeysWithOtherValuesAreOrdinaryKeys() throws {
        let step = try parse(#"{"step": 1, "data": "gsm8k", "metrics": 4}"#)
        #expect(step == MetricStep(step: 1, extras: ["metrics": 4]))
        #expect(try parse(#"{"step": 1, "metrics": null}"#) == MetricStep(step: 1))
    }

    @Test func nestingIsOneLevelOnly() throws {
        // An object inside "metrics" is an unknown non-numeric value, ignored whatever it holds.
        let step = try parse(#"{"step": 1, "metrics": {"metrics": {"loss": 1}, "data": {"entropy": 2}}}"#)
        #expect(step == MetricStep(step: 1))
    }

    @Test func nullAndMissingMeanNotLogged() throws {
        let step = try parse(#"{"step": 1, "entropy": null, "loss": 0.5, "rewards": null, "foo": null}"#)
        #expect(step == MetricStep(step: 1, loss: 0.5))
        #expect(step.entropy == nil)
        #expect(step.rewards == nil)
    }

    @Test func nullDoesNotHideALowerPriorityAlias() throws {
        let step = try parse(#"{"step": 1, "entropy": null, "actor/entropy": 0.75}"#)
        #expect(step.entropy == 0.75)
    }

    @Test(arguments: [
        ("NaN", Double.nan), ("Infinity", .infinity), ("-Infinity", -.infinity),
        (#""NaN""#, .nan), (#""Infinity""#, .infinity), (#""-Infinity""#, -.infinity),
        (#""nan""#, .nan), (#""NAN""#, .nan), (#""-nan""#, .nan), (#""inf""#, .infinity), (#""-inf""#, -.infinity),
        (#""+inf""#, .infinity), (#""INF""#, .infinity), (#""infinity""#, .infinity), (#""-INFINITY""#, -.infinity),
        (#""Inf""#, .infinity), (#""\u004EaN""#, .nan),
    ])
    func nonFiniteSpellings(token: String, expected: Double) throws {
        let step = try parse(#"{"step": 1, "loss": \#(token), "my_extra": \#(token), "rewards": [\#(token), 1]}"#)
        let values = [try #require(step.loss), try #require(step.extras["my_extra"]), try #require(step.rewards?.first)]
        for value in values {
            if expected.isNaN {
                #expect(value.isNaN)
            } else {
                #expect(value == expected)
            }
        }
    }

    @Test func rewardsArray() throws {
        let step = try parse(#"{"step": 4, "rewards": [1, 0.5, -2e-1, NaN, "inf", 0]}"#)
        let rewards = try #require(step.rewards)
        #expect(rewards.count == 6)
        #expect(rewards[0] == 1 && rewards[1] == 0.5 && rewards[2] == -0.2)
        #expect(rewards[4] == .infinity && rewards[5] == 0)
        #expect(rewards[3].isNaN)
        #expect(step.rewardMean == nil)  // derived later by MetricStep.resolved(), not by the parser
    }

    @Test func emptyRewardsAndNestedRewards() throws {
        #expect(try parse(#"{"step": 1, "rewards": [ ]}"#).rewards == [])
        #expect(try parse(#"{"step": 1, "metrics": {"rewards": [1, 2]}}"#).rewards == [1, 2])
    }

    @Test(arguments: [
        ("5", 5), ("0", 0), ("-3", -3), ("5.0", 5), ("5.000", 5), ("1e3", 1000), ("2.5E1", 25), ("-0.0", 0),
        ("9223372036854775807", Int.max), ("-9223372036854775808", Int.min), ("123456789012", 123_456_789_012),
    ])
    func integralSteps(text: String, expected: Int) throws {
        #expect(try parse(#"{"step": \#(text)}"#).step == expected)
    }

    @Test func extrasKeepEveryOtherNumber() throws {
        let line = #"{"step": 1, "completions/clipped_ratio": 1.0, "frac_reward_zero_std": 0.5, "num_tokens": 15145,"#
            + #" "epoch": 0.01, "response_length/clip_ratio": 0.37, "name": "run-1", "flag": true, "list": [1, 2],"#
            + #" "obj": {"a": {"b": [1, {"c": null}]}}, "weird": "1.5"}"#
        let step = try parse(line)
        #expect(
            step.extras == [
                "completions/clipped_ratio": 1, "frac_reward_zero_std": 0.5, "num_tokens": 15145, "epoch": 0.01,
                "response_length/clip_ratio": 0.37,
            ])
    }

    @Test func repeatedKeyKeepsTheLastValue() throws {
        let step = try parse(#"{"step": 1, "loss": 1, "loss": 2, "x": 1, "x": 3}"#)
        #expect(step.loss == 2)
        #expect(step.extras == ["x": 3])
    }

    @Test func escapedKeys() throws {
        let line = #"{"st\u0065p": 1, "lo\u0073s": 2, "a\"b": 1, "c\\d": 2, "e\/f": 3, "g\nh": 4, "\b\f\r\t": 5,"#
            + #" "caf\u00e9": 6, "\ud83d\ude00": 7, "ent\u0072opy": 0.5}"#
        let step = try parse(line)
        #expect(step.step == 1)
        #expect(step.loss == 2)
        #expect(step.entropy == 0.5)
        #expect(
            step.extras == [
                "a\"b": 1, "c\\d": 2, "e/f": 3, "g\nh": 4, "\u{8}\u{c}\r\t": 5, "café": 6, "😀": 7,
            ])
    }

    @Test func rawUTF8Keys() throws {
        let step = try parse(#"{"step": 1, "café/多": 1.5, "métrique": 2}"#)
        #expect(step.extras == ["café/多": 1.5, "métrique": 2])
    }

    @Test func whitespaceAnywhere() throws {
        let step = try parse(" \t{ \"step\" :1 ,\"loss\"\t:\t2.5 , \"rewards\" : [ 1 , 2 ] }\t ")
        #expect(step == MetricStep(step: 1, rewards: [1, 2], loss: 2.5))
    }

    @Test func numbersFollowJSON() throws {
        let step = try parse(
            #"{"step": 1, "a": 0, "b": -0, "c": 1.5e300, "d": 1E-7, "e": 12345678901234567890123, "f": 1e400,"#
                + #" "g": -1e400, "h": 4.9e-324, "i": 1e-400, "j": 0.1, "k": 123.456e+2}"#)
        #expect(step.extras["a"] == 0)
        #expect(step.extras["b"] == 0 && step.extras["b"]?.sign == .minus)
        #expect(step.extras["c"] == 1.5e300)
        #expect(step.extras["d"] == 1e-7)
        #expect(step.extras["e"] == 12_345_678_901_234_567_890_123.0)
        #expect(step.extras["f"] == .infinity)
        #expect(step.extras["g"] == -.infinity)
        #expect(step.extras["h"] == .leastNonzeroMagnitude)
        #expect(step.extras["i"] == 0)
        #expect(step.extras["j"] == 0.1)
        #expect(step.extras["k"] == 12345.6)
    }

    @Test func parserLearnsKeysAcrossLines() throws {
        var parser = MetricsLineParser()
        for index in 0..<3 {
            let step = try parser.parse(#"{"step": \#(index), "custom/a": \#(index), "custom/b": 1, "loss": 1}"#)
            #expect(step.extras == ["custom/a": Double(index), "custom/b": 1])
        }
    }

    @Test func extrasStayRightWhenKeySetsAlternate() throws {
        // More key sets than the parser keeps dictionaries for, in a cycle, with repeated keys.
        var parser = MetricsLineParser()
        let keySets = [["a"], ["a", "b"], ["b", "a"], ["c", "a", "b"], ["d"], ["a", "a"], ["e", "f", "g"]]
        var previous: [MetricStep] = []
        for round in 0..<3 {
            for (index, keySet) in keySets.enumerated() {
                let value = Double(round * 100 + index)
                let body = keySet.enumerated().map { "\"\($0.element)\": \(value + Double($0.offset) / 10)" }
                let step = try parser.parse("{\"step\": \(index), \(body.joined(separator: ", ")), \"loss\": 1}")
                var expected: [String: Double] = [:]
                for (offset, key) in keySet.enumerated() { expected[key] = value + Double(offset) / 10 }
                #expect(step.extras == expected, "round \(round), keys \(keySet)")
                previous.append(step)
            }
        }
        // Steps handed out earlier keep their own values.
        #expect(previous[0].extras == ["a": 0])
        #expect(previous[7].extras == ["a": 100])
    }

    @Test func unlearnedKeysBeyondTheLimitStillWork() throws {
        var parser = MetricsLineParser()
        for index in 0..<(KeyTable.learnLimit + 10) {
            let step = try parser.parse(#"{"step": 1, "key_\#(index)": 1}"#)
            #expect(step.extras == ["key_\(index)": 1])
        }
        let step = try parser.parse(#"{"step": 1, "loss": 2, "key_0": 3}"#)
        #expect(step == MetricStep(step: 1, loss: 2, extras: ["key_0": 3]))
    }

    @Test func parseFromBytes() throws {
        var parser = MetricsLineParser()
        let bytes = Array(#"{"step": 9, "loss": 1}"#.utf8)
        let step = try bytes.withUnsafeBytes { try parser.parse($0) }
        #expect(step == MetricStep(step: 9, loss: 1))
    }

    @Test func rawMapKeepsLoggedKeys() throws {
        var parser = MetricsLineParser()
        let line = #"{"step": 5, "data": {"actor/kl_loss": 0.5, "actor/ppo_kl": 0.1, "entropy_loss": -2, "x": 1},"#
            + #" "rewards": [1]}"#
        let raw = try parser.parseRaw(line)
        let values: [String: Double] = ["actor/kl_loss": 0.5, "actor/ppo_kl": 0.1, "entropy_loss": -2, "x": 1]
        #expect(raw == RawMetricsLine(step: 5, values: values, rewards: [1]))
        #expect(raw.metricStep() == (try parser.parse(line)))
        #expect(raw.metricStep() == MetricStep(step: 5, entropy: 2, klDivergence: 0.5, rewards: [1], extras: ["x": 1]))
    }

    @Test func rawMapTypeChecksMetricKeys() {
        var parser = MetricsLineParser()
        #expect(throws: MetricsLineError.self) { try parser.parseRaw(#"{"step": 1, "loss": "abc"}"#) }
    }
}
