import Foundation
import RLWatchCore

/// The text and JSON reports of `rlwatch eval`, and the committed baseline it is gated on.
public struct EvalReport: Sendable {
    public let evaluations: [RunEvaluation]
    public let total: CorpusScore
    /// Scores by framework, in name order.
    public let byFramework: [(framework: String, score: CorpusScore)]

    public init(_ evaluations: [RunEvaluation]) {
        self.evaluations = evaluations
        total = CorpusScore(evaluations)
        let frameworks = Set(evaluations.map(\.run.framework)).sorted()
        byFramework = frameworks.map { framework in
            (framework, CorpusScore(evaluations.filter { $0.run.framework == framework }))
        }
    }

    // MARK: Text

    public func text(verbose: Bool = false) -> String {
        var out = ""
        let idWidth = min(44, max(8, evaluations.map(\.run.id.count).max() ?? 8))
        func pad(_ text: String, _ width: Int) -> String {
            text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
        }
        out += "\(pad("run", idWidth))  \(pad("framework", 9))  label    rows  caught  late  missed  false  delay\n"
        for evaluation in evaluations {
            let required = evaluation.events.filter { $0.event.required }
            let onTime = required.filter { $0.outcome == .onTime }.count
            let late = required.filter { $0.outcome == .late }.count
            let missed = required.filter { $0.outcome == .missed }.count
            let delays = required.compactMap { $0.outcome == .onTime ? $0.delaySteps : nil }
            let label = evaluation.run.healthy ? "healthy" : (required.isEmpty ? "mixed" : "failing")
            out += "\(pad(evaluation.run.id, idWidth))  \(pad(evaluation.run.framework, 9))  \(pad(label, 7))"
            out += " \(leftPad(String(evaluation.rowCount), 5))  \(leftPad("\(onTime)/\(required.count)", 6))"
            out += "  \(leftPad(String(late), 4))  \(leftPad(String(missed), 6))  \(leftPad(String(evaluation.falseAlarms.count), 5))"
            out += "  \(delays.isEmpty ? "-" : delays.map(String.init).joined(separator: ","))\n"
            if verbose {
                for result in evaluation.events {
                    let event = result.event
                    let caught = result.alert.map { "\($0.detector) \($0.severity.rawValue) @\($0.step)" } ?? "nothing"
                    out += "    event \(event.kind) onset \(event.onset) (on time ≤ \(event.latest), end \(event.end))"
                    out += "\(event.required ? "" : " [optional]"): \(result.outcome.rawValue) — \(caught)\n"
                }
                for alert in evaluation.falseAlarms {
                    out += "    FALSE ALARM @\(alert.step) \(alert.detector) \(alert.severity.rawValue): \(alert.message)\n"
                }
                for alert in evaluation.unscored {
                    out += "    unscored @\(alert.step) \(alert.detector) \(alert.severity.rawValue)\n"
                }
            }
        }
        out += "\nby framework:\n"
        out += "  \(pad("framework", 10)) runs  healthy  required  on time  late  missed  optional  false alarms\n"
        for (framework, score) in byFramework + [("total", total)] {
            out += "  \(pad(framework, 10)) \(leftPad(String(score.runs), 4))  \(leftPad(String(score.healthyRuns), 7))"
            out += "  \(leftPad(String(score.requiredEvents), 8))  \(leftPad(String(score.requiredOnTime), 7))"
            out += "  \(leftPad(String(score.requiredLate), 4))  \(leftPad(String(score.requiredMissed), 6))"
            out += "  \(leftPad("\(score.optionalCaught)/\(score.optionalEvents)", 8))  \(leftPad(String(score.falseAlarms), 12))\n"
        }
        out += "\n"
        for target in total.targets() {
            out += "\(target.met ? "met    " : "NOT MET") \(target.name): \(target.value)\n"
        }
        out += "score: \(fixed(total.score, decimals: 2)) (100 = every failure caught at onset and no false alarm; "
        out += "0 = a monitor that never speaks)\n"
        return out
    }

