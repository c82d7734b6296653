/// Settings of ``ImportanceRatioDetector`` (section `importance_ratio`).
public struct ImportanceRatioConfig: DetectorSettings {
    public var enabled = true
    /// Warning when the mean importance-sampling ratio is at or below this.
    public var lowMean = 0.5
    /// Critical when it is at or below this.
    public var criticalLowMean = 0.2
    /// Warning when the mean ratio is at or above this.
    public var highMean = 2.0
    /// Critical when it is at or above this.
    public var criticalHighMean = 5.0
    /// Warning when the largest ratio is at or above this: far outside any clip range, one token dominates.
    public var maxRatio = 100.0
    /// Warning when veRL's rejection sampling masks at least this fraction of the batch.
    public var maskedFraction = 0.5
    /// Training steps in a row each level must hold (two observations at least).
    public var consecutiveSteps = 10
    /// 0: the absolute levels mean something from the first step (a run whose sampler disagrees from step 1 is
    /// the commonest case: a vLLM version the trainer does not support), and the relative ones wait for the early
    /// level anyway. A level must still hold for `consecutive_steps`.
    public var warmupSteps = 0
    public init() {}
}

extension RLWatchConfig {
    /// Importance-sampling ratios between the trainer and the rollout engine far from 1.
    public var importanceRatio: ImportanceRatioConfig {
        get { self[settings: ImportanceRatioConfig.self] }
        set { self[settings: ImportanceRatioConfig.self] = newValue }
    }
}

extension DetectorID {
    /// The importance-sampling ratios between trainer and rollout engine have left 1 far behind.
    public static let importanceRatio: DetectorID = "importance_ratio"
}

extension MetricStep.ExtraKey {
    /// The mean importance-sampling ratio (trainer over rollout engine): TRL, veRL's rollout correction.
    public static let importanceRatioMean = ["sampling/importance_sampling_ratio/mean", "rollout_corr/rollout_is_mean"]
    /// The largest importance-sampling ratio of the batch: TRL (after its cap), veRL.
    public static let importanceRatioMax = ["sampling/importance_sampling_ratio/max", "rollout_corr/rollout_is_max"]
    /// The fraction of the batch veRL's rejection sampling masked out.
    public static let rejectedFraction = ["rollout_corr/rollout_rs_masked_fraction"]
}

/// Importance ratio: the importance-sampling ratios that correct for the rollout engine's probabilities are far
/// from 1, or rejection sampling throws most of the batch away.
///
/// TRL (`vllm_importance_sampling_correction`) and veRL (`rollout_correction`) reweight each token by the
/// trainer's probability over the rollout engine's. On a healthy run the batch mean stays near 1 (0.75–1.09 on
/// the real TRL run, min ratios down to 0.04 and capped max ratios of 1.4–2.0 are ordinary); when trainer and
/// sampler part ways it falls to 0.03 and the update is made of a few tokens. A *warning* when the mean holds at
/// or below `low_mean` (or at or above `high_mean`), the largest ratio at or above `max_ratio`, or the masked
/// fraction at or above `masked_fraction`, for `consecutive_steps` training steps; *critical* at
/// `critical_low_mean` / `critical_high_mean`. The min ratio alone is not judged: one odd token reaches 1e-38 on
/// healthy steps.
public final class ImportanceRatioDetector: Detector {
    public let id = DetectorID.importanceRatio
    private let config: ImportanceRatioConfig
    private var held: HeldLevel

    public init(_ config: ImportanceRatioConfig) {
        self.config = config
        held = HeldLevel(warmupSteps: config.warmupSteps, consecutiveSteps: config.consecutiveSteps)
    }

