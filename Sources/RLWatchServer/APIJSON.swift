import RLWatch
import RLWatchCore
import RLWatchStore

/// How the API writes stored records. Non-finite numbers are the strings `"NaN"`, `"Infinity"`, `"-Infinity"`.
enum APIJSON {
    static func run(_ run: RunRecord, steps: Int? = nil, lastStep: Int? = nil, open: Bool? = nil) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("run_id", .string(run.runID)),
            ("framework", .string(run.framework)),
            ("started_at", .double(run.startedAt)),
            ("finished_at", .number(run.finishedAt)),
        ]
        if let steps { members.append(("steps", .int(steps))) }
        if let lastStep { members.append(("last_step", .int(lastStep))) }
        if let open { members.append(("live", .bool(open))) }
        return .object(members)
    }

    /// A metrics row: `step`, `segment`, `timestamp`, the canonical metrics that were logged, `rewards` when
    /// logged, and `extras`.
    static func step(_ row: StoredStep) -> JSONValue {
        let metrics = row.metrics
        var members: [(String, JSONValue)] = [
            ("step", .int(metrics.step)),
            ("segment", .int(row.segment)),
            ("timestamp", .double(row.timestamp)),
        ]
        for name in MetricName.allCases {
            if let value = metrics[name] { members.append((name.rawValue, .double(value))) }
        }
        if let rewards = metrics.rewards { members.append(("rewards", .array(rewards.map(JSONValue.double)))) }
        if !metrics.extras.isEmpty {
            members.append(("extras", .object(metrics.extras.sorted { $0.key < $1.key }.map { ($0.key, .double($0.value)) })))
        }
        return .object(members)
    }

    /// An alert as `diagnose --format json` writes it, with its id and arrival time.
    static func alert(_ record: AlertRecord) -> JSONValue {
        guard case .object(let members) = DiagnosisRenderer.alertJSON(record) else { return .null }
        return .object([("id", record.id.map { .int(Int($0)) } ?? .null), ("timestamp", .double(record.timestamp))] + members)
    }
}
