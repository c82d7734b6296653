import RLWatchCore
import Testing

@testable import RLWatchIngest

/// The `extras` object of rlwatch's own metrics export (the dashboard's `metrics.jsonl`): canonical metrics at the
/// top level, every other stored value in `extras`, which must come back as extras under their own names so that
/// the detectors reading them (length truncation, dead learning signal) see on replay what they saw live.
@Suite struct ExtrasObjectTests {
    @Test func anExportedLineReadsBackItsExtras() throws {
        let line = #"{"run_id":"trl","step":160,"segment":0,"timestamp":1754000000.5,"entropy":4.25,"reward_mean":0,"#
            + #""extras":{"completions/clipped_ratio":1,"completions/mean_length":512,"frac_reward_zero_std":1}}"#
        let step = try parse(line)
        #expect(step.step == 160)
        #expect(step.entropy == 4.25)
        #expect(step.rewardMean == 0)
        #expect(step.extras["completions/clipped_ratio"] == 1)
        #expect(step.extras["completions/mean_length"] == 512)
        #expect(step.extras["frac_reward_zero_std"] == 1)
        #expect(step.extras["extras"] == nil)
    }

    @Test func membersKeepTheirOwnNamesWithNoAliasResolved() throws {
        // They were stored after the key mapping: an alias in there was switched off by the user's config.
        let step = try parse(#"{"step": 1, "extras": {"kl": 0.25, "entropy": 2, "actor/entropy": 1, "step": 9}}"#)
        #expect(step == MetricStep(step: 1, extras: ["kl": 0.25, "entropy": 2, "actor/entropy": 1, "step": 9]))

        var parser = MetricsLineParser(keyMap: MetricKeyMap(overrides: ["my_clip": "completions/clipped_ratio", "x": "loss"]))
        let mapped = try parser.parse(#"{"step": 1, "extras": {"my_clip": 0.5, "x": 3}}"#)
        #expect(mapped == MetricStep(step: 1, extras: ["my_clip": 0.5, "x": 3]))
    }

    @Test func onlyNumbersAreKept() throws {
        let step = try parse(
            #"{"step": 1, "extras": {"note": "x", "flag": true, "none": null, "list": [1, 2], "obj": {"a": 1}, "#
                + #""inf": "Infinity", "n": -2.5e-3}}"#)
        #expect(step == MetricStep(step: 1, extras: ["inf": .infinity, "n": -2.5e-3]))
        #expect(try parse(#"{"step": 1, "extras": {}}"#) == MetricStep(step: 1))
    }

    @Test func itIsAnObjectOnlyAtTheTopLevel() throws {
        #expect(try parse(#"{"step": 1, "metrics": {"extras": {"x": 1}, "loss": 2}}"#) == MetricStep(step: 1, loss: 2))
        #expect(try parse(#"{"step": 1, "extras": 4}"#) == MetricStep(step: 1, extras: ["extras": 4]))
        #expect(try parse(#"{"step": 1, "extras": null}"#) == MetricStep(step: 1))
    }

    @Test func extrasAndTopLevelKeysCombine() throws {
        let step = try parse(#"{"step": 2, "extras": {"a": 1}, "b": 2, "loss": 0.5}"#)
        #expect(step == MetricStep(step: 2, loss: 0.5, extras: ["a": 1, "b": 2]))
    }

    @Test func theKeyIsStructural() throws {
        var parser = MetricsLineParser(keyMap: MetricKeyMap(overrides: ["extras": "loss"]))
        #expect(try parser.parse(#"{"step": 1, "extras": {"loss": 1}}"#) == MetricStep(step: 1, extras: ["loss": 1]))
        #expect(MetricsConfig.structuralKeys.contains("extras"))
    }

    @Test func linesWithTheSameExtrasReuseTheirKeys() throws {
        var parser = MetricsLineParser()
        for index in 1...6 {
            let value = Double(index) / 8
            let step = try parser.parse(#"{"step": \#(index), "extras": {"frac_reward_zero_std": \#(value), "u": \#(index)}}"#)
            #expect(step.extras == ["frac_reward_zero_std": value, "u": Double(index)])
        }
    }

    @Test(arguments: [
        (#"{"step": 1, "extras": {"x" 1}}"#, 28, "expected ':' after the key \"x\", found '1'"),
        (#"{"step": 1, "extras": {1: 2}}"#, 24, "expected a key string in \"extras\", found '1'"),
        (#"{"step": 1, "extras": {"x": 1 "y": 2}}"#, 31, "expected ',' or '}' after the value of \"x\", found '\"'"),
        (#"{"step": 1, "extras": {"x": 1"#, 30, "unexpected end of line"),
    ])
    func malformedExtrasAreSyntaxErrors(line: String, column: Int, message: String) throws {
        let error = try #require(parseError(line))
        #expect(error.kind == .syntax)
        #expect(error.column == column, "\(error)")
        #expect(error.message == message, "\(error)")
    }
}
