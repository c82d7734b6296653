/// One alert: what a detector saw, how bad it is, and what to do about it.
///
/// Field names follow rlwatch 0.5.1 (`detector`, `severity`, `step`, `message`, `metric_values`,
/// `recommendation`) so that webhooks and stored rows stay compatible.
public struct Alert: Sendable, Hashable {
    public var step: Int
    public var detector: DetectorID
    public var severity: Severity
    public var message: String
    public var metricValues: MetricValues
    public var recommendation: String
    /// How far outside normal the signal was, as a multiple of its baseline (∞ for a non-finite value);
    /// nil for detectors without such a scale. Used to let a far more severe event through a cooldown.
    public var magnitude: Double?

    public init(
        step: Int, detector: DetectorID, severity: Severity, message: String, metricValues: MetricValues,
        recommendation: String, magnitude: Double? = nil
    ) {
        self.step = step
        self.detector = detector
        self.severity = severity
        self.message = message
        self.metricValues = metricValues
        self.recommendation = recommendation
        self.magnitude = magnitude
    }

    /// A later alert this many times more severe (by `magnitude`) than the last one is news, even
    /// inside an episode or a cooldown: a one-step extreme transient must not be lost to a milder alert.
    public static let extremeFactor = 10.0

    /// Whether `magnitude` is at least `extremeFactor` times `earlier`.
    public static func isFarMoreSevere(_ magnitude: Double?, than earlier: Double?) -> Bool {
        guard let magnitude, let earlier, earlier > 0 else { return false }
        return magnitude >= extremeFactor * earlier
    }
}

/// Why the alert policy held an alert back. Suppressed alerts are stored, never silently lost.
public enum SuppressionReason: Sendable, Hashable, CustomStringConvertible {
    /// The same detector and severity was delivered at `lastStep`, less than `cooldown` steps ago.
    case cooldown(lastStep: Int, cooldown: Int)
    /// A warning inside the cooldown of a critical of the same detector delivered at `criticalStep`.
    case criticalCooldown(criticalStep: Int, cooldown: Int)
    /// The run already delivered `max_alerts_per_run` alerts.
    case runCap(limit: Int)
    /// Not an alert but a note that an episode ended (a stalled run sent steps again): recorded with the run's
    /// alerts so the history shows when the problem stopped, never delivered to a channel.
    case resolved

    public var description: String {
        switch self {
        case .cooldown(let last, let cooldown):
            "cooldown: same detector and severity delivered at step \(last) (cooldown \(cooldown) steps)"
        case .criticalCooldown(let step, let cooldown):
            "cooldown: a critical of this detector was delivered at step \(step) (cooldown \(cooldown) steps)"
        case .runCap(let limit):
            "run cap: \(limit) alerts already delivered for this run (alerts.max_alerts_per_run)"
        case .resolved:
            "resolved: a note that the condition ended, not an alert"
        }
    }

    /// The step and limit columns a store keeps beside ``code`` (the last delivered step, the cooldown or cap).
    public var storedFields: (step: Int?, limit: Int) {
        switch self {
        case .cooldown(let lastStep, let cooldown): (lastStep, cooldown)
        case .criticalCooldown(let criticalStep, let cooldown): (criticalStep, cooldown)
        case .runCap(let limit): (nil, limit)
        case .resolved: (nil, 0)
        }
    }

    /// The reason a store wrote as ``code`` and ``storedFields``; nil when they do not name one.
    public init?(code: String?, step: Int?, limit: Int?) {
        switch (code, step, limit) {
        case ("cooldown", let step?, let limit?): self = .cooldown(lastStep: step, cooldown: limit)
        case ("critical_cooldown", let step?, let limit?): self = .criticalCooldown(criticalStep: step, cooldown: limit)
        case ("run_cap", _, let limit?): self = .runCap(limit: limit)
        case ("resolved", _, _): self = .resolved
        default: return nil
        }
    }

    /// A short machine-readable code: `cooldown`, `critical_cooldown` or `run_cap`.
    public var code: String {
        switch self {
        case .cooldown: "cooldown"
        case .criticalCooldown: "critical_cooldown"
        case .runCap: "run_cap"
        case .resolved: "resolved"
        }
    }
}

/// What the alert policy decided for one candidate alert.
public enum AlertDisposition: Sendable, Hashable {
    case delivered
    case suppressed(SuppressionReason)

    public var isDelivered: Bool { if case .delivered = self { true } else { false } }
}

/// A candidate alert together with the policy's decision about it.
public struct AlertOutcome: Sendable, Hashable {
    public var alert: Alert
    public var disposition: AlertDisposition

    public init(alert: Alert, disposition: AlertDisposition) {
        self.alert = alert
        self.disposition = disposition
    }
}

extension Alert {
    /// The `metric_values` key holding the step the alert's episode began.
    public static let onsetStepKey = "onset_step"

    /// The step the alert's episode began: where the condition first held (the first of the observations a
    /// streak or a persistence rule counted), which may be before the alert's own step. "Last healthy step" is
    /// the step before the earliest onset. Alerts stored before rlwatch recorded it answer their own step.
    public var onsetStep: Int {
        if case .int(let onset)? = metricValues[Self.onsetStepKey] { return onset }
        return step
    }

    /// The alert with `onsetStep` recorded (never after the alert's own step).
    public func withOnset(_ onset: Int) -> Alert {
        var copy = self
        copy.metricValues[Self.onsetStepKey] = .int(min(onset, step))
        return copy
    }
}
