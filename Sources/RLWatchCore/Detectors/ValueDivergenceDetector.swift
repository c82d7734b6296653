/// Settings of ``ValueDivergenceDetector`` (section `value_divergence`).
public struct ValueDivergenceConfig: DetectorSettings {
    public var enabled = true
    /// Warning when the critic's explained variance holds below this: its values explain none of the returns.
    public var minExplainedVariance = 0.0
    /// Critical when it holds at or below this: the values are worse than a constant guess, by far.
    public var criticalExplainedVariance = -1.0
    /// Warning when the value loss holds at this many times its early level; critical at 3× that.
    public var lossRatio = 10.0
    /// Training steps in a row each level must hold (two observations at least).
    public var consecutiveSteps = 20
    /// The value loss's early level is the median of this many first observations.
    public var baselineWindow = 10
    public var warmupSteps = 20
    public init() {}
}

extension RLWatchConfig {
    /// PPO's value head diverging: value loss far above its start, explained variance below 0.
    public var valueDivergence: ValueDivergenceConfig {
        get { self[settings: ValueDivergenceConfig.self] }
        set { self[settings: ValueDivergenceConfig.self] = newValue }
    }
}

extension DetectorID {
    /// The critic of a PPO run no longer predicts the returns.
    public static let valueDivergence: DetectorID = "value_divergence"
}

extension MetricStep.ExtraKey {
    /// The critic's explained variance: veRL.
    public static let valueExplainedVariance = ["critic/vf_explained_var"]
    /// The critic's loss: veRL, TRL PPO, OpenRLHF.
    public static let valueLoss = ["critic/vf_loss", "loss/value_avg", "critic_loss"]
}

/// Value divergence: a PPO critic that stopped predicting the returns, so the advantages it feeds GAE are noise.
///
/// Reads veRL's `critic/vf_explained_var` and the value loss (veRL `critic/vf_loss`, TRL PPO `loss/value_avg`,
/// OpenRLHF `critic_loss`). A *warning* when the explained variance holds below `min_explained_variance` (0) or
/// the value loss at `loss_ratio` (10) × its early level for `consecutive_steps` (20) training steps; *critical*
/// when both hold together, when the explained variance is at or below `critical_explained_variance` (−1), or the
/// loss at 3 × `loss_ratio`. On the real veRL PPO run the explained variance dips below 0 on single steps
/// (−0.12, −0.02) and sits at 0.2–0.5 otherwise, and the value loss moves within 3× of its start: isolated dips
/// are ordinary, a critic that stays below 0 is not. GRPO runs have no critic and give this detector no input.
public final class ValueDivergenceDetector: Detector {
    public let id = DetectorID.valueDivergence
    private let config: ValueDivergenceConfig
    private var held: HeldLevel
    private var earlyLoss: EarlyMedian

    public init(_ config: ValueDivergenceConfig) {
        self.config = config
        held = HeldLevel(warmupSteps: config.warmupSteps, consecutiveSteps: config.consecutiveSteps)
        earlyLoss = EarlyMedian(window: config.baselineWindow)
    }

    public func observe(_ step: MetricStep) -> Alert? {
        let tick = held.tick(step.step)
        let explained = step.firstFiniteExtra(MetricStep.ExtraKey.valueExplainedVariance)
        let loss = step.firstFiniteExtra(MetricStep.ExtraKey.valueLoss).flatMap { $0 >= 0 ? $0 : nil }
        guard explained != nil || loss != nil else { return nil }
        let early = earlyLoss.value
        if early == nil, let loss { earlyLoss.add(loss) }
        guard held.warmedUp(tick) else { return nil }
        let unexplained = explained.map { $0 < config.minExplainedVariance } ?? false
        let lossRatio = loss.flatMap { loss in early.map { loss / $0 } }
        let lossHigh = lossRatio.map { $0 >= config.lossRatio } ?? false
        let critical =
            (unexplained && lossHigh) || (explained.map { $0 <= config.criticalExplainedVariance } ?? false)
            || (lossRatio.map { $0 >= 3 * config.lossRatio } ?? false)
        guard
            let (severity, onset, steps) = held.judge(
                warning: unexplained || lossHigh, critical: critical, step: step.step, tick: tick)
        else { return nil }

        var findings: [String] = []
        if let explained, unexplained {
            findings.append("explained variance \(fixed(explained, decimals: 3)) (below \(formatNumber(config.minExplainedVariance)))")
        }
        if let loss, let lossRatio, lossHigh {
            findings.append("value loss \(f4(loss)), \(fixed(lossRatio, decimals: 1))× its early level")
        }
        let message =
            "Value divergence: " + findings.joined(separator: ", ") + " for \(steps) training steps — the critic "
            + "no longer predicts the returns, so the advantages the policy is trained on are mostly noise."
        var recommendation =
            "Lower the critic's learning rate or clip its updates (`cliprange_value`), warm the critic up before "
            + "the actor learns (critic warmup steps), and check the reward scale: a reward that changed scale or "
            + "is unnormalised throws the value targets off. Whiten or normalise the advantages."
        if severity == .critical {
            recommendation +=
                " With the critic this far off, policy updates follow noise: pause the actor (or revert it) until the "
                + "explained variance is back above 0."
        }
        var values: MetricValues = ["consecutive_steps": .int(steps)]
        if let explained { values["explained_variance"] = .double(explained) }
        if let loss { values["value_loss"] = .double(loss) }
        if let early { values["early_value_loss"] = .double(early) }
        return Alert(
            step: step.step, detector: id, severity: severity, message: message, metricValues: values,
            recommendation: recommendation, magnitude: lossRatio
        ).withOnset(onset)
    }
}

extension ValueDivergenceDetector {
    /// The detector's entry in ``DetectorRegistry``.
    // swift-format-ignore
    public static let descriptor = DetectorDescriptor(
        id: .valueDivergence,
        summary: "PPO critic diverging: value loss far above its start, explained variance below 0.",
        enabled: \.valueDivergence.enabled,
        fields: [
            .double("value_divergence.min_explained_variance", \.valueDivergence.minExplainedVariance, .any,
                    "Warning when the critic's explained variance holds below this."),
            .double("value_divergence.critical_explained_variance", \.valueDivergence.criticalExplainedVariance,
                    .any, "Critical when the explained variance holds at or below this."),
            .double("value_divergence.loss_ratio", \.valueDivergence.lossRatio, .positive,
                    "Warning when the value loss holds at this many times its early level; 3x: critical (> 0)."),
            .int("value_divergence.consecutive_steps", \.valueDivergence.consecutiveSteps, .atLeast(1),
                 "Training steps in a row each level must hold before it alerts (>= 1)."),
            .int("value_divergence.baseline_window", \.valueDivergence.baselineWindow, .window(atLeast: 1),
                 "Early value loss = median of this many first observations (1-100000)."),
            .int("value_divergence.warmup_steps", \.valueDivergence.warmupSteps, .nonNegative,
                 "Training steps to see before this detector may fire (>= 0)."),
        ],
        inputs: [
            .extra(
                "critic explained variance / value loss",
                keys: MetricStep.ExtraKey.valueExplainedVariance + MetricStep.ExtraKey.valueLoss)
        ],
        chart: .input(
            id: "vf_explained_var", title: "Critic explained variance", fallback: nil,
            value: { $0.firstFiniteExtra(MetricStep.ExtraKey.valueExplainedVariance) })
    ) { ValueDivergenceDetector($0.valueDivergence) }
}
