import RLWatchCore

extension TrainingCheckpoint {
    /// Orders checkpoints as the stores list them: by step, then path.
    static func listed(_ checkpoints: [TrainingCheckpoint]) -> [TrainingCheckpoint] {
        checkpoints.sorted { ($0.step, $0.path) < ($1.step, $1.path) }
    }
}
