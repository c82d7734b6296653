import Foundation
import PostgresNIO
import RLWatchStore

extension PostgresStore {
    /// Claims due entries for this dispatcher only: `FOR UPDATE SKIP LOCKED` skips the rows another dispatcher is
    /// claiming at the same moment, and the lease written in the same statement keeps them from being due again
    /// until it expires. So with any number of `rlwatch serve` processes each alert is sent once (unless a sender
    /// dies mid-send and its lease runs out, when it is retried: at least once, as with SQLite).
    public func claimDueDeliveries(at time: Double, leaseUntil: Double, limit: Int) async throws -> [DueDelivery] {
        guard limit > 0 else { return [] }
        let alertColumns = PostgresRows.alertSelectList.split(separator: ",").map {
            "a." + $0.trimmingCharacters(in: .whitespaces)
        }.joined(separator: ", ")
        let deliveryColumns = PostgresRows.deliverySelectList.split(separator: ",").map {
            "claimed." + $0.trimmingCharacters(in: .whitespaces)
        }.joined(separator: ", ")
        var binds = PostgresBindings()
        binds.append(time)
        binds.append(leaseUntil)
        binds.append(Int64(limit))
        let query = PostgresQuery(
            unsafeSQL: """
                WITH due AS (
                    SELECT id, next_attempt_at AS due_at FROM alert_deliveries
                    WHERE status = 'pending' AND next_attempt_at <= $1
                    ORDER BY next_attempt_at, id LIMIT $3
                    FOR UPDATE SKIP LOCKED
                ), claimed AS (
                    UPDATE alert_deliveries AS d SET next_attempt_at = $2 FROM due WHERE d.id = due.id
                    RETURNING d.*, due.due_at
                )
                SELECT \(deliveryColumns), \(alertColumns)
                FROM claimed LEFT JOIN alerts AS a ON a.id = claimed.alert_id
                ORDER BY claimed.due_at, claimed.id
                """, binds: binds)
        return try await withTransaction { connection in
            var due: [DueDelivery] = []
            for row in try await rows(query, on: connection) {
                let cells = row.makeRandomAccess()
                let delivery = try PostgresRows.decodeDelivery(cells)
                guard try cells[11].decode(Int64?.self) != nil else {
                    // The alert row is gone: nothing can be sent.
                    try await connection.query(
                        """
                        UPDATE alert_deliveries SET status = 'failed', last_detail = \("alert \(delivery.alertID) no longer exists")
                        WHERE id = \(delivery.id)
                        """, logger: logger)
                    continue
                }
                due.append(
                    DueDelivery(
                        delivery: delivery, alert: try PostgresRows.decodeAlert(cells, from: 11, runID: delivery.runID)))
            }
            return due
        }
    }

    public func nextDeliveryDue() async throws -> Double? {
        try await withConnection { connection in
            let found = try await rows(
                "SELECT MIN(next_attempt_at) FROM alert_deliveries WHERE status = 'pending'", on: connection)
            return try found.first?.decode(Double?.self)
        }
    }

    public func recordDeliveryAttempt(_ attempt: DeliveryAttemptRecord, status: DeliveryStatus, nextAttemptAt: Double)
        async throws
    {
        try await withTransaction { connection in
            try await connection.query(
                """
                INSERT INTO delivery_attempts (delivery_id, alert_id, channel, attempt, attempted_at, outcome, http_status,
                    detail, duration_seconds)
                VALUES (\(attempt.deliveryID), \(attempt.alertID), \(attempt.channel), \(Int32(clamping: attempt.attempt)),
                    \(attempt.time), \(attempt.outcome), \(attempt.httpStatus.map { Int32(clamping: $0) }), \(attempt.detail),
                    \(attempt.durationSeconds))
                """, logger: logger)
            // Only a pending entry moves: a delivered one stays delivered whatever a late attempt reports.
            try await connection.query(
                """
                UPDATE alert_deliveries
                SET status = \(status.rawValue), attempts = GREATEST(attempts, \(Int32(clamping: attempt.attempt))),
                    next_attempt_at = \(nextAttemptAt), updated_at = \(attempt.time + attempt.durationSeconds),
                    last_outcome = \(attempt.outcome), last_detail = \(attempt.detail)
                WHERE id = \(attempt.deliveryID) AND status = 'pending'
                """, logger: logger)
        }
    }

    public func deliveries(runID: String?, filter: DeliveryFilter) async throws -> [DeliveryRecord] {
        var sql = "SELECT \(PostgresRows.deliverySelectList) FROM alert_deliveries WHERE true"
        var binds = PostgresBindings()
        if let runID {
            binds.append(runID)
            sql += " AND run_id = $1"
        }
        switch filter {
        case .all: break
        case .pending: sql += " AND status = 'pending'"
        case .failed: sql += " AND status = 'failed'"
        }
        sql += " ORDER BY id"
        let query = PostgresQuery(unsafeSQL: sql, binds: binds)
        return try await withConnection { connection in
            try await rows(query, on: connection).map { try PostgresRows.decodeDelivery($0.makeRandomAccess()) }
        }
    }

    public func deliveryAttempts(deliveryID: Int64) async throws -> [DeliveryAttemptRecord] {
        try await withConnection { connection in
            try await rows(
                """
                SELECT delivery_id, alert_id, channel, attempt, attempted_at, outcome, http_status, detail, duration_seconds
                FROM delivery_attempts WHERE delivery_id = \(deliveryID) ORDER BY id
                """, on: connection
            ).map { row in
                let cells = row.makeRandomAccess()
                return DeliveryAttemptRecord(
                    deliveryID: try cells[0].decode(Int64.self), alertID: try cells[1].decode(Int64.self),
                    channel: try cells[2].decode(String.self), attempt: Int(try cells[3].decode(Int32.self)),
                    time: try cells[4].decode(Double.self), outcome: try cells[5].decode(String.self),
                    httpStatus: try cells[6].decode(Int32?.self).map(Int.init), detail: try cells[7].decode(String?.self) ?? "",
                    durationSeconds: try cells[8].decode(Double.self))
            }
        }
    }
}
