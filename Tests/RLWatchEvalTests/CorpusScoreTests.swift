import Foundation
import RLWatchCore
import RLWatchEval
import Testing

@Suite struct CorpusScoreTests {
    static let run = CorpusRun(
        id: "r", file: "/dev/null", format: .jsonl, framework: "trl",
        source: .init(repo: "o/n", path: "p", commit: "c"), selection: .all, keys: [:], healthy: false, interval: nil,
        events: [
            LabelledEvent(
                kind: "kl", onset: 50, from: 48, latest: 60, end: 80, detectors: [.klExplosion], required: true,
                reason: "r"),
            LabelledEvent(
                kind: "dead", onset: 150, from: 150, latest: 160, end: 200, detectors: [.learningSignalDead],
                required: false, reason: "r"),
        ],
        healthyStretches: [StepStretch(from: 1, to: 40, reason: "calm"), StepStretch(from: 90, to: 140, reason: "calm")],
        notes: nil, location: "m.yaml:1")

    static func alert(_ step: Int, _ detector: DetectorID, _ severity: Severity = .warning) -> Alert {
        Alert(step: step, detector: detector, severity: severity, message: "", metricValues: [:], recommendation: "")
    }

    static func evaluate(_ alerts: [Alert]) throws -> RunEvaluation {
        let corpus = try TemporaryCorpus()
        try corpus.log("r.jsonl", steps: 1...200) { _ in 0.05 }
        var run = Self.run
        run.file = corpus.directory.appendingPathComponent("logs/r.jsonl").path
        return try CorpusEvaluator.evaluate(run, externalAlerts: alerts)
    }

    @Test func catchesAreOnTimeLateOrMissedByTheirWindow() throws {
        let early = try Self.evaluate([Self.alert(49, .klExplosion)])
        #expect(early.events[0].outcome == .onTime && early.events[0].delaySteps == 0, "a precursor inside `from`")
        let onTime = try Self.evaluate([Self.alert(55, .klExplosion), Self.alert(70, .klExplosion, .critical)])
        #expect(onTime.events[0].outcome == .onTime && onTime.events[0].delaySteps == 5)
        let late = try Self.evaluate([Self.alert(61, .klExplosion)])
        #expect(late.events[0].outcome == .late)
        // Another detector inside the window is neither a catch nor a false alarm.
        let other = try Self.evaluate([Self.alert(55, .gradientNormSpike)])
        #expect(other.events[0].outcome == .missed && other.falseAlarms.isEmpty && other.unscored.count == 1)
        // Before `from`, on an unlabelled step: unscored.
        let before = try Self.evaluate([Self.alert(45, .klExplosion)])
        #expect(before.events[0].outcome == .missed && before.unscored.count == 1)
    }

    @Test func alertsOnHealthyStretchesAreFalseAlarms() throws {
        let evaluation = try Self.evaluate([Self.alert(10, .klExplosion), Self.alert(100, .entropyCollapse)])
        #expect(evaluation.falseAlarms.map(\.step) == [10, 100])
        #expect(evaluation.healthySteps == 40 + 51)
    }

    @Test func scoreIsHundredForAPerfectMonitorAndZeroForASilentOne() throws {
        let perfect = CorpusScore([try Self.evaluate([Self.alert(50, .klExplosion), Self.alert(150, .learningSignalDead)])])
        #expect(abs(perfect.score - 100) < 1e-9)
        let silent = CorpusScore([try Self.evaluate([])])
        #expect(abs(silent.score) < 1e-9)
        #expect(silent.requiredMissed == 1 && silent.optionalEvents == 1 && silent.optionalCaught == 0)
        // A false alarm costs 0.22 of the 3-point range (perfect 2, silent −1).
        let noisy = CorpusScore([
            try Self.evaluate([Self.alert(50, .klExplosion), Self.alert(150, .learningSignalDead), Self.alert(5, .lossNaN)])
        ])
        #expect(abs(noisy.score - 100 * (3 - 0.22) / 3) < 1e-9)
        #expect(noisy.falseAlarms == 1)
        // Caught at `latest`: half the points of a catch at the onset.
        #expect(abs(CorpusScore.points(try Self.evaluate([Self.alert(60, .klExplosion)]).events[0]) - 0.5) < 1e-9)
    }

    @Test func aBaselineGatesRegressions() throws {
        let total = CorpusScore([try Self.evaluate([Self.alert(55, .klExplosion)])])
        let baseline = EvalBaseline(total)
        #expect(baseline.regression(total) == nil)
        var stricter = baseline
        stricter.score += 1
        #expect(stricter.regression(total)?.contains("below the baseline") == true)
    }
}
