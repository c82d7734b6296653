import RLWatchCore

/// One action taken on an alert: a training run stopped or checkpointed by the Python client, a user command run by
/// `watch` or `serve`, or what a dry run would have done.
public struct AlertActionRecord: Sendable, Hashable {
    /// Assigned by the store; nil before insertion.
    public var id: Int64?
    public var runID: String
    /// Seconds since 1970 when it was taken.
    public var time: Double
    /// `stop`, `save_and_stop` or `command`.
    public var action: String
    /// Who took it: `client` (the Python client in the training process) or `server` (`watch`/`serve`).
    public var actor: String
    /// The alert it answered.
    public var step: Int
    public var detector: String
    public var severity: String
    /// Why: the rule that matched (`actions.on_critical`, `actions.command`, …).
    public var reason: String
    /// How it ended: `done`, `dry_run`, `exit 0`, `exit 1`, `timed out`, `failed: …`.
    public var result: String
    /// What the command printed (stdout then stderr, cut to ``outputLimit``); empty for other actions.
    public var output: String

    /// How much of a command's output is kept.
    public static let outputLimit = 4_000

    public init(
        id: Int64? = nil, runID: String, time: Double, action: String, actor: String, step: Int, detector: String,
        severity: String, reason: String, result: String, output: String = ""
    ) {
        self.id = id
        self.runID = runID
        self.time = time
        self.action = action
        self.actor = actor
        self.step = step
        self.detector = detector
        self.severity = severity
        self.reason = reason
        self.result = result
        self.output = String(output.prefix(Self.outputLimit))
    }
}