    private func leftPad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
    }

    // MARK: JSON

    public func json() -> JSONValue {
        .object([
            ("score", .double(Self.rounded(total.score))),
            ("total", Self.json(total)),
            ("by_framework", .object(byFramework.map { ($0.framework, Self.json($0.score)) })),
            ("runs", .array(evaluations.map(Self.json))),
        ])
    }

    static func rounded(_ value: Double) -> Double { (value * 1e4).rounded() / 1e4 }

    static func json(_ score: CorpusScore) -> JSONValue {
        .object([
            ("runs", .int(score.runs)),
            ("healthy_runs", .int(score.healthyRuns)),
            ("required_events", .int(score.requiredEvents)),
            ("caught_on_time", .int(score.requiredOnTime)),
            ("caught_late", .int(score.requiredLate)),
            ("missed", .int(score.requiredMissed)),
            ("optional_events", .int(score.optionalEvents)),
            ("optional_caught", .int(score.optionalCaught)),
            ("false_alarms", .int(score.falseAlarms)),
            ("false_alarms_on_healthy_runs", .int(score.falseAlarmsOnHealthyRuns)),
            ("healthy_steps", .int(score.healthySteps)),
            ("false_alarms_per_10_healthy_runs", .double(rounded(score.falseAlarmsPer10HealthyRuns))),
            ("false_alarms_per_1000_healthy_steps", .double(rounded(score.falseAlarmsPer1000HealthySteps))),
            ("median_delay_steps", score.medianDelaySteps.map { .double($0) } ?? .null),
            ("median_delay_intervals", score.medianDelayIntervals.map { .double(rounded($0)) } ?? .null),
            ("unscored_alerts", .int(score.unscoredAlerts)),
            ("score", .double(rounded(score.score))),
        ])
    }

    static func json(_ evaluation: RunEvaluation) -> JSONValue {
        func alert(_ alert: Alert) -> JSONValue {
            .object([
                ("step", .int(alert.step)), ("detector", .string(alert.detector.rawValue)),
                ("severity", .string(alert.severity.rawValue)),
            ])
        }
        return .object([
            ("id", .string(evaluation.run.id)),
            ("framework", .string(evaluation.run.framework)),
            ("healthy", .bool(evaluation.run.healthy)),
            ("rows", .int(evaluation.rowCount)),
            ("interval", .int(evaluation.interval)),
            ("healthy_steps", .int(evaluation.healthySteps)),
            (
                "events",
                .array(
                    evaluation.events.map { result in
                        .object([
                            ("kind", .string(result.event.kind)),
                            ("onset", .int(result.event.onset)),
                            ("latest", .int(result.event.latest)),
                            ("end", .int(result.event.end)),
                            ("required", .bool(result.event.required)),
                            ("outcome", .string(result.outcome.rawValue)),
                            ("alert", result.alert.map(alert) ?? .null),
                            ("delay_steps", result.delaySteps.map { .int($0) } ?? .null),
                        ])
                    })
            ),
            ("false_alarms", .array(evaluation.falseAlarms.map(alert))),
            ("unscored", .array(evaluation.unscored.map(alert))),
        ])
    }
}

/// The committed result a change must not fall below: `eval-baseline.json`.
public struct EvalBaseline: Sendable, Hashable {
    public var score: Double
    public var caughtOnTime: Int
    public var falseAlarms: Int

    public init(score: Double, caughtOnTime: Int, falseAlarms: Int) {
        self.score = score
        self.caughtOnTime = caughtOnTime
        self.falseAlarms = falseAlarms
    }

    public init(_ total: CorpusScore) {
        self.init(score: EvalReport.rounded(total.score), caughtOnTime: total.requiredOnTime, falseAlarms: total.falseAlarms)
    }

    /// Reads a baseline file.
    ///
    /// - Throws: ``ManifestError`` naming the file and the key at fault.
    public static func load(_ path: String) throws -> EvalBaseline {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ManifestError(file: path, line: 1, column: 1, key: "", message: "cannot read the baseline file")
        }
        let object: JSONValue
        do throws(JSONError) {
            object = try JSONReader.parse([UInt8](data), mode: .strict)
        } catch {
            throw ManifestError(file: path, line: error.line ?? 1, column: error.column, key: "", message: error.message)
        }
        guard object.members != nil else {
            throw ManifestError(file: path, line: 1, column: 1, key: "", message: "not a JSON object")
        }
        func number(_ key: String) throws -> Double {
            switch object[key] {
            case .int(let value)?: return Double(value)
            case .double(let value)?: return value
            default: throw ManifestError(file: path, line: 1, column: 1, key: key, message: "missing or not a number")
            }
        }
        return EvalBaseline(
            score: try number("score"), caughtOnTime: Int(try number("caught_on_time")),
            falseAlarms: Int(try number("false_alarms")))
    }

    public var json: JSONValue {
        .object([
            ("score", .double(score)), ("caught_on_time", .int(caughtOnTime)), ("false_alarms", .int(falseAlarms)),
        ])
    }

    /// Why `total` falls below this baseline, or nil when it does not.
    public func regression(_ total: CorpusScore) -> String? {
        let current = EvalReport.rounded(total.score)
        guard current < score else { return nil }
        return "score \(fixed(current, decimals: 2)) is below the baseline \(fixed(score, decimals: 2)) "
            + "(caught on time \(total.requiredOnTime) vs \(caughtOnTime), false alarms \(total.falseAlarms) vs \(falseAlarms))"
    }
}
