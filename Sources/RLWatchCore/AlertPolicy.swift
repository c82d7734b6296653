/// Decides which candidate alerts are delivered: cooldown, escalation and the per-run cap.
///
/// - The same detector at the same severity is not delivered again within `cooldown_steps` steps
///   (a difference of exactly `cooldown_steps` passes).
/// - A critical may pass within the cooldown of a warning of the same detector; a warning does **not**
///   pass within the cooldown of a critical of the same detector (rlwatch 0.5.1 documents this but lets
///   the warning through).
/// - An alert at least `Alert.extremeFactor` (10) times more severe, by `magnitude`, than the last delivered
///   alert of the same detector and severity passes that cooldown: a one-step extreme transient (KL 17.8,
///   grad norm 154 — about 100× baseline) must not be lost to an earlier, milder alert (rlwatch 0.5.1 lost
///   exactly this spike to its own earlier false alarm).
/// - At most `max_alerts_per_run` alerts are delivered; the cap is checked first.
/// - A held-back alert is returned as `.suppressed` with the reason, to be stored — never silently lost.
///
/// Step numbers that go backwards (a resume from a checkpoint) start a new segment; cooldowns are
/// measured within a segment, so the first alerts after a resume are not held back by alerts at
/// higher step numbers from before it. The cap counts across segments.
public struct AlertPolicy: Sendable {
    private struct Key: Hashable {
        var detector: DetectorID
        var severity: Severity
    }

    public let cooldownSteps: Int
    public let maxAlertsPerRun: Int
    public private(set) var deliveredCount = 0
    private var lastDelivered: [Key: (step: Int, magnitude: Double?)] = [:]

    public init(cooldownSteps: Int, maxAlertsPerRun: Int) {
        self.cooldownSteps = cooldownSteps
        self.maxAlertsPerRun = maxAlertsPerRun
    }

    public init(_ config: AlertsConfig) {
        self.init(cooldownSteps: config.cooldownSteps, maxAlertsPerRun: config.maxAlertsPerRun)
    }

    /// Forgets cooldown windows at the start of a new run segment.
    public mutating func startSegment() {
        lastDelivered.removeAll()
    }

    /// Decides one candidate and records it if delivered.
    ///
    /// - Parameter stepCooldown: apply the step cooldowns. The liveness alerts (a stall, a crash) pass false: no
    ///   steps go by during a stall, their own episodes already fire once per silence, and a run that hangs twice
    ///   within `cooldown_steps` steps must be reported twice. The per-run cap applies to every alert.
    public mutating func decide(_ alert: Alert, stepCooldown: Bool = true) -> AlertDisposition {
        if deliveredCount >= maxAlertsPerRun {
            return .suppressed(.runCap(limit: maxAlertsPerRun))
        }
        let key = Key(detector: alert.detector, severity: alert.severity)
        if !stepCooldown {
            deliveredCount += 1
            lastDelivered[key] = (alert.step, alert.magnitude)
            return .delivered
        }
        if let last = lastDelivered[key], stepDistance(from: last.step, to: alert.step) < cooldownSteps,
            !Alert.isFarMoreSevere(alert.magnitude, than: last.magnitude)
        {
            return .suppressed(.cooldown(lastStep: last.step, cooldown: cooldownSteps))
        }
        if alert.severity == .warning,
            let critical = lastDelivered[Key(detector: alert.detector, severity: .critical)],
            stepDistance(from: critical.step, to: alert.step) < cooldownSteps
        {
            return .suppressed(.criticalCooldown(criticalStep: critical.step, cooldown: cooldownSteps))
        }
        deliveredCount += 1
        lastDelivered[key] = (alert.step, alert.magnitude)
        return .delivered
    }
}
