import RLWatchCore

/// What one ``WatchSource/poll(_:)`` found.
public struct WatchPoll {
    /// The new steps, in log order.
    public var steps: [MetricStep]
    /// The source's position after `steps`, to store with them; nil when it did not move.
    public var state: String?
    /// What to tell the user: a skipped line, a truncated or replaced file.
    public var notes: [WatchNote]
    /// The logged keys of the first steps, when ``WatchPollOptions/keysWanted`` asked for them.
    public var keys: [String]
    /// Whether more can be read right away (the poll stopped at ``WatchPollOptions/limit``).
    public var hasMore: Bool
    /// A malformed input under ``WatchPollOptions/strict``: the watch stops after storing `steps`.
    public var failure: WatchError?
    /// The trainer wrote what it writes when training ends (TRL's end-of-training summary, `train/train_runtime`
    /// …): what was seen, for the note. Returned once per source.
    public var ended: String?
    /// The tracker recorded that the run crashed, failed or was killed (a W&B exit record with a non-zero code, an
    /// MLflow run FAILED or KILLED): raised as `run_crashed`. Returned once per source.
    public var crashed: CrashReport?

    public init(
        steps: [MetricStep] = [], state: String? = nil, notes: [WatchNote] = [], keys: [String] = [],
        hasMore: Bool = false, failure: WatchError? = nil
    ) {
        self.steps = steps
        self.state = state
        self.notes = notes
        self.keys = keys
        self.hasMore = hasMore
        self.failure = failure
    }
}
