import GRDB

extension SQLiteStore {
    /// Deletes old metric rows and receipts in one transaction; alerts, runs, checkpoints and the outbox stay.
    public func pruneSteps(before time: Double) async throws -> Int {
        try checkWritable()
        return try await database.write { db in
            try db.execute(
                sql: "DELETE FROM \(MetricsTable.name) WHERE \(MetricsTable.Columns.timestamp.name) < ?", arguments: [time])
            let deleted = db.changesCount
            if shape.hasV4Tables {
                try db.execute(sql: "DELETE FROM \(ReceiptsTable.name) WHERE created_at < ?", arguments: [time])
            }
            return deleted
        }
    }
}
