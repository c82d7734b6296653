import Foundation
import RLWatch
import RLWatchCore
import RLWatchStore
import Testing

@Suite struct DiagnosisTests {
    let run = RunRecord(runID: "r", framework: "trl", startedAt: 0, configJSON: "{}")

    func record(_ step: Int, _ detector: DetectorID, _ severity: Severity, delivered: Bool = true) -> AlertRecord {
        AlertRecord(
            runID: "r", timestamp: 0,
            alert: Alert(step: step, detector: detector, severity: severity, message: "m", metricValues: [:], recommendation: "do x"),
            disposition: delivered ? .delivered : .suppressed(.runCap(limit: 1)))
    }

    let steps = (0..<400).map { MetricStep(step: $0, entropy: 2.0 - Double($0) / 400, loss: 0.3) }

    @Test func healthyRunHasNoRollbackPoint() {
        let d = Diagnosis(run: run, steps: steps, alerts: [])
        #expect(d.health == .healthy)
        #expect(d.lastHealthyStep == nil)
        #expect(d.summaries.map(\.metric) == [.entropy, .loss])
        #expect(d.summaries.first?.trend == "decreasing")
    }

    @Test func lastHealthyStepIsBeforeTheWarningsThatLedToTheFirstCritical() {
        // An unrelated early warning (step 50), then trouble: warnings at 200 and 260, critical at 300.
        let alerts = [
            record(50, .rewardMeanDrift, .warning), record(200, .advantageVariance, .warning),
            record(260, .gradientNormSpike, .warning), record(300, .lossNaN, .critical),
        ]
        let d = Diagnosis(run: run, steps: steps, alerts: alerts)
        #expect(d.health == .critical)
        #expect(d.firstCriticalStep == 300)
        #expect(d.lastHealthyStep == 199)
    }

    @Test func lastHealthyStepIsBeforeTheEarliestOnsetNotTheFirstAlert() {
        // An entropy collapse that alerts at 250 after its streak began at 200, escalating to critical at 300:
        // the rollback point is before the streak, where the condition first held.
        let warning = record(250, .entropyCollapse, .warning)
        var onsetWarning = warning
        onsetWarning.alert = warning.alert.withOnset(200)
        var critical = record(300, .entropyCollapse, .critical)
        critical.alert = critical.alert.withOnset(200)
        let d = Diagnosis(run: run, steps: steps, alerts: [onsetWarning, critical])
        #expect(d.lastHealthyStep == 199)
        // A critical whose own episode began earlier than any other alert.
        var lone = record(320, .klExplosion, .critical)
        lone.alert = lone.alert.withOnset(318)
        #expect(Diagnosis(run: run, steps: steps, alerts: [lone]).lastHealthyStep == 317)
        #expect(lone.alert.metricValues["onset_step"] == .int(318))
    }

    @Test func suppressedCriticalStillMakesTheRunCritical() {
        let d = Diagnosis(run: run, steps: steps, alerts: [record(10, .lossNaN, .critical, delivered: false)])
        #expect(d.health == .critical)
        #expect(d.delivered.isEmpty)
        let json = DiagnosisRenderer.json(d).serialized()
        #expect(json.contains(#""suppressed_alerts":1"#))
        #expect(json.contains(#""status":"suppressed""#))
    }

    @Test func coFiringDetectorsGetThePlaybooksReading() {
        let alerts = [record(100, .gradientNormSpike, .critical), record(112, .lossNaN, .critical), record(300, .klExplosion, .warning)]
        let d = Diagnosis(run: run, steps: steps, alerts: alerts)
        #expect(d.coFiring.count == 1)
        #expect(d.coFiring.first?.detectors == [.gradientNormSpike, .lossNaN])
        #expect(d.coFiring.first?.advice?.contains("clipping") == true)
    }

    @Test func alertsAtBothEndsOfTheStepRange() {
        // Issue 20: stored alerts this far apart trapped the distance between them on every view of the run.
        let alerts = [
            record(Int.min, .gradientNormSpike, .warning), record(Int.min + 5, .lossNaN, .warning),
            record(Int.max, .klExplosion, .critical),
        ]
        let extremeSteps = [Int.min, Int.min + 5, 0, Int.max - 1, Int.max].map { MetricStep(step: $0, loss: 0.3) }
        let d = Diagnosis(run: run, steps: extremeSteps, alerts: alerts)
        #expect(d.health == .critical)
        #expect(d.firstCriticalStep == Int.max)
        // The warnings at the other end of the range did not lead to the critical.
        #expect(d.lastHealthyStep == Int.max - 1)
        #expect(d.coFiring.map(\.fromStep) == [Int.min])
        #expect(d.coFiring.map(\.toStep) == [Int.min + 5])
        #expect(DiagnosisRenderer.json(d).serialized().contains("\(Int.max)"))
    }

    @Test func jsonKeepsNonFiniteAsStringsAndStartsWith051Keys() {
        let nanSteps = [MetricStep(step: 1, loss: .nan), MetricStep(step: 2, loss: .infinity)]
        let d = Diagnosis(run: run, steps: nanSteps, alerts: [])
        let text = DiagnosisRenderer.json(d).prettyPrinted()
        #expect(!text.contains("NaN,") && !text.contains(": NaN"))
        let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        #expect(object?["total_steps"] as? Int == 2)
        #expect((object?["loss_summary"] as? [String: Any])?["non_finite"] as? Int == 2)
        #expect(text.hasPrefix("{\n  \"run_id\": \"r\",\n  \"framework\": \"trl\""))
    }

    @Test func markdownEscapesPipes() {
        var alert = record(5, .lossNaN, .critical)
        alert.alert.message = "a | b"
        let md = DiagnosisRenderer.markdown(Diagnosis(run: run, steps: steps, alerts: [alert]))
        #expect(md.contains("a \\| b"))
    }

    /// Every cell of the summary table has four significant digits: a 2.7e7 gradient spike no longer prints as
    /// `27000000.0000` beside a learning rate of `0.0000`.
    @Test func theSummaryTablePrintsFourSignificantDigits() {
        let steps = (0..<10).map {
            MetricStep(step: $0, loss: 0.123456, gradNorm: $0 == 5 ? 2.7e7 : 1.5, learningRate: 1e-5)
        }
        let d = Diagnosis(run: run, steps: steps, alerts: [])
        let text = DiagnosisRenderer.text(d)
        let markdown = DiagnosisRenderer.markdown(d)
        for output in [text, markdown] {
            #expect(output.contains("2.700e+07"), "\(output)")
            #expect(output.contains("1.000e-05"), "\(output)")
            #expect(output.contains("0.1235"), "\(output)")
            #expect(output.contains("1.500"), "\(output)")
            #expect(!output.contains("27000000"), "\(output)")
            #expect(!output.contains("0.0000"), "\(output)")
        }
    }
}
