import Foundation
import RLWatchCore
import RLWatchStore

/// Renders a `Diagnosis` as text, JSON or Markdown.
public enum DiagnosisRenderer {
    /// JSON with rlwatch 0.5.1's keys first (run_id … health, assessment) and ours after them.
    public static func json(_ d: Diagnosis) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("run_id", .string(d.run.runID)),
            ("framework", .string(d.run.framework)),
            ("started_at", .string(isoLocal(d.run.startedAt))),
            ("total_steps", .int(d.totalSteps)),
            ("total_alerts", .int(d.delivered.count)),
            ("critical_alerts", .int(d.delivered.filter { $0.alert.severity == .critical }.count)),
            ("warning_alerts", .int(d.delivered.filter { $0.alert.severity == .warning }.count)),
            ("suppressed_alerts", .int(d.alerts.count - d.delivered.count)),
            ("detectors_triggered", .array(Array(Set(d.alerts.map(\.alert.detector))).sorted().map { .string($0.rawValue) })),
            ("alerts", .array(d.alerts.map(alertJSON))),
        ]
        for summary in d.summaries {
            members.append(
                (
                    "\(summary.metric.rawValue)_summary",
                    .object([
                        ("min", .double(summary.min)), ("max", .double(summary.max)),
                        ("mean", .double(summary.mean)), ("std", .double(summary.std)),
                        ("first", .double(summary.first)), ("last", .double(summary.last)),
                        ("trend", .string(summary.trend)), ("count", .int(summary.count)),
                        ("non_finite", .int(summary.nonFinite)),
                    ])
                ))
        }
        members += [
            ("health", .string(d.health.rawValue)),
            ("assessment", .string(d.assessment)),
            ("first_critical_step", d.firstCriticalStep.map(JSONValue.int) ?? .null),
            ("last_healthy_step", d.lastHealthyStep.map(JSONValue.int) ?? .null),
            ("resume_from", d.resumeFrom.map(checkpointJSON) ?? .null),
            ("checkpoints", .array(d.checkpoints.map(checkpointJSON))),
            ("actions", .array(d.actions.map(actionJSON))),
            (
                "co_firing",
                .array(
                    d.coFiring.map { group in
                        .object([
                            ("from_step", .int(group.fromStep)), ("to_step", .int(group.toStep)),
                            ("detectors", .array(group.detectors.map { .string($0.rawValue) })),
                            ("advice", group.advice.map(JSONValue.string) ?? .null),
                        ])
                    })
            ),
        ]
        return .object(members)
    }

    static func checkpointJSON(_ checkpoint: TrainingCheckpoint) -> JSONValue {
        .object([("step", .int(checkpoint.step)), ("path", .string(checkpoint.path)), ("name", .string(checkpoint.name))])
    }

    static func actionJSON(_ action: AlertActionRecord) -> JSONValue {
        .object([
            ("time", .string(isoLocal(action.time))), ("action", .string(action.action)), ("actor", .string(action.actor)),
            ("step", .int(action.step)), ("detector", .string(action.detector)), ("severity", .string(action.severity)),
            ("reason", .string(action.reason)), ("result", .string(action.result)), ("output", .string(action.output)),
        ])
    }

    /// `checkpoint-1200 (step 1200) at /runs/out/checkpoint-1200`.
    static func describe(_ checkpoint: TrainingCheckpoint) -> String {
        "\(checkpoint.name) (step \(checkpoint.step))" + (checkpoint.name == checkpoint.path ? "" : " at \(checkpoint.path)")
    }

    /// `stop by client at step 219 (critical loss_nan): actions.on_critical: stop → done`.
    static func describe(_ action: AlertActionRecord) -> String {
        "\(action.action) by \(action.actor) at step \(action.step) (\(action.severity) \(action.detector)): \(action.reason) → \(action.result)"
    }

    public static func alertJSON(_ record: AlertRecord) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("step", .int(record.alert.step)),
            ("detector", .string(record.alert.detector.rawValue)),
            ("severity", .string(record.alert.severity.rawValue)),
            ("message", .string(record.alert.message)),
            ("metric_values", record.alert.metricValues.json),
            ("recommendation", .string(record.alert.recommendation)),
        ]
        switch record.disposition {
        case .delivered:
            members.append(("status", .string("delivered")))
        case .suppressed(let reason):
            members.append(("status", .string("suppressed")))
            members.append(("suppression_reason", .string(reason.description)))
        }
        return .object(members)
    }

    static func isoLocal(_ epoch: Double) -> String { formatLocalTime(epoch, "yyyy-MM-dd'T'HH:mm:ss") }

    /// Four significant digits (``formatSignificant(_:digits:)``): a column that holds a 2.7e7 gradient spike and a
    /// 0.31 reward reads the same precision in every cell, where fixed decimals printed `27000000.0000`.
    static func cell(_ value: Double) -> String {
        formatSignificant(value, digits: 4)
    }

    /// Plain text for a terminal.
    public static func text(_ d: Diagnosis) -> String {
        var out: [String] = []
        out.append("rlwatch Diagnosis Report")
        out.append("Run:        \(d.run.runID)")
        out.append("Framework:  \(d.run.framework)")
        out.append("Started:    \(formatLocalTime(d.run.startedAt))")
        out.append("Steps:      \(d.totalSteps)")
        out.append("Health:     \(d.health.rawValue.uppercased()) — \(d.assessment)")
        if let critical = d.firstCriticalStep {
            let rollback = d.lastHealthyStep.map { "step \($0)" } ?? "before the first logged step"
            out.append("First critical at step \(critical); last healthy step: \(rollback) (roll back to a checkpoint from then).")
            if let resume = d.resumeFrom { out.append("Resume from \(describe(resume)).") }
        }
        if !d.checkpoints.isEmpty {
            out.append("Checkpoints: " + d.checkpoints.map { "\($0.name) (step \($0.step))" }.joined(separator: ", "))
        }
        out.append("")
        out.append("Metric Summaries")
        var rows = [["Metric", "Min", "Max", "Mean", "First", "Last", "Trend"]]
        for s in d.summaries {
            rows.append([
                s.metric.rawValue, cell(s.min), cell(s.max), cell(s.mean), cell(s.first), cell(s.last),
                s.trend + (s.nonFinite > 0 ? " (\(s.nonFinite) non-finite)" : ""),
            ])
        }
        out.append(renderTextTable(rows))
        out.append("")
        if d.alerts.isEmpty {
            out.append("No alerts triggered during this run.")
        } else {
            out.append("Alerts (\(d.delivered.count) delivered, \(d.alerts.count - d.delivered.count) suppressed)")
            for record in d.alerts {
                let status = record.disposition.isDelivered ? "" : " [suppressed]"
                out.append(
                    "  step \(record.alert.step)  \(record.alert.severity.rawValue.uppercased())  \(record.alert.detector)\(status)")
                out.append("    \(record.alert.message)")
                out.append("    → \(record.alert.recommendation)")
                if let advice = record.alert.resumeAdvice { out.append("    → \(advice)") }
            }
        }
        if !d.actions.isEmpty {
            out.append("")
            out.append("Actions taken")
            for action in d.actions {
                out.append("  \(formatLocalTime(action.time))  \(describe(action))")
                if !action.output.isEmpty { out.append("    output: \(action.output.split(separator: "\n").prefix(3).joined(separator: " | "))") }
            }
        }
        if !d.coFiring.isEmpty {
            out.append("")
            out.append("Detectors that fired together")
            for group in d.coFiring {
                out.append(
                    "  steps \(group.fromStep)–\(group.toStep): \(group.detectors.map(\.rawValue).joined(separator: " + "))"
                        + (group.advice.map { " — \($0)" } ?? ""))
            }
        }
        return out.joined(separator: "\n")
    }

    /// GitHub-flavoured Markdown, for pasting into an issue or a run log.
    public static func markdown(_ d: Diagnosis) -> String {
        func esc(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ") }
        var out: [String] = ["# rlwatch diagnosis: `\(d.run.runID)`", ""]
        out.append("- **Health:** \(d.health.rawValue) — \(d.assessment)")
        out.append("- **Framework:** \(d.run.framework)")
        out.append("- **Steps:** \(d.totalSteps)")
        if let critical = d.firstCriticalStep {
            out.append("- **First critical:** step \(critical)")
            out.append("- **Last healthy step:** \(d.lastHealthyStep.map(String.init) ?? "none")")
            if let resume = d.resumeFrom { out.append("- **Resume from:** `\(esc(describe(resume)))`") }
        }
        if !d.checkpoints.isEmpty {
            out.append("- **Checkpoints:** " + d.checkpoints.map { "\($0.name) (step \($0.step))" }.joined(separator: ", "))
        }
        out += ["", "## Metric summaries", "", "| Metric | Min | Max | Mean | First | Last | Trend |", "|---|---|---|---|---|---|---|"]
        for s in d.summaries {
            out.append("| \(s.metric.rawValue) | \(cell(s.min)) | \(cell(s.max)) | \(cell(s.mean)) | \(cell(s.first)) | \(cell(s.last)) | \(s.trend) |")
        }
        out += ["", "## Alerts", ""]
        if d.alerts.isEmpty {
            out.append("No alerts triggered during this run.")
        } else {
            out += ["| Step | Detector | Severity | Status | Message | Recommendation |", "|---|---|---|---|---|---|"]
            for r in d.alerts {
                out.append(
                    "| \(r.alert.step) | \(r.alert.detector) | \(r.alert.severity.rawValue) | \(r.disposition.isDelivered ? "delivered" : "suppressed") | \(esc(r.alert.message)) | \(esc(r.alert.recommendation)) |")
            }
        }
        if !d.coFiring.isEmpty {
            out += ["", "## Detectors that fired together", ""]
            for g in d.coFiring {
                out.append("- steps \(g.fromStep)–\(g.toStep): \(g.detectors.map(\.rawValue).joined(separator: " + "))\(g.advice.map { " — \($0)" } ?? "")")
            }
        }
        if !d.actions.isEmpty {
            out += ["", "## Actions taken", ""]
            for action in d.actions { out.append("- \(formatLocalTime(action.time)): \(esc(describe(action)))") }
        }
        return out.joined(separator: "\n")
    }
}

/// A plain-text table: a header, a rule, then rows; columns padded to their widest cell.
public func renderTextTable(_ rows: [[String]]) -> String {
    guard let header = rows.first else { return "" }
    var widths = header.map(\.count)
    for row in rows { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
    func line(_ row: [String]) -> String {
        var text = ""
        for (i, cell) in row.enumerated() where i < widths.count {
            text += (i > 0 ? "  " : "") + cell + String(repeating: " ", count: widths[i] - cell.count)
        }
        while text.hasSuffix(" ") { text.removeLast() }
        return text
    }
    var out = [line(header), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")]
    out += rows.dropFirst().map(line)
    return out.joined(separator: "\n")
}
