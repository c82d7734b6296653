import GRDB
import RLWatchCore
import RLWatchStore

extension SQLiteStore {
    public func claimDueDeliveries(at time: Double, leaseUntil: Double, limit: Int) async throws -> [DueDelivery] {
        try checkWritable()
        guard shape.hasV5Tables, limit > 0 else { return [] }
        let alertsSelect = alertsSelect
        let path = path
        return try await database.write { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT \(DeliveriesTable.selectList) FROM \(DeliveriesTable.name)
                    WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?
                    """,
                arguments: [time, limit])
            var due: [DueDelivery] = []
            for row in rows {
                var delivery = DeliveriesTable.decode(row)
                try db.execute(
                    sql: "UPDATE \(DeliveriesTable.name) SET next_attempt_at = ? WHERE id = ?",
                    arguments: [leaseUntil, delivery.id])
                delivery.nextAttemptAt = leaseUntil
                guard
                    let alertRow = try Row.fetchOne(
                        db, sql: "\(alertsSelect) WHERE \(AlertsTable.Columns.id.name) = ?", arguments: [delivery.alertID])
                else {
                    // The alert row is gone: nothing can be sent.
                    try db.execute(
                        sql: "UPDATE \(DeliveriesTable.name) SET status = 'failed', last_detail = ? WHERE id = ?",
                        arguments: ["alert \(delivery.alertID) no longer exists", delivery.id])
                    continue
                }
                due.append(
                    DueDelivery(delivery: delivery, alert: try AlertsTable.decode(alertRow, runID: delivery.runID, path: path)))
            }
            return due
        }
    }

    public func nextDeliveryDue() async throws -> Double? {
        if isClosed || !shape.hasV5Tables { return nil }
        return try await database.read { db in
            try Double.fetchOne(
                db, sql: "SELECT MIN(next_attempt_at) FROM \(DeliveriesTable.name) WHERE status = 'pending'")
        }
    }

    public func recordDeliveryAttempt(_ attempt: DeliveryAttemptRecord, status: DeliveryStatus, nextAttemptAt: Double)
        async throws
    {
        try checkWritable()
        guard shape.hasV5Tables else { return }
        try await database.write { db in
            try db.execute(
                sql: DeliveryAttemptsTable.insertSQL,
                arguments: [
                    attempt.deliveryID, attempt.alertID, attempt.channel, attempt.attempt, attempt.time, attempt.outcome,
                    attempt.httpStatus, attempt.detail, attempt.durationSeconds,
                ])
            // Only a pending entry moves: a delivered one stays delivered whatever a late attempt reports.
            try db.execute(
                sql: """
                    UPDATE \(DeliveriesTable.name)
                    SET status = ?, attempts = MAX(attempts, ?), next_attempt_at = ?, updated_at = ?, last_outcome = ?, last_detail = ?
                    WHERE id = ? AND status = 'pending'
                    """,
                arguments: [
                    status.rawValue, attempt.attempt, nextAttemptAt, attempt.time + attempt.durationSeconds,
                    attempt.outcome, attempt.detail, attempt.deliveryID,
                ])
        }
    }

    public func deliveries(runID: String?, filter: DeliveryFilter) async throws -> [DeliveryRecord] {
        if isClosed || !shape.hasV5Tables { return [] }
        var sql = "SELECT \(DeliveriesTable.selectList) FROM \(DeliveriesTable.name) WHERE 1"
        var arguments: StatementArguments = []
        if let runID {
            sql += " AND run_id = ?"
            arguments += [runID]
        }
        switch filter {
        case .all: break
        case .pending: sql += " AND status = 'pending'"
        case .failed: sql += " AND status = 'failed'"
        }
        sql += " ORDER BY id"
        return try await database.read { [sql, arguments] db in
            try Row.fetchAll(db, sql: sql, arguments: arguments).map(DeliveriesTable.decode)
        }
    }

    public func deliveryAttempts(deliveryID: Int64) async throws -> [DeliveryAttemptRecord] {
        if isClosed || !shape.hasV5Tables { return [] }
        return try await database.read { db in
            try Row.fetchAll(db, sql: DeliveryAttemptsTable.selectSQL, arguments: [deliveryID]).map { row in
                DeliveryAttemptRecord(
                    deliveryID: row[0], alertID: row[1], channel: row[2], attempt: row[3], time: row[4], outcome: row[5],
                    httpStatus: row[6], detail: row[7] as String? ?? "", durationSeconds: row[8])
            }
        }
    }
}
