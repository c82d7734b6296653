import Foundation
import GRDB
import RLWatchCore
import RLWatchStore

// The tables of the SQLite store and how store values map to their rows.
//
// `runs` goes through a GRDB record (it is written once per run). `metrics` and `alerts` are on the
// monitor's hot path, so their rows are bound and read by hand with cached statements; the column
// lists below are the single place that names their columns.

/// `schema_version(version INTEGER PRIMARY KEY)`, as rlwatch 0.5.1 keeps it.
enum SchemaVersionTable {
    static let name = "schema_version"
}

/// `runs`: one row per run ID.
struct RunsTable: FetchableRecord, PersistableRecord {
    static let name = "runs"
    static var databaseTableName: String { name }

    enum Columns {
        static let runID = Column("run_id")
        static let framework = Column("framework")
        static let startedAt = Column("started_at")
        static let configJSON = Column("config_json")
        static let finishedAt = Column("finished_at")
    }

    var run: RunRecord

    init(_ run: RunRecord) { self.run = run }

    /// 0.5.1 declared every column but the key nullable; absent values read as empty or zero.
    init(row: Row) throws {
        run = RunRecord(
            runID: try row.decode(String?.self, forColumn: Columns.runID) ?? "",
            framework: try row.decode(String?.self, forColumn: Columns.framework) ?? "",
            startedAt: try row.decode(Double?.self, forColumn: Columns.startedAt) ?? 0,
            configJSON: try row.decode(String?.self, forColumn: Columns.configJSON) ?? "",
            finishedAt: row.hasColumn(Columns.finishedAt.name)
                ? try row.decode(Double?.self, forColumn: Columns.finishedAt) : nil)
    }

    func encode(to container: inout PersistenceContainer) {
        container[Columns.runID] = run.runID
        container[Columns.framework] = run.framework
        container[Columns.startedAt] = run.startedAt
        container[Columns.configJSON] = run.configJSON
        container[Columns.finishedAt] = run.finishedAt
    }
}

/// `metrics`: one row per stored step.
enum MetricsTable {
    static let name = "metrics"

    /// `MetricName.allCases`, built once: `allCases` allocates a new array on every access.
    static let metricOrder: [MetricName] = MetricName.allCases

    enum Columns {
        static let id = Column("id")
        static let runID = Column("run_id")
        static let segment = Column("segment")
        static let step = Column("step")
        static let timestamp = Column("timestamp")
        static let rewardMin = Column("reward_min")
        static let rewardMax = Column("reward_max")
        static let extraJSON = Column("extra_json")
        /// Comma-separated names of the metric columns whose value is NaN (SQLite stores NaN as NULL).
        static let nanColumns = Column("nan_columns")
        /// The per-sample rewards as little-endian float64s; NULL when the step had none.
        static let rewards = Column("rewards")

        /// The metric columns, named as the metrics (`MetricName.rawValue` is the column name).
        static let metrics: [(name: MetricName, column: Column)] = metricOrder.map { ($0, Column($0.rawValue)) }
    }

    /// Columns written by `insertSQL`, in binding order.
    static let insertColumns: [Column] =
        [Columns.runID, Columns.segment, Columns.step, Columns.timestamp]
        + Columns.metrics.map(\.column)  // in `metricOrder`, as `bind(_:to:)` binds them
        + [Columns.rewardMin, Columns.rewardMax, Columns.extraJSON, Columns.nanColumns, Columns.rewards]

    static let insertSQL: String = {
        let names = insertColumns.map(\.name)
        let placeholders = Array(repeating: "?", count: names.count).joined(separator: ", ")
        return "INSERT INTO \(name) (\(names.joined(separator: ", "))) VALUES (\(placeholders))"
    }()

