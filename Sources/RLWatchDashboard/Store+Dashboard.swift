import RLWatchCore
import RLWatchStore

extension Store {
    /// The last stored row at a run's largest step number, or nil when the run has no rows.
    ///
    /// The largest step comes from ``Store/largestStep(runID:)`` (one index lookup on SQLite and PostgreSQL); the
    /// rows at that step are then read and the last to arrive is returned (its timestamp says when the run last
    /// sent something).
    ///
    /// - Parameter runID: the run.
    /// - Returns: the row, or nil.
    /// - Throws: the store's error.
    public func latestStep(runID: String) async throws -> StoredStep? {
        guard let largest = try await largestStep(runID: runID) else { return nil }
        return try await steps(runID: runID, sinceStep: largest, limit: 10_000).last
    }
}
