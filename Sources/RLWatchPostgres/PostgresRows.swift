import Foundation
import PostgresNIO
import RLWatchCore
import RLWatchStore

/// How store values map to the PostgreSQL rows: the column lists in one place, and the codecs.
enum PostgresRows {
    static let metricOrder: [MetricName] = MetricName.allCases

    // MARK: metrics

    /// `INSERT … SELECT * FROM UNNEST(…)`: one statement per batch, one bind per column; a step already stored
    /// (same run, step and segment) is skipped. Answers the highest new row id and the number of rows inserted.
    static let insertStepsSQL: String = {
        let columns = ["run_id", "segment", "step", "timestamp"] + metricOrder.map(\.rawValue)
            + ["reward_min", "reward_max", "extra_json", "rewards"]
        let types = ["text", "int4", "int8", "float8"] + metricOrder.map { _ in "float8" }
            + ["float8", "float8", "text", "bytea"]
        let arrays = types.enumerated().map { "$\($0.offset + 1)::\($0.element)[]" }.joined(separator: ", ")
        return """
            WITH inserted AS (
                INSERT INTO metrics (\(columns.joined(separator: ", ")))
                SELECT * FROM UNNEST(\(arrays))
                ON CONFLICT (run_id, step, segment) DO NOTHING
                RETURNING id
            )
            SELECT COALESCE(MAX(id), 0)::int8, COUNT(*)::int8 FROM inserted
            """
    }()

    static func insertStepsQuery(_ steps: [StoredStep]) -> PostgresQuery {
        var runIDs: [String?] = []
        var segments: [Int32?] = []
        var numbers: [Int64?] = []
        var timestamps: [Double?] = []
        var metrics = Array(repeating: [Double?](), count: metricOrder.count)
        var rewardMin: [Double?] = []
        var rewardMax: [Double?] = []
        var extras: [String?] = []
        var rewards: [Data?] = []
        for step in steps {
            let values = step.metrics
            runIDs.append(step.runID)
            segments.append(Int32(clamping: step.segment))
            numbers.append(Int64(values.step))
            timestamps.append(step.timestamp)
            for (index, name) in metricOrder.enumerated() { metrics[index].append(values[name]) }
            let range = values.rewardRange
            rewardMin.append(range?.min)
            rewardMax.append(range?.max)
            extras.append(StoreRowCodec.encodeExtras(values.extras))
            rewards.append(values.rewards.map(StoreRowCodec.encodeRewards))
        }
        var binds = PostgresBindings(capacity: 8 + metricOrder.count)
        binds.append(NullableArray(runIDs))
        binds.append(NullableArray(segments))
        binds.append(NullableArray(numbers))
        binds.append(NullableArray(timestamps))
        for column in metrics { binds.append(NullableArray(column)) }
        binds.append(NullableArray(rewardMin))
        binds.append(NullableArray(rewardMax))
        binds.append(NullableArray(extras))
        binds.append(NullableArray(rewards))
        return PostgresQuery(unsafeSQL: insertStepsSQL, binds: binds)
    }

    /// The columns `decodeStep` reads.
    static let stepSelectList =
        (["id", "segment", "step", "timestamp"] + metricOrder.map(\.rawValue) + ["extra_json", "rewards"])
        .joined(separator: ", ")

    /// A row selected with ``stepSelectList``, and its id.
    static func decodeStep(_ row: PostgresRow, runID: String) throws -> (id: Int64, step: StoredStep) {
        let cells = row.makeRandomAccess()
        let id = try cells[0].decode(Int64.self)
        var metrics = MetricStep(step: Int(try cells[2].decode(Int64.self)))
        for (offset, name) in metricOrder.enumerated() {
            metrics[name] = try cells[4 + offset].decode(Double?.self)
        }
        let extraIndex = 4 + metricOrder.count
        if let json = try cells[extraIndex].decode(String?.self) {
            do {
                metrics.extras = try StoreRowCodec.decodeExtras(json)
            } catch {
                throw PostgresStoreError.invalidRow(table: "metrics", id: id, problem: "extra_json: \(error)")
            }
        }
        if let blob = try cells[extraIndex + 1].decode(ByteBuffer?.self) {
            guard let rewards = StoreRowCodec.decodeRewards(Data(blob.readableBytesView)) else {
                throw PostgresStoreError.invalidRow(
                    table: "metrics", id: id, problem: "rewards of \(blob.readableBytes) bytes are not float64s")
            }
            metrics.rewards = rewards
        }
        let step = StoredStep(
            runID: runID, segment: Int(try cells[1].decode(Int32.self)), timestamp: try cells[3].decode(Double.self),
            metrics: metrics)
        return (id, step)
    }

    // MARK: alerts

    static let insertAlertSQL = """
        INSERT INTO alerts (run_id, segment, step, timestamp, detector, severity, message, metric_values_json,
            recommendation, status, suppression_reason, suppression_detail, suppression_step, suppression_limit)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
        RETURNING id
        """

