import GRDB

extension SQLiteStore {
    /// The largest step number stored for a run, or nil when it has no rows.
    ///
    /// One lookup at the end of the `(run_id, step)` index. The dashboard's runs list uses it (through
    /// `Store.latestStep` in RLWatchDashboard) instead of the store-independent bisection, which on SQLite costs a
    /// range scan per probe (`steps(sinceStep:)` asks for the smallest and largest row id at or above a step).
    public func largestStep(runID: String) async throws -> Int? {
        if isClosed { return nil }
        let sql = "SELECT MAX(\(MetricsTable.Columns.step.name)) FROM \(MetricsTable.name) WHERE \(MetricsTable.Columns.runID.name) = ?"
        return try await database.read { db in try Int.fetchOne(db.cachedStatement(sql: sql), arguments: [runID]) }
    }
}
