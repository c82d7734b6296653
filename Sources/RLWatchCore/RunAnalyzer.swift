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
///
/// A step identical to one of the segment's latest ``recentCapacity`` steps (same number, same values) is not a
/// resume but the same step sent again — a client retrying a batch whose answer it lost — and
/// ``isRepeat(_:)`` says so (when the analyzer ``remembersRecentSteps``), so that it is neither judged nor stored a
/// second time.
public final class RunAnalyzer {
    public let config: RLWatchConfig
    private let suite: DetectorSuite
    private var policy: AlertPolicy
    public private(set) var segment = 0
    public private(set) var lastStep: Int?
    public private(set) var stepsSeen = 0

    /// How many of the current segment's latest steps are remembered to recognise a repeat.
    public static let recentCapacity = 1024
    /// Fingerprints of the current segment's latest steps, by step number, and their numbers oldest first.
    private var recent: [Int: UInt64] = [:]
    private var recentSteps: [Int] = []
    private var recentHead = 0

    /// Whether the analyzer keeps the fingerprints ``isRepeat(_:)`` needs (a dictionary update per step); a
    /// one-pass replay of a file has no use for them.
    public let remembersRecentSteps: Bool

    public init(config: RLWatchConfig, remembersRecentSteps: Bool = false) {
        self.config = config
        self.remembersRecentSteps = remembersRecentSteps
        suite = DetectorSuite(config: config)
        policy = AlertPolicy(config.alerts)
    }

    /// Decides an alert raised outside the detector suite (a stall, a crash) with the run's alert policy: it counts
    /// towards, and is held back by, the per-run cap like every alert; step cooldowns do not apply (see
    /// ``AlertPolicy/decide(_:stepCooldown:)``).
    public func decideLiveness(_ alert: Alert) -> AlertDisposition {
        policy.decide(alert, stepCooldown: false)
    }

    /// Whether `step` is one of the current segment's latest steps again, value for value: a re-sent step, to be
    /// skipped rather than processed (which would start a new segment). A step with a new number never is.
    public func isRepeat(_ step: MetricStep) -> Bool {
        guard let lastStep, step.step <= lastStep, let known = recent[step.step] else { return false }
        return known == step.resolved().fingerprint
    }

    public func process(_ step: MetricStep) -> AnalyzedStep {
        let resolved = step.resolved()
        if let lastStep, resolved.step <= lastStep {
            segment += 1
            policy.startSegment()
            recent.removeAll(keepingCapacity: true)
            recentSteps.removeAll(keepingCapacity: true)
            recentHead = 0
        }
        lastStep = resolved.step
        if remembersRecentSteps { remember(resolved) }
        stepsSeen += 1
        let alerts = suite.observe(resolved)
        var outcomes: [AlertOutcome] = []
        outcomes.reserveCapacity(alerts.count)
        for alert in alerts {
            outcomes.append(AlertOutcome(alert: alert, disposition: policy.decide(alert)))
        }
        return AnalyzedStep(metrics: resolved, segment: segment, outcomes: outcomes)
    }

    /// Adds a step to the segment's recent ones, forgetting the oldest beyond ``recentCapacity``.
    private func remember(_ step: MetricStep) {
        recent[step.step] = step.fingerprint
        if recentSteps.count < Self.recentCapacity {
            recentSteps.append(step.step)
        } else {
            recent[recentSteps[recentHead]] = nil
            recentSteps[recentHead] = step.step
            recentHead = (recentHead + 1) % Self.recentCapacity
        }
    }
}