    /// Binds one step to a prepared `insertSQL` statement, ready for `execute()`.
    ///
    /// This is the append hot path, so it skips `StatementArguments` (an array of `DatabaseValue`s
    /// built, validated and copied per row) and binds each value straight into the SQLite statement
    /// through GRDB's public `StatementBinding`. Resetting with empty arguments first clears every
    /// parameter to NULL, so absent values need no call at all.
    static func bind(_ step: StoredStep, to statement: Statement) throws {
        statement.setUncheckedArguments(StatementArguments())
        let handle = statement.sqliteStatement
        let metrics = step.metrics
        // The first failing sqlite3_bind_* result code; 0 is SQLITE_OK.
        var code: CInt = 0
        func record(_ result: CInt) { if code == 0 { code = result } }
        record(step.runID.bind(to: handle, at: 1))
        record(step.segment.bind(to: handle, at: 2))
        record(metrics.step.bind(to: handle, at: 3))
        record(step.timestamp.bind(to: handle, at: 4))
        var nanColumns: String?
        var index: CInt = 5
        for name in metricOrder {
            if let value = metrics[name] {
                if value.isNaN {
                    // SQLite stores NaN as NULL; remember which columns were NaN rather than absent.
                    if nanColumns == nil { nanColumns = name.rawValue } else { nanColumns?.append("," + name.rawValue) }
                } else {
                    record(value.bind(to: handle, at: index))
                }
            }
            index += 1
        }
        if let range = metrics.rewardRange {
            record(range.min.bind(to: handle, at: index))
            record(range.max.bind(to: handle, at: index + 1))
        }
        if let extras = StoreRowCodec.encodeExtras(metrics.extras) { record(extras.bind(to: handle, at: index + 2)) }
        if let nanColumns { record(nanColumns.bind(to: handle, at: index + 3)) }
        if let rewards = metrics.rewards { record(StoreRowCodec.encodeRewards(rewards).bind(to: handle, at: index + 4)) }
        if code != 0 {
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: "could not bind a metrics row", sql: insertSQL)
        }
    }

    /// The SELECT list that `decode(_:runID:path:)` reads, adapted to a legacy database opened read-only.
    static func selectList(_ shape: SQLiteSchema.Shape) -> String {
        var columns = [Columns.id.name, shape.hasV3Columns ? Columns.segment.name : "0"]
        columns += [Columns.step.name, Columns.timestamp.name]
        for (name, column) in Columns.metrics {
            columns.append(name == .gradNorm && !shape.hasGradNorm ? "NULL" : column.name)
        }
        columns.append(Columns.extraJSON.name)
        columns += shape.hasV3Columns ? [Columns.nanColumns.name, Columns.rewards.name] : ["NULL", "NULL"]
        return columns.joined(separator: ", ")
    }

    /// A step from a row selected with `selectList`.
    static func decode(_ row: Row, runID: String, path: String) throws -> StoredStep {
        let id: Int64 = try row.decode(atIndex: 0)
        var metrics = MetricStep(step: try row.decode(atIndex: 2))
        for (offset, name) in metricOrder.enumerated() {
            metrics[name] = try row.decode(Double?.self, atIndex: 4 + offset)
        }
        let extraIndex = 4 + metricOrder.count
        if let json = try row.decode(String?.self, atIndex: extraIndex) {
            do {
                metrics.extras = try StoreRowCodec.decodeExtras(json)
            } catch {
                throw SQLiteStoreError.invalidRow(path: path, table: name, id: id, problem: "extra_json: \(error)")
            }
        }
        if let nanColumns = try row.decode(String?.self, atIndex: extraIndex + 1) {
            for column in nanColumns.split(separator: ",") {
                if let metric = MetricName(rawValue: String(column)) { metrics[metric] = .nan }
            }
        }
        metrics.rewards = try row.withUnsafeData(atIndex: extraIndex + 2) { blob -> [Double]? in
            guard let blob else { return nil }
            guard let rewards = StoreRowCodec.decodeRewards(blob) else {
                throw SQLiteStoreError.invalidRow(
                    path: path, table: name, id: id, problem: "rewards blob of \(blob.count) bytes is not float64s")
            }
            return rewards
        }
        return StoredStep(
            runID: runID, segment: try row.decode(atIndex: 1), timestamp: try row.decode(atIndex: 3), metrics: metrics)
    }
}

/// `alerts`: one row per delivered or suppressed alert.
enum AlertsTable {
    static let name = "alerts"

