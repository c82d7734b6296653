/// Settings of ``ClipSaturationDetector`` (section `clip_saturation`).
public struct ClipSaturationConfig: DetectorSettings {
    public var enabled = true
    /// Warning when the policy clip fraction holds at or above this.
    public var warningFraction = 0.3
    /// Critical when it holds at or above this.
    public var criticalFraction = 0.5
    /// Training steps in a row each level must hold (two observations at least).
    public var consecutiveSteps = 20
    public var warmupSteps = 20
    public init() {}
}

extension RLWatchConfig {
    /// The policy's clip fraction staying high: updates too large for the trust region.
    public var clipSaturation: ClipSaturationConfig {
        get { self[settings: ClipSaturationConfig.self] }
        set { self[settings: ClipSaturationConfig.self] = newValue }
    }
}

extension DetectorID {
    /// Most tokens' probability ratios clipped, step after step: the updates overrun the trust region.
    public static let clipSaturation: DetectorID = "clip_saturation"
}

extension MetricStep.ExtraKey {
    /// Clip fractions without a canonical alias: OpenRLHF's `ppo_clip_ratio`.
    public static let clipFraction = ["ppo_clip_ratio"]
    /// veRL's dual-clip lower fraction, added to `actor/pg_clipfrac`: tokens clipped on the negative-advantage side.
    public static let lowerClipFraction = ["actor/pg_clipfrac_lower"]
}

/// Clip saturation: the PPO/GRPO clip fraction stays high — most updates are larger than the trust region.
///
/// Reads `clip_fraction` (TRL `clip_ratio/region_mean`, veRL `actor/pg_clipfrac`, TRL PPO `policy/clipfrac_avg`),
/// or OpenRLHF's `ppo_clip_ratio`, plus veRL's `actor/pg_clipfrac_lower`. On the real runs healthy clip fractions
/// are 0–0.03 (GRPO with one update per batch clips almost nothing; multi-epoch PPO a few per cent) and reach 0.07
/// only as a veRL run diverges; a clipped majority means the policy is moving much further per update than the
/// clip range allows, the gradient comes from a shrinking set of tokens, and the run drifts toward instability.
/// A *warning* after `consecutive_steps` training steps at or above `warning_fraction` (0.3), *critical* at or
/// above `critical_fraction` (0.5).
public final class ClipSaturationDetector: Detector {
    public let id = DetectorID.clipSaturation
    private let config: ClipSaturationConfig
    private var held: HeldLevel

    public init(_ config: ClipSaturationConfig) {
        self.config = config
        held = HeldLevel(warmupSteps: config.warmupSteps, consecutiveSteps: config.consecutiveSteps)
    }

    public func observe(_ step: MetricStep) -> Alert? {
        let tick = held.tick(step.step)
        guard let fraction = Self.clipFraction(step) else { return nil }
        guard held.warmedUp(tick) else { return nil }
        guard
            let (severity, onset, steps) = held.judge(
                warning: fraction >= config.warningFraction, critical: fraction >= config.criticalFraction,
                step: step.step, tick: tick)
        else { return nil }
        let threshold = severity == .critical ? config.criticalFraction : config.warningFraction
        let message =
            "Clip saturation: \(fixed(fraction * 100, decimals: 1)) % of tokens hit the clip range, at or above "
            + "\(formatNumber(threshold)) for \(steps) training steps — each update pushes the policy further than "
            + "the trust region allows, and the gradient comes from the few tokens left unclipped."
        var recommendation =
            "Lower the learning rate (2–5×) or take fewer optimisation passes per batch (PPO epochs, mini-batches "
            + "per rollout); check that the old log-probs are recomputed for each batch (stale ones clip "
            + "everything). Do not widen the clip range to make the number go down."
        if severity == .critical {
            recommendation +=
                " A clipped majority usually precedes a KL or entropy blow-up: keep the current checkpoint and watch "
                + "KL and entropy."
        }
        return Alert(
            step: step.step, detector: id, severity: severity, message: message,
            metricValues: ["clip_fraction": .double(fraction), "consecutive_steps": .int(steps)],
            recommendation: recommendation
        ).withOnset(onset)
    }

    /// The step's clip fraction: the canonical one or OpenRLHF's, plus veRL's dual-clip lower fraction.
    public static func clipFraction(_ step: MetricStep) -> Double? {
        guard let base = finite(step.clipFraction) ?? step.firstFiniteExtra(MetricStep.ExtraKey.clipFraction),
            base >= 0
        else { return nil }
        let lower = step.firstFiniteExtra(MetricStep.ExtraKey.lowerClipFraction) ?? 0
        return base + max(0, lower)
    }
}

extension ClipSaturationDetector {
    /// The detector's entry in ``DetectorRegistry``.
    // swift-format-ignore
    public static let descriptor = DetectorDescriptor(
        id: .clipSaturation,
        summary: "Policy clip fraction staying high: updates too large for the trust region.",
        enabled: \.clipSaturation.enabled,
        fields: [
            .double("clip_saturation.warning_fraction", \.clipSaturation.warningFraction, .unitFraction,
                    "Warning when the clip fraction holds at or above this (> 0, <= 1)."),
            .double("clip_saturation.critical_fraction", \.clipSaturation.criticalFraction, .unitFraction,
                    "Critical when the clip fraction holds at or above this (> 0, <= 1)."),
            .int("clip_saturation.consecutive_steps", \.clipSaturation.consecutiveSteps, .atLeast(1),
                 "Training steps in a row each level must hold before it alerts (>= 1)."),
            .int("clip_saturation.warmup_steps", \.clipSaturation.warmupSteps, .nonNegative,
                 "Training steps to see before this detector may fire (>= 0)."),
        ],
        inputs: [
            DetectorInput(
                name: { _ in "clip fraction" },
                missing: {
                    $0.metrics.contains(.clipFraction) || $0.hasExtra(MetricStep.ExtraKey.clipFraction)
                        ? nil : "no clip_ratio/region_mean, actor/pg_clipfrac, policy/clipfrac_avg or ppo_clip_ratio logged"
                })
        ],
        chart: .input(
            id: "clip_fraction", title: "Policy clip fraction", fallback: nil,
            value: { ClipSaturationDetector.clipFraction($0) })
    ) { ClipSaturationDetector($0.clipSaturation) }
}
