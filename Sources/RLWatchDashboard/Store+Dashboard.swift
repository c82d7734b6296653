import RLWatchCore
import RLWatchStore

extension Store {
    /// The last stored row at a run's largest step number, or nil when the run has no rows.
    ///
    /// Built only on `steps(runID:sinceStep:limit:)`, so every store (SQLite, PostgreSQL, in memory) has it
    /// without a new protocol requirement: "is there a row at step ≥ s?" is a one-row query on the
    /// `(run_id, step)` index, so the largest step is found by galloping then bisecting (about 2·log₂(last step)
    /// one-row queries, ~40 for a 100k-step run) instead of reading the whole run; a store that adopts
    /// `LargestStepLookup` (`SQLiteStore` does) answers with one index lookup instead. The rows at that step are then
    /// read and the last to arrive is returned (its timestamp says when the run last sent something).
    ///
    /// - Parameter runID: the run.
    /// - Returns: the row, or nil.
    /// - Throws: the store's error.
    public func latestStep(runID: String) async throws -> StoredStep? {
        if let lookup = self as? any LargestStepLookup {
            guard let largest = try await lookup.largestStep(runID: runID) else { return nil }
            return try await steps(runID: runID, sinceStep: largest, limit: 10_000).last
        }
        guard let first = try await steps(runID: runID, sinceStep: nil, limit: 1).first else { return nil }
        func exists(_ step: Int) async throws -> Bool {
            try await !steps(runID: runID, sinceStep: step, limit: 1).isEmpty
        }
        // Invariant: a row exists at a step ≥ low; none at a step ≥ high.
        var low = first.metrics.step
        var stride = 1
        var high = Int.max
        while true {
            let (candidate, overflow) = low.addingReportingOverflow(stride)
            if overflow { break }
            guard try await exists(candidate) else {
                high = candidate
                break
            }
            low = candidate
            stride = min(stride * 2, Int.max / 4)
        }
        while Int128(high) - Int128(low) > 1 {
            let middle = Int((Int128(low) + Int128(high)) / 2)
            if try await exists(middle) { low = middle } else { high = middle }
        }
        // The rows at a step ≥ low are those at the largest step, in arrival order (several after a resume).
        return try await steps(runID: runID, sinceStep: low, limit: 10_000).last
    }
}
