/// Addition: what rlwatch does about an alert besides notifying (the `actions:` section). Everything is opt-in: the
/// default only notifies.
///
/// Two kinds of action, both for delivered alerts at or above ``minSeverity``:
/// - in the training process, through the Python client: `stop` (end training at the next step boundary) or
///   `save_and_stop` (save a checkpoint first), chosen by ``onCritical`` or per detector by ``detectors``; the
///   server names the action in its answer to the batch that raised the alert, and the client obeys it;
/// - in `rlwatch watch` and `serve`: ``command``, run once per matching alert with the alert as JSON on stdin.
public struct ActionsConfig: Sendable, Hashable {
    /// What the client does to training on a matching alert.
    public enum TrainingAction: String, Sendable, Hashable, CaseIterable {
        case none
        case stop
        case saveAndStop = "save_and_stop"
    }

    /// The training action for alerts of every detector without an entry in ``detectors``: `none`, `stop` or
    /// `save_and_stop`. Named for its common use; it applies from ``minSeverity`` up.
    public var onCritical = TrainingAction.none.rawValue
    /// Per-detector override of ``onCritical`` (detector name → `none`, `stop` or `save_and_stop`).
    public var detectors: [String: String] = [:]
    /// The least severe alert that triggers an action: `critical` (default) or `warning`.
    public var minSeverity = Severity.critical.rawValue
    /// The program and its arguments, run once per matching alert by `watch` and `serve`; empty: none.
    public var command: [String] = []
    /// Run ``command`` through `/bin/sh -c` (its items joined by spaces) instead of executing it directly.
    public var shell = false
    /// The command is killed after this many seconds.
    public var timeoutSeconds = 60.0
    /// Log and record what would be done, and do nothing.
    public var dryRun = false

    public init() {}

    /// Whether an alert of this severity may trigger an action.
    public func admits(_ severity: Severity) -> Bool {
        severity >= (Severity(rawValue: minSeverity) ?? .critical)
    }

    /// The training action for a delivered alert: the detector's override, else ``onCritical``; `.none` below
    /// ``minSeverity``.
    public func trainingAction(for alert: Alert) -> TrainingAction {
        guard admits(alert.severity) else { return .none }
        let chosen = detectors[alert.detector.rawValue].flatMap { $0.isEmpty ? nil : $0 } ?? onCritical
        return TrainingAction(rawValue: chosen) ?? .none
    }

    /// Whether `watch` and `serve` run ``command`` for a delivered alert.
    public func runsCommand(for alert: Alert) -> Bool {
        !command.isEmpty && admits(alert.severity)
    }
}

/// `actions.command` as an outbox channel: a matching alert is queued for it in the step's transaction, like Slack or
/// email, so the command runs once per alert even across a restart of `watch` or `serve`.
public enum AlertCommand {
    /// The outbox channel name.
    public static let channel = "command"
}
