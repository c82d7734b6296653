/// What the analyzer made of one step.
public struct AnalyzedStep: Sendable {
    /// The step with derived reward statistics.
    public var metrics: MetricStep
    /// The run segment the step belongs to (see `RunAnalyzer`).
    public var segment: Int
    /// Every candidate alert with the policy's decision, in detector order.
    public var outcomes: [AlertOutcome]

    public var delivered: [Alert] { outcomes.filter { $0.disposition.isDelivered }.map(\.alert) }
}

/// The pure per-run pipeline: step → detectors → alert policy. No I/O, no clock, no locks.
///
/// Steps are judged in arrival order. A step number that does not increase (a resume from a checkpoint,
/// or a re-logged step) starts a new *segment*: detectors keep their baselines, warmups and episodes (the
/// model resumed from weights they have already seen) but restart their step-counted streaks, and the
/// alert policy restarts its cooldown windows. Stores use (run, segment, step) to keep such rows apart.
public final class RunAnalyzer {
    public let config: RLWatchConfig
    private let suite: DetectorSuite
    private var policy: AlertPolicy
    public private(set) var segment = 0
    public private(set) var lastStep: Int?
    public private(set) var stepsSeen = 0

    public init(config: RLWatchConfig) {
        self.config = config
        suite = DetectorSuite(config: config)
        policy = AlertPolicy(config.alerts)
    }

    /// Decides an alert raised outside the detector suite (a stall, a crash) with the run's alert policy: it counts
    /// towards, and is held back by, the per-run cap like every alert; step cooldowns do not apply (see
    /// ``AlertPolicy/decide(_:stepCooldown:)``).
    public func decideLiveness(_ alert: Alert) -> AlertDisposition {
        policy.decide(alert, stepCooldown: false)
    }

    public func process(_ step: MetricStep) -> AnalyzedStep {
        let resolved = step.resolved()
        if let lastStep, resolved.step <= lastStep {
            segment += 1
            policy.startSegment()
        }
        lastStep = resolved.step
        stepsSeen += 1
        let alerts = suite.observe(resolved)
        var outcomes: [AlertOutcome] = []
        outcomes.reserveCapacity(alerts.count)
        for alert in alerts {
            outcomes.append(AlertOutcome(alert: alert, disposition: policy.decide(alert)))
        }
        return AnalyzedStep(metrics: resolved, segment: segment, outcomes: outcomes)
    }
}
