/// Settings of ``RolloutMismatchDetector`` (section `rollout_mismatch`).
public struct RolloutMismatchConfig: DetectorSettings {
    public var enabled = true
    /// Warning when the mismatch is at least this many times its early level (and at least `min_mismatch`).
    public var warningRatio = 4.0
    /// Critical when it is at least this many times its early level (and at least `high_mismatch`).
    public var criticalRatio = 10.0
    /// No mismatch below this alerts against the early level: bf16 rollout engines disagree with the trainer by
    /// 0.003–0.015 nat per token on healthy runs, and a tenfold rise from 0.001 is still noise.
    public var minMismatch = 0.02
    /// A mismatch at or above this is a warning whatever the early level (a run that is broken from step 1 has a
    /// broken early level too); the critical level needs it as well.
    public var highMismatch = 0.1
    /// veRL's normalised effective sample size of the importance weights (`rollout_corr/rollout_is_eff_sample_size`)
    /// at or below this, and at most half its early level, is critical: the correction is living on a few samples.
    public var minEffectiveSampleSize = 0.2
    /// Training steps in a row each level must hold (two observations at least).
    public var consecutiveSteps = 10
    /// The early level is the median of this many first observations.
    public var baselineWindow = 10
    /// 0: the absolute levels mean something from the first step (a run whose sampler disagrees from step 1 is
    /// the commonest case: a vLLM version the trainer does not support), and the relative ones wait for the early
    /// level anyway. A level must still hold for `consecutive_steps`.
    public var warmupSteps = 0
    public init() {}
}

extension RLWatchConfig {
    /// Train/inference mismatch: the rollout engine and the trainer disagree about token probabilities.
    public var rolloutMismatch: RolloutMismatchConfig {
        get { self[settings: RolloutMismatchConfig.self] }
        set { self[settings: RolloutMismatchConfig.self] = newValue }
    }
}

extension DetectorID {
    /// The rollout engine (vLLM, SGLang) and the trainer disagree about the sampled tokens' probabilities.
    public static let rolloutMismatch: DetectorID = "rollout_mismatch"
}

extension MetricStep.ExtraKey {
    /// Train/inference disagreement per token, in priority order: TRL's mean |Δ log p| between vLLM and the
    /// trainer, veRL's mean |Δ p| (`calculate_log_probs=True`), veRL's rollout-correction KL estimates, OpenRLHF's
    /// `vllm_kl`.
    public static let rolloutMismatch = [
        "sampling/sampling_logp_difference/mean", "training/rollout_probs_diff_mean", "rollout_corr/kl",
        "rollout_corr/k3_kl", "vllm_kl",
    ]
    /// veRL's normalised effective sample size of the rollout-correction importance weights (1: all samples count).
    public static let rolloutEffectiveSampleSize = ["rollout_corr/rollout_is_eff_sample_size"]
}

/// Rollout mismatch: the rollout engine and the trainer no longer agree on the sampled tokens' probabilities.
///
/// Since 2025 the most reported way for a GRPO/PPO run to die: the sampler (vLLM, SGLang) runs other kernels,
/// another precision or stale weights, the policy-gradient update is computed on tokens the trainer would not
/// have sampled, and the run collapses. TRL, veRL and OpenRLHF log the disagreement (see
/// ``MetricStep/ExtraKey/rolloutMismatch``). A *warning* when it holds for `consecutive_steps` training steps at
/// `warning_ratio` × its early level (the median of its first `baseline_window` observations) and at least
/// `min_mismatch`, or at `high_mismatch` or more whatever the early level; *critical* at `critical_ratio` × and
/// at least `high_mismatch`, or when veRL's effective sample size collapses.
///
/// On the real TRL run with vLLM importance sampling the mean |Δ log p| sits at 0.004–0.013 for 120 healthy
/// steps and jumps to 0.05 and then 0.27 as the run falls apart (reward 0.8 → 0, entropy 0.12 → 5); a two-row
/// excursion to 0.07 inside the first ten rows stays out of the early level (a median).
public final class RolloutMismatchDetector: Detector {
    public let id = DetectorID.rolloutMismatch
    private let config: RolloutMismatchConfig
    private var held: HeldLevel
    private var early: EarlyMedian
    private var earlyESS = EarlyMedian(window: 5)

    public init(_ config: RolloutMismatchConfig) {
        self.config = config
        held = HeldLevel(warmupSteps: config.warmupSteps, consecutiveSteps: config.consecutiveSteps)
        early = EarlyMedian(window: config.baselineWindow)
    }

