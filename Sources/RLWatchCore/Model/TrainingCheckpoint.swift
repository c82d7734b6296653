/// A checkpoint the trainer saved: the weights at the end of `step`, kept at `path`.
///
/// Reported by the Python client (`on_save` in TRL/Hugging Face, the veRL and OpenRLHF adapters) or found by
/// `rlwatch watch` (`checkpoint-N` folders beside the files it follows). Alerts name the newest one saved before
/// the run's trouble began (``Alert/resumeFrom``), so that "revert to the last good checkpoint" names a folder.
public struct TrainingCheckpoint: Sendable, Hashable {
    public var step: Int
    /// Where the checkpoint is, as the trainer or the watcher named it (a folder or a file).
    public var path: String
    /// Seconds since 1970 when rlwatch learnt of it.
    public var savedAt: Double

    public init(step: Int, path: String, savedAt: Double) {
        self.step = step
        self.path = path
        self.savedAt = savedAt
    }

    /// The last component of `path` (`checkpoint-1200`), or the path itself when it has none.
    public var name: String {
        let trimmed = path.hasSuffix("/") ? String(path.dropLast()) : path
        return trimmed.split(separator: "/").last.map(String.init) ?? path
    }

    /// The step of a Hugging Face style folder name: `checkpoint-1200` → 1200, `global_step_40` → 40 (veRL); nil
    /// for any other name.
    public static func step(ofFolderNamed name: String) -> Int? {
        for prefix in ["checkpoint-", "global_step_", "global_step"] where name.hasPrefix(prefix) {
            let digits = name.dropFirst(prefix.count)
            if !digits.isEmpty, digits.allSatisfy(\.isASCIIDigit), let step = Int(digits) { return step }
        }
        return nil
    }

    /// The checkpoint to resume from when the trouble began at `troubleStart`: the newest saved at a step before it
    /// (the weights after a step at or past the onset may already carry the problem).
    public static func resumePoint(_ checkpoints: [TrainingCheckpoint], before troubleStart: Int) -> TrainingCheckpoint? {
        checkpoints.filter { $0.step < troubleStart }.max { ($0.step, $0.savedAt) < ($1.step, $1.savedAt) }
    }
}

/// Where a run's current trouble began, from its alerts.
public enum TroubleOnset {
    /// Earlier alerts count as the same trouble when they fired at most this many steps before it began.
    public static let window = 100

    /// The earliest onset of the trouble that `alert` belongs to.
    ///
    /// Walks back from `alert` through earlier alerts that each fired within ``window`` steps of the trouble's start
    /// as known so far: each counts from its episode's onset (`onset_step`: a streak or a persistence rule fires
    /// after the condition began), so the start is the earliest onset of the chain. Notes (`resolved`) are not
    /// trouble.
    ///
    /// - Parameters:
    ///   - alert: the alert whose trouble is asked about.
    ///   - others: the run's other alerts (notes left out), in any order.
    public static func start(of alert: Alert, among others: [Alert]) -> Int {
        var start = alert.onsetStep
        for other in others.sorted(by: { $0.step > $1.step }) where other.step < start || other.onsetStep < start {
            if stepDistance(from: other.step, to: start) <= window {
                start = min(start, other.onsetStep)
            } else {
                break
            }
        }
        return start
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

extension Alert {
    /// The `metric_values` key holding the path of the checkpoint to resume from.
    public static let resumeFromKey = "resume_from"
    /// The `metric_values` key holding that checkpoint's step.
    public static let resumeFromStepKey = "resume_from_step"

    /// The checkpoint to resume from (path and step) when one was known as the alert was raised.
    public var resumeFrom: (path: String, step: Int)? {
        guard case .string(let path)? = metricValues[Self.resumeFromKey],
            case .int(let step)? = metricValues[Self.resumeFromStepKey]
        else { return nil }
        return (path, step)
    }

    /// The alert naming `checkpoint` as where to resume.
    public func withResumeFrom(_ checkpoint: TrainingCheckpoint) -> Alert {
        var copy = self
        copy.metricValues[Self.resumeFromKey] = .string(checkpoint.path)
        copy.metricValues[Self.resumeFromStepKey] = .int(checkpoint.step)
        return copy
    }

    /// "resume from checkpoint-1200 (step 1200)", or nil when no checkpoint is named.
    public var resumeAdvice: String? {
        guard let resume = resumeFrom else { return nil }
        let name = TrainingCheckpoint(step: resume.step, path: resume.path, savedAt: 0).name
        return "resume from \(name) (step \(resume.step))"
    }
}
