import RLWatchCore

/// A store that keeps the checkpoints a run's trainer saved, so that alerts can name where to resume.
///
/// Optional, beside `Store`: a store without it (a read-only 0.5.1 database) simply knows no checkpoints, and alerts
/// then carry no `resume_from`.
public protocol TrainingCheckpointStore: Store {
    /// Records a checkpoint of `runID`; the same path reported again (a retry, `watch` restarted) keeps the first
    /// record.
    ///
    /// - Returns: whether it was new.
    @discardableResult
    func recordTrainingCheckpoint(_ checkpoint: TrainingCheckpoint, runID: String) async throws -> Bool
    /// The run's checkpoints, by step then path.
    func trainingCheckpoints(runID: String) async throws -> [TrainingCheckpoint]
}

extension TrainingCheckpoint {
    /// Orders checkpoints as the stores list them: by step, then path.
    static func listed(_ checkpoints: [TrainingCheckpoint]) -> [TrainingCheckpoint] {
        checkpoints.sorted { ($0.step, $0.path) < ($1.step, $1.path) }
    }
}
