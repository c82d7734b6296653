import GRDB

extension SQLiteStore {
    /// One lookup at the end of the `(run_id, step)` index.
    public func largestStep(runID: String) async throws -> Int? {
        if isClosed { return nil }
        let sql = "SELECT MAX(\(MetricsTable.Columns.step.name)) FROM \(MetricsTable.name) WHERE \(MetricsTable.Columns.runID.name) = ?"
        return try await database.read { db in try Int.fetchOne(db.cachedStatement(sql: sql), arguments: [runID]) }
    }
}
