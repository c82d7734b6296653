/// KL explosion: the policy is running away from the reference model.
///
/// Judged three ways (see ``SpikeRule``):
/// - a non-finite KL (NaN/±∞) is critical on its step, warmup or not;
/// - a KL of `critical_kl` nats or more is critical from the first step, with or without a baseline — a run
///   that blows up on step 2 has none;
/// - otherwise against the run's own level after its ramp: a robust (median/MAD) baseline of earlier non-zero
///   values, rolling by default. A warning needs `1 + min_relative_increase` × that level (3× by default),
///   `sigma_multiplier` robust σ and at least `min_kl`, held on two observations in a row (small-batch runs
///   log single-step KL excursions of 3–30× that come straight back); a critical needs `critical_ratio` ×
///   (10×) and 1.5 × `sigma_multiplier` σ, and alerts on its own step.
///
/// KL to the reference starts near 0 and ramps up over the first tens of steps on every healthy run; the
/// `min_kl` floor (0.1 nat per token) keeps that ramp quiet, and a KL that climbs two orders of magnitude to
/// past a nat per token still clears every gate. NaN/±∞ values never enter the baseline, nor do values that
/// stood out (unless they last: see ``SpikeTracker/acceptAfter``), so one spike cannot hide the next.
public final class KLExplosionDetector: Detector {
    public let id = DetectorID.klExplosion
    private let config: KLExplosionConfig
    private var spike: SpikeTracker

    public init(_ config: KLExplosionConfig) {
        self.config = config
        spike = SpikeTracker(
            warmupSteps: config.warmupSteps, window: config.rollingWindow, mode: config.baselineMode,
            rule: SpikeRule(
                warningRatio: 1 + config.minRelativeIncrease, criticalRatio: config.criticalRatio,
                sigma: config.sigmaMultiplier, minimumValue: config.minKL,
                absoluteCritical: config.criticalKL > 0 ? config.criticalKL : nil,
                criticalAlone: false, absoluteWarning: config.warningKL > 0 ? config.warningKL : nil,
                sustainedCriticalRatio: config.criticalRatio / 2))
    }

    public func observe(_ step: MetricStep) -> Alert? {
        let tick = spike.tick(step.step)
        guard let value = step.klDivergence else { return nil }
        guard value.isFinite else {
            guard spike.force(.critical, step: step.step) != nil else { return nil }
            let kind = nonFiniteKind(value)
            return Alert(
                step: step.step, detector: id, severity: .critical,
                message:
                    "KL divergence is non-finite (\(kind)) — the policy's log-probabilities have blown up (a token "
                    + "with probability 0 under the policy or the reference), and every update from here is corrupt.",
                metricValues: ["kl_divergence": .double(value), "kind": .string(kind)],
                recommendation: Self.criticalRecommendation, magnitude: .infinity
            ).withOnset(step.step)
        }
        guard let judgement = spike.observe(value, step: step.step, tick: tick) else { return nil }
        return alert(step, value: value, judgement)
    }

    private static let criticalRecommendation =
        "Stop and revert to a checkpoint from before the rise: a policy this far from the reference rarely comes "
        + "back on its own. Resume with the KL coefficient raised 2–3× and the learning rate lowered; inspect the "
        + "completions at this step (degenerate text, a reward exploit). Check entropy too — if it is also "
        + "collapsing or exploding, fix that first."