    public func observe(_ step: MetricStep) -> Alert? {
        let tick = held.tick(step.step)
        let ess = step.firstFiniteExtra(MetricStep.ExtraKey.rolloutEffectiveSampleSize)
        guard let (key, value) = Self.mismatch(step) else { return nil }
        let earlyLevel = early.value
        if earlyLevel == nil { early.add(value) }
        var essCollapsed = false
        if let ess {
            if let earlyESS = earlyESS.value {
                essCollapsed = ess <= config.minEffectiveSampleSize && ess <= 0.5 * earlyESS
            } else {
                earlyESS.add(max(ess, 1e-6))
            }
        }
        guard held.warmedUp(tick) else { return nil }
        var warning = value >= config.highMismatch
        var critical = essCollapsed
        if let earlyLevel {
            warning = warning || (value >= config.minMismatch && value >= config.warningRatio * earlyLevel)
            critical = critical || (value >= config.highMismatch && value >= config.criticalRatio * earlyLevel)
        }
        guard let (severity, onset, steps) = held.judge(warning: warning, critical: critical, step: step.step, tick: tick)
        else { return nil }

        let ratio = earlyLevel.map { value / $0 }
        let rise = ratio.map { ", \(fixed($0, decimals: 1))× its early level (\(f4(earlyLevel ?? 0)))" } ?? ""
        var message =
            "Train/inference mismatch: \(key) = \(formatSignificant(value, digits: 3))\(rise) for \(steps) training steps — the rollout "
            + "engine and the trainer disagree about the probabilities of the tokens being trained on."
        if essCollapsed, let ess {
            message += " The importance weights' effective sample size is down to \(fixed(ess, decimals: 2))."
        }
        var recommendation =
            "Check that the trainer's weights reach the rollout engine every step (a missed sync makes every "
            + "rollout stale), then align precision: compute the logits in fp32 on both sides (bf16 lm-head logits "
            + "are the usual cause), and check the rollout engine's version against the one the trainer was "
            + "validated with. Turn on importance-sampling correction with truncation (TRL "
            + "`vllm_importance_sampling_correction`, veRL `rollout_correction`) or tighten its cap."
        if severity == .critical {
            recommendation +=
                " A mismatch this large usually precedes a collapse (reward to 0, entropy exploding): keep the "
                + "checkpoint from before the rise and do not resume until the mismatch is back at its early level."
        }
        var values: MetricValues = [
            "key": .string(key), "mismatch": .double(value), "consecutive_steps": .int(steps),
        ]
        if let earlyLevel { values["early_level"] = .double(earlyLevel) }
        if let ratio { values["ratio"] = .double(ratio) }
        if let ess { values["effective_sample_size"] = .double(ess) }
        return Alert(
            step: step.step, detector: id, severity: severity, message: message, metricValues: values,
            recommendation: recommendation, magnitude: ratio
        ).withOnset(onset)
    }

    /// The step's mismatch and the key it came from: the first finite, non-negative value in priority order.
    public static func mismatch(_ step: MetricStep) -> (key: String, value: Double)? {
        for key in MetricStep.ExtraKey.rolloutMismatch {
            if let value = step.extras[key], value.isFinite, value >= 0 { return (key, value) }
        }
        return nil
    }
}

extension RolloutMismatchDetector {
    /// The detector's entry in ``DetectorRegistry``.
    // swift-format-ignore
    public static let descriptor = DetectorDescriptor(
        id: .rolloutMismatch,
        summary: "Rollout engine and trainer disagreeing about token probabilities (log-prob difference, mismatch KL).",
        enabled: \.rolloutMismatch.enabled,
        fields: [
            .double("rollout_mismatch.warning_ratio", \.rolloutMismatch.warningRatio, .positive,
                    "Warning when the mismatch is this many times its early level (and >= min_mismatch) (> 0)."),
            .double("rollout_mismatch.critical_ratio", \.rolloutMismatch.criticalRatio, .positive,
                    "Critical when it is this many times its early level (and >= high_mismatch) (> 0)."),
            .double("rollout_mismatch.min_mismatch", \.rolloutMismatch.minMismatch, .nonNegative,
                    "No mismatch below this alerts against the early level (per-token nats or probability; >= 0)."),
            .double("rollout_mismatch.high_mismatch", \.rolloutMismatch.highMismatch, .positive,
                    "A mismatch at or above this is a warning whatever the early level (> 0)."),
            .double("rollout_mismatch.min_effective_sample_size", \.rolloutMismatch.minEffectiveSampleSize,
                    .unitFraction, "veRL importance-weight ESS at or below this (and half its early level): critical (> 0, <= 1)."),
            .int("rollout_mismatch.consecutive_steps", \.rolloutMismatch.consecutiveSteps, .atLeast(1),
                 "Training steps in a row each level must hold before it alerts (>= 1)."),
            .int("rollout_mismatch.baseline_window", \.rolloutMismatch.baselineWindow, .window(atLeast: 1),
                 "Early level = median of this many first observations (1-100000)."),
            .int("rollout_mismatch.warmup_steps", \.rolloutMismatch.warmupSteps, .nonNegative,
                 "Training steps to see before this detector may fire (>= 0)."),
        ],
        inputs: [.extra("train/inference mismatch", keys: MetricStep.ExtraKey.rolloutMismatch)],
        chart: .input(
            id: "rollout_mismatch", title: "Train/inference mismatch (log-prob difference, mismatch KL)",
            fallback: nil, value: { RolloutMismatchDetector.mismatch($0)?.value })
    ) { RolloutMismatchDetector($0.rolloutMismatch) }
}
