import Foundation
import RLWatchCore
import RLWatchStore

extension Monitor {
    /// Records a checkpoint the trainer saved, so that later alerts name it as a place to resume.
    ///
    /// - Parameter time: when it was saved (seconds since 1970); nil: now, on the monitor's clock.
    /// - Returns: whether it was new (the same path reported again is kept once).
    @discardableResult
    public func recordCheckpoint(step: Int, path: String, at time: Double? = nil) async throws -> Bool {
        let savedAt = time ?? clock.now.secondsSince1970
        return try await store.recordTrainingCheckpoint(
            TrainingCheckpoint(step: step, path: path, savedAt: savedAt), runID: runID)
    }

    /// The alerts with `resume_from` set: the newest checkpoint saved before the earliest onset of the trouble each
    /// belongs to (the run's stored alerts and the batch's own, chained as ``TroubleOnset`` does).
    ///
    /// Reads the store only when the batch raised alerts and the run has checkpoints, so steps without alerts cost
    /// nothing. A store failure here leaves the alerts as they were: naming a checkpoint is a courtesy, the alert
    /// itself must not be lost.
    func namingResumePoint(_ records: [AlertRecord], outcomes: [AlertOutcome]) async -> ([AlertRecord], [AlertOutcome]) {
        guard !outcomes.isEmpty, records.count == outcomes.count else { return (records, outcomes) }
        do {
            let checkpoints = try await store.trainingCheckpoints(runID: runID)
            guard !checkpoints.isEmpty else { return (records, outcomes) }
            var history = try await store.alerts(runID: runID).filter { !$0.isNote }.map(\.alert)
            var records = records, outcomes = outcomes
            for index in outcomes.indices {
                let alert = outcomes[index].alert
                let isNote = outcomes[index].disposition == .suppressed(.resolved)
                if !isNote {
                    let start = TroubleOnset.start(of: alert, among: history)
                    if let resume = TrainingCheckpoint.resumePoint(checkpoints, before: start) {
                        outcomes[index].alert = alert.withResumeFrom(resume)
                        records[index].alert = outcomes[index].alert
                    }
                    history.append(alert)
                }
            }
            return (records, outcomes)
        } catch {
            logger.warning("rlwatch could not look up the checkpoints of run \(runID): \(error)")
            return (records, outcomes)
        }
    }
}

extension AlertRecord {
    /// A "resolved" note rather than an alert.
    var isNote: Bool { disposition == .suppressed(.resolved) }
}