    enum Columns {
        static let id = Column("id")
        static let runID = Column("run_id")
        static let segment = Column("segment")
        static let step = Column("step")
        static let timestamp = Column("timestamp")
        static let detector = Column("detector")
        static let severity = Column("severity")
        static let message = Column("message")
        static let metricValuesJSON = Column("metric_values_json")
        static let recommendation = Column("recommendation")
        /// `delivered` or `suppressed`.
        static let status = Column("status")
        /// `SuppressionReason.code`.
        static let suppressionReason = Column("suppression_reason")
        /// `SuppressionReason.description`, for people reading the table.
        static let suppressionDetail = Column("suppression_detail")
        /// The step of the earlier alert that caused a cooldown suppression.
        static let suppressionStep = Column("suppression_step")
        /// The cooldown length in steps, or the run cap.
        static let suppressionLimit = Column("suppression_limit")
    }

    static let delivered = "delivered"
    static let suppressed = "suppressed"

    static let insertColumns: [Column] = [
        Columns.runID, Columns.segment, Columns.step, Columns.timestamp, Columns.detector, Columns.severity,
        Columns.message, Columns.metricValuesJSON, Columns.recommendation, Columns.status, Columns.suppressionReason,
        Columns.suppressionDetail, Columns.suppressionStep, Columns.suppressionLimit,
    ]

    static let insertSQL: String = {
        let names = insertColumns.map(\.name)
        let placeholders = Array(repeating: "?", count: names.count).joined(separator: ", ")
        return "INSERT INTO \(name) (\(names.joined(separator: ", "))) VALUES (\(placeholders))"
    }()

    static func insertArguments(_ record: AlertRecord, segment: Int) -> StatementArguments {
        let alert = record.alert
        var values: [DatabaseValue] = [
            record.runID.databaseValue, segment.databaseValue, alert.step.databaseValue,
            record.timestamp.databaseValue, alert.detector.rawValue.databaseValue, alert.severity.rawValue.databaseValue,
            alert.message.databaseValue, StoreRowCodec.encodeMetricValues(alert.metricValues).databaseValue,
            alert.recommendation.databaseValue,
        ]
        switch record.disposition {
        case .delivered:
            values += [delivered.databaseValue, .null, .null, .null, .null]
        case .suppressed(let reason):
            let (step, limit) = reason.storedFields
            values += [
                suppressed.databaseValue, reason.code.databaseValue, reason.description.databaseValue,
                step?.databaseValue ?? .null, limit.databaseValue,
            ]
        }
        return StatementArguments(values)
    }

    static func selectList(_ shape: SQLiteSchema.Shape) -> String {
        var columns = [Columns.id, Columns.step, Columns.timestamp, Columns.detector, Columns.severity]
            .map(\.name)
        columns += [Columns.message, Columns.metricValuesJSON, Columns.recommendation].map(\.name)
        if shape.hasV3Columns {
            columns += [Columns.status, Columns.suppressionReason, Columns.suppressionStep, Columns.suppressionLimit]
                .map(\.name)
        } else {
            columns += ["'\(delivered)'", "NULL", "NULL", "NULL"]
        }
        return columns.joined(separator: ", ")
    }

    /// The SQL condition that selects the alerts of `filter` (nil: all of them).
    static func condition(_ filter: AlertFilter, shape: SQLiteSchema.Shape) -> String? {
        switch filter {
        case .all: nil
        case .delivered: shape.hasV3Columns ? "\(Columns.status.name) = '\(delivered)'" : nil
        case .suppressed: shape.hasV3Columns ? "\(Columns.status.name) = '\(suppressed)'" : "0"
        }
    }

