import GRDB

extension SQLiteStore {
    public func schemaVersions() async throws -> (stored: Int, current: Int)? {
        let stored = try await database.read { try SQLiteSchema.storedVersion($0) }
        return (stored ?? 0, SQLiteSchema.version)
    }

    /// One lookup at the end of the `(run_id, step)` index.
    public func largestStep(runID: String) async throws -> Int? {
        if isClosed { return nil }
        let sql = "SELECT MAX(\(MetricsTable.Columns.step.name)) FROM \(MetricsTable.name) WHERE \(MetricsTable.Columns.runID.name) = ?"
        return try await database.read { db in try Int.fetchOne(db.cachedStatement(sql: sql), arguments: [runID]) }
    }
}