    static func insertAlertQuery(_ record: AlertRecord, segment: Int) -> PostgresQuery {
        let alert = record.alert
        var binds = PostgresBindings(capacity: 14)
        binds.append(record.runID)
        binds.append(Int32(clamping: segment))
        binds.append(Int64(alert.step))
        binds.append(record.timestamp)
        binds.append(alert.detector.rawValue)
        binds.append(alert.severity.rawValue)
        binds.append(alert.message)
        binds.append(StoreRowCodec.encodeMetricValues(alert.metricValues))
        binds.append(alert.recommendation)
        switch record.disposition {
        case .delivered:
            binds.append("delivered")
            binds.appendNull()
            binds.appendNull()
            binds.appendNull()
            binds.appendNull()
        case .suppressed(let reason):
            let (step, limit) = reason.storedFields
            binds.append("suppressed")
            binds.append(reason.code)
            binds.append(reason.description)
            binds.append(step.map(Int64.init))
            binds.append(Int64(limit))
        }
        return PostgresQuery(unsafeSQL: insertAlertSQL, binds: binds)
    }

    static let alertSelectList = """
        id, step, timestamp, detector, severity, message, metric_values_json, recommendation, status, \
        suppression_reason, suppression_step, suppression_limit
        """

    /// Twelve columns of ``alertSelectList`` starting at `offset`.
    static func decodeAlert(_ cells: PostgresRandomAccessRow, from offset: Int = 0, runID: String) throws -> AlertRecord {
        let id = try cells[offset].decode(Int64.self)
        func invalid(_ problem: String) -> PostgresStoreError {
            PostgresStoreError.invalidRow(table: "alerts", id: id, problem: problem)
        }
        let severityText = try cells[offset + 4].decode(String.self)
        guard let severity = Severity(rawValue: severityText) else { throw invalid("unknown severity \"\(severityText)\"") }
        var metricValues = MetricValues()
        if let json = try cells[offset + 6].decode(String?.self) {
            do {
                metricValues = try StoreRowCodec.decodeMetricValues(json)
            } catch {
                throw invalid("metric_values_json: \(error)")
            }
        }
        let alert = Alert(
            step: Int(try cells[offset + 1].decode(Int64.self)),
            detector: DetectorID(try cells[offset + 3].decode(String.self)),
            severity: severity,
            message: try cells[offset + 5].decode(String.self),
            metricValues: metricValues,
            recommendation: try cells[offset + 7].decode(String?.self) ?? "")
        let status = try cells[offset + 8].decode(String.self)
        let disposition: AlertDisposition
        switch status {
        case "delivered":
            disposition = .delivered
        case "suppressed":
            let code = try cells[offset + 9].decode(String?.self)
            let step = try cells[offset + 10].decode(Int64?.self).map(Int.init)
            let limit = try cells[offset + 11].decode(Int64?.self).map(Int.init)
            guard let reason = SuppressionReason(code: code, step: step, limit: limit) else {
                throw invalid("unknown suppression reason \"\(code ?? "NULL")\"")
            }
            disposition = .suppressed(reason)
        default:
            throw invalid("unknown status \"\(status)\"")
        }
        return AlertRecord(
            id: id, runID: runID, timestamp: try cells[offset + 2].decode(Double.self), alert: alert,
            disposition: disposition)
    }

    // MARK: runs

    static let runSelectList = "run_id, framework, started_at, config_json, finished_at"

    static func decodeRun(_ row: PostgresRow) throws -> RunRecord {
        let cells = row.makeRandomAccess()
        return RunRecord(
            runID: try cells[0].decode(String.self), framework: try cells[1].decode(String.self),
            startedAt: try cells[2].decode(Double.self), configJSON: try cells[3].decode(String.self),
            finishedAt: try cells[4].decode(Double?.self))
    }

    // MARK: outbox

    static let deliverySelectList =
        "id, alert_id, run_id, channel, status, attempts, next_attempt_at, created_at, updated_at, last_outcome, last_detail"

    /// Eleven columns of ``deliverySelectList`` starting at `offset`.
    static func decodeDelivery(_ cells: PostgresRandomAccessRow, from offset: Int = 0) throws -> DeliveryRecord {
        DeliveryRecord(
            id: try cells[offset].decode(Int64.self), alertID: try cells[offset + 1].decode(Int64.self),
            runID: try cells[offset + 2].decode(String.self), channel: try cells[offset + 3].decode(String.self),
            status: DeliveryStatus(rawValue: try cells[offset + 4].decode(String.self)) ?? .failed,
            attempts: Int(try cells[offset + 5].decode(Int32.self)),
            nextAttemptAt: try cells[offset + 6].decode(Double.self), createdAt: try cells[offset + 7].decode(Double.self),
            updatedAt: try cells[offset + 8].decode(Double.self), lastOutcome: try cells[offset + 9].decode(String?.self),
            lastDetail: try cells[offset + 10].decode(String?.self))
    }
}
