import RLWatchCore
import RLWatchStore

/// The dashboard's downloads: metrics as CSV or JSONL, alerts as CSV, for one run or several (each row names its
/// run, so a comparison's export is the runs' rows one after the other).
///
/// Numbers are written so that they read back exactly: the shortest round-trip decimal, `NaN`, `Infinity` and
/// `-Infinity` for the non-finite values (Python's `float()` and pandas read all of them), and an empty cell for a
/// metric that was not logged.
enum Exports {
    static let metricsHeader = ["run_id", "step", "segment", "timestamp"] + MetricName.allCases.map(\.rawValue) + ["extras"]
    static let alertsHeader = [
        "run_id", "id", "step", "timestamp", "detector", "severity", "status", "message", "recommendation", "metric_values",
    ]

    /// One CSV line (RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled), with CRLF.
    static func csvLine(_ fields: [String]) -> String {
        fields.map(csvField).joined(separator: ",") + "\r\n"
    }

    static func csvField(_ field: String) -> String {
        let field = neutralized(field)
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// `field` with a `'` in front when a spreadsheet would run it as a formula (OWASP's advice for CSV injection).
    ///
    /// Run ids, messages and extras keys come from clients: a run id `=HYPERLINK(…)` opened in Excel or Sheets
    /// is a live formula. A cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is prefixed, except
    /// a number (`-0.5`, `-Infinity`), which a spreadsheet reads as a number anyway and which must read back
    /// exactly.
    static func neutralized(_ field: String) -> String {
        guard let first = field.unicodeScalars.first, ["=", "+", "-", "@", "\t", "\r"].contains(first),
            Double(field) == nil
        else { return field }
        return "'" + field
    }

    static func number(_ value: Double?) -> String { value.map(formatNumber) ?? "" }

    static func metricsCSV(_ row: StoredStep) -> String {
        let metrics = row.metrics
        var fields = [row.runID, String(metrics.step), String(row.segment), formatNumber(row.timestamp)]
        for name in MetricName.allCases { fields.append(number(metrics[name])) }
        fields.append(metrics.extras.isEmpty ? "" : extrasJSON(metrics.extras).serialized())
        return csvLine(fields)
    }

    static func metricsJSONL(_ row: StoredStep) -> String {
        let metrics = row.metrics
        var members: [(String, JSONValue)] = [
            ("run_id", .string(row.runID)), ("step", .int(metrics.step)), ("segment", .int(row.segment)),
            ("timestamp", .double(row.timestamp)),
        ]
        for name in MetricName.allCases {
            if let value = metrics[name] { members.append((name.rawValue, .double(value))) }
        }
        if !metrics.extras.isEmpty { members.append(("extras", extrasJSON(metrics.extras))) }
        return JSONValue.object(members).serialized() + "\n"
    }

    static func alertsCSV(_ record: AlertRecord) -> String {
        let alert = record.alert
        let status: String
        switch record.disposition {
        case .delivered: status = "delivered"
        case .suppressed(let reason): status = "suppressed:\(reason.code)"
        }
        let values = JSONValue.object(alert.metricValues.map { entry in
            let value: JSONValue
            switch entry.value {
            case .double(let d): value = .double(d)
            case .int(let i): value = .int(i)
            case .string(let s): value = .string(s)
            case .null: value = .null
            }
            return (entry.key, value)
        })
        return csvLine([
            record.runID, record.id.map(String.init) ?? "", String(alert.step), formatNumber(record.timestamp),
            alert.detector.rawValue, alert.severity.rawValue, status, alert.message, alert.recommendation,
            values.serialized(),
        ])
    }

    private static func extrasJSON(_ extras: [String: Double]) -> JSONValue {
        .object(extras.sorted { $0.key < $1.key }.map { ($0.key, .double($0.value)) })
    }
}