    static func decode(_ row: Row, runID: String, path: String) throws -> AlertRecord {
        let id: Int64 = try row.decode(atIndex: 0)
        func invalid(_ problem: String) -> SQLiteStoreError {
            SQLiteStoreError.invalidRow(path: path, table: name, id: id, problem: problem)
        }
        let severityText = try row.decode(String?.self, atIndex: 4) ?? ""
        guard let severity = Severity(rawValue: severityText) else {
            throw invalid("unknown severity \"\(severityText)\"")
        }
        var metricValues = MetricValues()
        if let json = try row.decode(String?.self, atIndex: 6) {
            do {
                metricValues = try StoreRowCodec.decodeMetricValues(json)
            } catch {
                throw invalid("metric_values_json: \(error)")
            }
        }
        let alert = Alert(
            step: try row.decode(atIndex: 1),
            detector: DetectorID(try row.decode(String?.self, atIndex: 3) ?? ""),
            severity: severity,
            message: try row.decode(String?.self, atIndex: 5) ?? "",
            metricValues: metricValues,
            recommendation: try row.decode(String?.self, atIndex: 7) ?? "")
        let disposition: AlertDisposition
        let status = try row.decode(String?.self, atIndex: 8) ?? delivered
        switch status {
        case delivered:
            disposition = .delivered
        case suppressed:
            let code = try row.decode(String?.self, atIndex: 9)
            let step = try row.decode(Int?.self, atIndex: 10)
            let limit = try row.decode(Int?.self, atIndex: 11)
            guard let reason = SuppressionReason(code: code, step: step, limit: limit) else {
                throw invalid("unknown suppression reason \"\(code ?? "NULL")\"")
            }
            disposition = .suppressed(reason)
        default:
            throw invalid("unknown status \"\(status)\"")
        }
        return AlertRecord(
            id: id, runID: runID, timestamp: try row.decode(atIndex: 2), alert: alert, disposition: disposition)
    }
}

/// `checkpoints`: how far each watched source was ingested (schema v4).
enum CheckpointsTable {
    static let name = "checkpoints"
    static let upsertSQL = """
        INSERT INTO checkpoints (source, run_id, state, updated_at) VALUES (?, ?, ?, ?)
        ON CONFLICT(source) DO UPDATE SET run_id = excluded.run_id, state = excluded.state, updated_at = excluded.updated_at
        """
    static let selectSQL = "SELECT source, run_id, state FROM checkpoints WHERE source = ?"
}

/// `batch_receipts`: the answers to idempotent batches (schema v4), with the digest of their batch (`body_digest`,
/// added by ``SQLiteSchema/receiptDigestMigration``).
enum ReceiptsTable {
    static let name = "batch_receipts"
    static let insertSQL = """
        INSERT OR REPLACE INTO batch_receipts (run_id, key, response, created_at, body_digest) VALUES (?, ?, ?, ?, ?)
        """
    static let selectSQL = "SELECT run_id, key, response, body_digest FROM batch_receipts WHERE run_id = ? AND key = ?"
    /// For a database opened read-only before the digest column was added.
    static let selectWithoutDigestSQL = "SELECT run_id, key, response, NULL FROM batch_receipts WHERE run_id = ? AND key = ?"
}

/// `alert_deliveries`: the outbox, one entry per alert and channel (schema v5).
enum DeliveriesTable {
    static let name = "alert_deliveries"
    static let insertSQL = """
        INSERT OR IGNORE INTO alert_deliveries (alert_id, run_id, channel, status, attempts, next_attempt_at, created_at, updated_at)
        VALUES (?, ?, ?, 'pending', 0, ?, ?, ?)
        """
    static let selectList =
        "id, alert_id, run_id, channel, status, attempts, next_attempt_at, created_at, updated_at, last_outcome, last_detail"

    static func decode(_ row: Row) -> DeliveryRecord {
        DeliveryRecord(
            id: row[0], alertID: row[1], runID: row[2], channel: row[3],
            status: DeliveryStatus(rawValue: row[4] as String? ?? "") ?? .failed, attempts: row[5], nextAttemptAt: row[6],
            createdAt: row[7], updatedAt: row[8], lastOutcome: row[9], lastDetail: row[10])
    }
}

/// `delivery_attempts`: the delivery log, one row per attempt (schema v5).
enum DeliveryAttemptsTable {
    static let name = "delivery_attempts"
    static let insertSQL = """
        INSERT INTO delivery_attempts (delivery_id, alert_id, channel, attempt, attempted_at, outcome, http_status, detail, duration_seconds)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
        """
    static let selectSQL = """
        SELECT delivery_id, alert_id, channel, attempt, attempted_at, outcome, http_status, detail, duration_seconds
        FROM delivery_attempts WHERE delivery_id = ? ORDER BY id
        """
}