    public func observe(_ step: MetricStep) -> Alert? {
        let tick = held.tick(step.step)
        let mean = step.firstFiniteExtra(MetricStep.ExtraKey.importanceRatioMean)
        let maximum = step.firstFiniteExtra(MetricStep.ExtraKey.importanceRatioMax)
        let masked = step.firstFiniteExtra(MetricStep.ExtraKey.rejectedFraction)
        guard mean != nil || maximum != nil || masked != nil else { return nil }
        guard held.warmedUp(tick) else { return nil }
        let lowMean = mean.map { $0 <= config.lowMean } ?? false
        let highMean = mean.map { $0 >= config.highMean } ?? false
        let highMax = maximum.map { $0 >= config.maxRatio } ?? false
        let rejected = masked.map { $0 >= config.maskedFraction } ?? false
        let critical = mean.map { $0 <= config.criticalLowMean || $0 >= config.criticalHighMean } ?? false
        guard
            let (severity, onset, steps) = held.judge(
                warning: lowMean || highMean || highMax || rejected, critical: critical, step: step.step, tick: tick)
        else { return nil }

        var findings: [String] = []
        if let mean, lowMean || highMean {
            findings.append("the mean importance-sampling ratio is \(formatSignificant(mean, digits: 3)) (healthy: near 1)")
        }
        if let maximum, highMax { findings.append("the largest ratio is \(formatNumber(maximum))") }
        if let masked, rejected {
            findings.append("rejection sampling masks \(fixed(masked * 100, decimals: 0)) % of the batch")
        }
        let message =
            "Importance ratio: " + findings.joined(separator: ", ") + " for \(steps) training steps — the trainer "
            + "and the rollout engine no longer agree on the sampled tokens, and the corrected update rests on a "
            + "few of them."
        var recommendation =
            "Look at the train/inference mismatch first (log-prob difference, vllm_kl, rollout_corr/kl): a stale "
            + "weight sync or bf16 logits on one side are the usual causes — sync weights every step and compute "
            + "logits in fp32. Keep the correction truncated (TRL `vllm_importance_sampling_cap`, veRL "
            + "`rollout_is_threshold`) rather than raising the cap, and prefer token-level to sequence-level ratios "
            + "on long completions."
        if severity == .critical {
            recommendation +=
                " With the mean this far from 1 the run is training on noise: stop, keep the checkpoint from before "
                + "the drop, and fix the mismatch before resuming."
        }
        var values: MetricValues = ["consecutive_steps": .int(steps)]
        if let mean { values["importance_ratio_mean"] = .double(mean) }
        if let maximum { values["importance_ratio_max"] = .double(maximum) }
        if let masked { values["masked_fraction"] = .double(masked) }
        return Alert(
            step: step.step, detector: id, severity: severity, message: message, metricValues: values,
            recommendation: recommendation
        ).withOnset(onset)
    }
}

extension ImportanceRatioDetector {
    /// The detector's entry in ``DetectorRegistry``.
    // swift-format-ignore
    public static let descriptor = DetectorDescriptor(
        id: .importanceRatio,
        summary: "Importance-sampling ratios between trainer and rollout engine far from 1, or most of a batch rejected.",
        enabled: \.importanceRatio.enabled,
        fields: [
            .double("importance_ratio.low_mean", \.importanceRatio.lowMean, .positive,
                    "Warning when the mean importance-sampling ratio is at or below this (> 0)."),
            .double("importance_ratio.critical_low_mean", \.importanceRatio.criticalLowMean, .positive,
                    "Critical when the mean ratio is at or below this (> 0)."),
            .double("importance_ratio.high_mean", \.importanceRatio.highMean, .positive,
                    "Warning when the mean ratio is at or above this (> 0)."),
            .double("importance_ratio.critical_high_mean", \.importanceRatio.criticalHighMean, .positive,
                    "Critical when the mean ratio is at or above this (> 0)."),
            .double("importance_ratio.max_ratio", \.importanceRatio.maxRatio, .positive,
                    "Warning when the batch's largest ratio is at or above this (> 0)."),
            .double("importance_ratio.masked_fraction", \.importanceRatio.maskedFraction, .unitFraction,
                    "Warning when rejection sampling masks at least this fraction of the batch (> 0, <= 1)."),
            .int("importance_ratio.consecutive_steps", \.importanceRatio.consecutiveSteps, .atLeast(1),
                 "Training steps in a row each level must hold before it alerts (>= 1)."),
            .int("importance_ratio.warmup_steps", \.importanceRatio.warmupSteps, .nonNegative,
                 "Training steps to see before this detector may fire (>= 0)."),
        ],
        inputs: [
            .extra(
                "importance-sampling ratio",
                keys: MetricStep.ExtraKey.importanceRatioMean + MetricStep.ExtraKey.importanceRatioMax
                    + MetricStep.ExtraKey.rejectedFraction)
        ],
        chart: .input(
            id: "importance_ratio_mean", title: "Mean importance-sampling ratio (trainer / rollout engine)",
            fallback: nil, value: { $0.firstFiniteExtra(MetricStep.ExtraKey.importanceRatioMean) })
    ) { ImportanceRatioDetector($0.importanceRatio) }
}
