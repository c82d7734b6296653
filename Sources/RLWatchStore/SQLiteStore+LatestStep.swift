import GRDB

/// A store that can name a run's largest step without reading its rows.
///
/// Optional, beside `Store` (not a requirement of it): the dashboard's runs list (`Store.latestStep` in
/// RLWatchDashboard) asks a store that adopts it, and otherwise bisects with one-row `steps(runID:sinceStep:limit:)`
/// queries, which on SQLite cost a range scan each.
public protocol LargestStepLookup: Store {
    /// The largest step number stored for a run, or nil when it has no rows.
    func largestStep(runID: String) async throws -> Int?
}

extension SQLiteStore: LargestStepLookup {
    /// One lookup at the end of the `(run_id, step)` index.
    public func largestStep(runID: String) async throws -> Int? {
        if isClosed { return nil }
        let sql = "SELECT MAX(\(MetricsTable.Columns.step.name)) FROM \(MetricsTable.name) WHERE \(MetricsTable.Columns.runID.name) = ?"
        return try await database.read { db in try Int.fetchOne(db.cachedStatement(sql: sql), arguments: [runID]) }
    }
}