    private func alert(_ step: MetricStep, value: Double, _ judgement: SpikeJudgement) -> Alert {
        let modeWord = config.baselineMode.rawValue
        var values: MetricValues = ["kl_divergence": .double(value)]
        let message: String
        switch judgement.reason {
        case .absolute where judgement.severity == .warning:
            message =
                "KL divergence = \(f4(value)) nats, at or above \(formatNumber(config.warningKL)) nat on two "
                + "observations in a row — far beyond a healthy per-token KL to the reference; the policy is "
                + "drifting away from the reference model."
            values["warning_kl"] = .double(config.warningKL)
        case .absolute:
            message =
                "KL divergence = \(f4(value)) nats, at or above the \(formatNumber(config.criticalKL))-nat critical "
                + "level — the policy has left the reference model far behind."
            values["critical_kl"] = .double(config.criticalKL)
        case .runaway(let previous):
            message = "KL divergence = \(f4(value)), \(fixed(value / previous, decimals: 0))× the largest value so far (\(f4(previous)))."
        case .relative:
            let baseline = judgement.baseline.map { f4($0.median) } ?? "?"
            let reached =
                judgement.severity == .critical
                ? "past the critical level (\(formatNumber(config.criticalRatio / 2))× on two observations in a row)"
                : "\(formatNumber(1 + config.minRelativeIncrease))× or more for two observations in a row"
            message =
                "KL divergence = \(f4(value)), \(fixed(judgement.ratio, decimals: 1))× its \(modeWord) baseline "
                + "(median \(baseline)) and \(fixed(judgement.zScore, decimals: 1))σ above it — \(reached): the "
                + "policy is drifting away from the reference model."
        }
        if let baseline = judgement.baseline {
            values["baseline_median"] = .double(baseline.median)
            values["baseline_scale"] = .double(baseline.scale)
            values["ratio"] = .double(judgement.ratio)
            values["z_score"] = .double(judgement.zScore)
        }
        values["clip_region"] = .double(config.clipRegion)
        let recommendation =
            judgement.severity == .critical
            ? Self.criticalRecommendation
            : "Raise the KL penalty coefficient (double it) or lower the learning rate, keep the latest checkpoint "
                + "from before the rise, and inspect the completions at this step for a behaviour the reward likes "
                + "but the reference does not. Look at entropy alongside KL; if KL keeps climbing, revert."
        return Alert(
            step: step.step, detector: id, severity: judgement.severity, message: message, metricValues: values,
            recommendation: recommendation, magnitude: judgement.ratio.isFinite ? judgement.ratio : nil
        ).withOnset(judgement.onsetStep)
    }
}

extension KLExplosionDetector {
    /// The detector's entry in ``DetectorRegistry``.
    // swift-format-ignore
    public static let descriptor = DetectorDescriptor(
        id: .klExplosion, summary: "KL divergence spiking far above its baseline.",
        enabled: \.klExplosion.enabled,
        fields: [
            .double("kl_explosion.sigma_multiplier", \.klExplosion.sigmaMultiplier, .positive,
                    "Warning needs this many robust standard deviations above the baseline median; critical 1.5x (> 0)."),
            .double("kl_explosion.clip_region", \.klExplosion.clipRegion, .nonNegative,
                    "PPO clip region, reported in alerts for context only (>= 0)."),
            .int("kl_explosion.rolling_window", \.klExplosion.rollingWindow, .window(atLeast: 2),
                 "Observations in the baseline window (2-100000)."),
            .int("kl_explosion.warmup_steps", \.klExplosion.warmupSteps, .nonNegative,
                 "Training steps to see before this detector may fire (>= 0)."),
            .baselineMode("kl_explosion.baseline_mode", \.klExplosion.baselineMode,
                          "rolling: the last rolling_window values; frozen: the first full window, kept for the run."),
            .double("kl_explosion.min_relative_increase", \.klExplosion.minRelativeIncrease, .nonNegative,
                    "Warning: KL at least (1 + this) x the baseline median on two observations in a row (>= 0)."),
            .double("kl_explosion.critical_ratio", \.klExplosion.criticalRatio, .positive,
                    "Critical: KL at least this many times the baseline median, on its own step (> 0)."),
            .double("kl_explosion.min_kl", \.klExplosion.minKL, .nonNegative,
                    "Never alert against the baseline on a KL below this (per-token nats; 0 turns the floor off; >= 0)."),
            .double("kl_explosion.warning_kl", \.klExplosion.warningKL, .nonNegative,
                    "A KL at or above this on two observations in a row is a warning from step 1 (0: off; >= 0)."),
            .double("kl_explosion.critical_kl", \.klExplosion.criticalKL, .nonNegative,
                    "A KL at or above this (nats per token) is critical from step 1, baseline or not (0: off; >= 0)."),
        ],
        inputs: [
            .metric(.klDivergence) { coverage in
                coverage.looksLikeTRL
                    ? "no KL logged (TRL logs `kl` only when beta != 0; GRPO's default beta is 0)" : "no KL logged"
            }
        ],
        chart: .metric(.klDivergence)
    ) { KLExplosionDetector($0.klExplosion) }
}
