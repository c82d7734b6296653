/// Dead learning signal: every GRPO group's completions got the same reward, so every advantage — and
/// the policy gradient — is zero and the run learns nothing (the "zero-gradient collapse").
///
/// An observation is a step that carries the evidence, judged in this order:
/// 1. `frac_reward_zero_std` (TRL), when finite: dead when it is at least `frac_zero_std_threshold`.
///    This is the direct measure, so it wins whenever it is logged.
/// 2. Otherwise `reward_std` (logged, or derived from `rewards`): dead when it is ≤ 1e-12 **and** the
///    grad norm, when one is logged, is ≤ 1e-12 too. The grad norm guards trainers with a critic (PPO),
///    where constant rewards still leave non-zero advantages and the policy still moves.
/// Steps with neither, or with a non-finite reward std or grad norm, are not observations.
///
/// Real dead runs are rarely dead on every single step: a sparse-reward run hits one lucky completion
/// every few steps (the real TRL log has `frac_reward_zero_std` 1.0 on 85 of 100 steps, broken by
/// isolated 0.75s). One lucky group barely moves the policy, so a *dead stretch* tolerates one isolated
/// live observation (it does not count, but it does not end the stretch); two live observations in a
/// row end it. A warning when the stretch covers `consecutive_steps` training steps of dead observations
/// (step numbers, whatever the logging interval: each dead observation adds the steps since the previous
/// observation, see `StepClock`); a critical at three times that, when "not learning yet" has become "this
/// run is not going to learn". A step number that goes back (a resume) starts a new stretch.
public final class LearningSignalDeadDetector: Detector {
    public let id = DetectorID.learningSignalDead
    private let config: LearningSignalDeadConfig
    private var warmup: Warmup
    private var episode = Episode()
    private var stretch = DeadStretch()
    private var clock = StepClock()

    /// A reward std or grad norm at or below this is "exactly zero" (float noise in the trainer's reduction).
    public static let zeroTolerance = 1e-12
    /// Dead steps that make a critical, as a multiple of `consecutive_steps`.
    public static let criticalMultiple = 3

    /// Which signal judged an observation.
    private enum Evidence {
        case fracZeroStd(Double)
        case flatRewards(std: Double, gradNorm: Double?)
        /// Neither `frac_reward_zero_std` nor a reward std is logged (custom loops often log neither): a grad
        /// norm of exactly 0 step after step is the same dead signal seen from the optimizer's side.
        case zeroGradient(Double)
    }

    /// Dead observations in the current stretch, which survives one isolated live observation.
    private struct DeadStretch {
        /// Training steps the stretch's dead observations cover.
        private(set) var steps = 0
        /// Dead observations in the stretch.
        private(set) var dead = 0
        private(set) var firstStep: Int?
        private var liveInARow = 0

        /// - Parameter liveRowsToEnd: live rows in a row that end the stretch: 2 for reward evidence (one
        ///   isolated lucky group does not revive a dead run), 1 for a zero grad norm alone (a loop that logs
        ///   0 on its gradient-accumulation micro-steps and a real norm on each optimizer step is alive).
        mutating func add(dead isDead: Bool, step: Int, tick: StepTick, liveRowsToEnd: Int = 2) {
            if tick.resumed { self = DeadStretch() }
            if isDead {
                if dead == 0 { firstStep = step }
                dead += 1
                steps = addingSteps(steps, tick.steps)
                liveInARow = 0
            } else {
                liveInARow += 1
                if liveInARow >= liveRowsToEnd {
                    dead = 0
                    steps = 0
                    firstStep = nil
                }
            }
        }
    }

    public init(_ config: LearningSignalDeadConfig) {
        self.config = config
        warmup = Warmup(steps: config.warmupSteps)
    }

    public func observe(_ step: MetricStep) -> Alert? {
        let tick = clock.tick(step.step)
        guard let evidence = Self.evidence(step), warmup.observe(tick) else { return nil }
        let isDead: Bool
        switch evidence {
        case .fracZeroStd(let fraction):
            isDead = fraction >= config.fracZeroStdThreshold
        case .flatRewards(let std, let gradNorm):
            isDead = std <= Self.zeroTolerance && (gradNorm.map { abs($0) <= Self.zeroTolerance } ?? true)
        case .zeroGradient(let gradNorm):
            isDead = abs(gradNorm) <= Self.zeroTolerance
        }
        if case .zeroGradient = evidence {
            stretch.add(dead: isDead, step: step.step, tick: tick, liveRowsToEnd: 1)
        } else {
            stretch.add(dead: isDead, step: step.step, tick: tick)
        }
        let warningAt = max(1, config.consecutiveSteps)
        let criticalAt = Self.criticalMultiple * warningAt
        let enough = stretch.dead >= minimumStreakObservations(warningAt)
        // A dead observation holds an active episode even while a new stretch is still short, so the
        // episode ends only after `Episode.rearmAfter` live observations in a row.
        let level: Severity? =
            !isDead
            ? nil
            : (enough && stretch.steps >= criticalAt
                ? .critical : ((enough && stretch.steps >= warningAt) || episode.isActive ? .warning : nil))
        guard let severity = episode.update(level) else { return nil }
        return alert(step, severity: severity, evidence: evidence, criticalAt: criticalAt).withOnset(stretch.firstStep ?? step.step)
    }

    /// The evidence a step carries, or nil when it says nothing about the learning signal.
    private static func evidence(_ step: MetricStep) -> Evidence? {
        if let fraction = step.fracRewardZeroStd { return .fracZeroStd(fraction) }
        guard let std = finite(step.rewardStd) else {
            guard let gradNorm = step.gradNorm, gradNorm.isFinite else { return nil }
            return .zeroGradient(gradNorm)
        }
        guard let gradNorm = step.gradNorm else { return .flatRewards(std: std, gradNorm: nil) }
        guard gradNorm.isFinite else { return nil }
        return .flatRewards(std: std, gradNorm: gradNorm)
    }

    private func alert(_ step: MetricStep, severity: Severity, evidence: Evidence, criticalAt: Int) -> Alert {
        let what: String
        let signal: String
        switch evidence {
        case .fracZeroStd(let fraction):
            what =
                "every prompt group's completions got the same reward (frac_reward_zero_std \(f4(fraction)) ≥ "
                + "\(formatNumber(config.fracZeroStdThreshold)))"
            signal = "frac_reward_zero_std"
        case .flatRewards(_, let gradNorm):
            what = gradNorm == nil ? "the reward std was 0" : "the reward std and the grad norm were 0"
            signal = gradNorm == nil ? "reward_std" : "reward_std_and_grad_norm"
        case .zeroGradient:
            what = "the grad norm was exactly 0 (no reward std or frac_reward_zero_std is logged)"
            signal = "grad_norm"
        }
        let since = stretch.firstStep ?? step.step
        let rewardNote = finite(step.rewardMean).map { " Reward mean: \(f4($0))." } ?? ""
        let message: String
        var recommendation =
            "Give GRPO something to compare: raise the sampling temperature (e.g. 0.7 → 0.9) or the number of "
            + "completions per prompt so a group's completions differ. Check the reward function on a few "
            + "completions — if it returns always 0 or always 1, or a hard cap flattens every reward to one value, "
            + "it carries no signal: give partial credit, or replace the hard cap with a multiplicative penalty. "
            + "If reward is ≈0 everywhere the task is too hard for the model (use easier prompts or a "
            + "curriculum); if it is ≈1 everywhere, it is too easy."
        switch severity {
        case .critical:
            message =
                "No learning signal for a long stretch: \(what) for \(stretch.steps) steps "
                + "(\(stretch.dead) observations) since step \(since) — with zero advantages every update is a "
                + "no-op and the run is learning nothing." + rewardNote
            recommendation = "Stop the run: further steps spend compute without learning. " + recommendation
        case .warning:
            message =
                "Learning signal is dead: \(what) for \(stretch.steps) steps (\(stretch.dead) observations) "
                + "since step \(since) — GRPO advantages are zero, so these "
                + "updates teach the policy nothing." + rewardNote
        }
        return Alert(
            step: step.step, detector: id, severity: severity, message: message,
            metricValues: [
                "frac_reward_zero_std": step.fracRewardZeroStd.map(MetricValue.double) ?? .null,
                "reward_mean": step.rewardMean.map(MetricValue.double) ?? .null,
                "reward_std": step.rewardStd.map(MetricValue.double) ?? .null,
                "grad_norm": step.gradNorm.map(MetricValue.double) ?? .null,
                "dead_steps": .int(stretch.steps),
                "dead_observations": .int(stretch.dead),
                "since_step": .int(since),
                "signal": .string(signal),
            ],
            recommendation: recommendation)
    }
}

extension LearningSignalDeadDetector {
    /// The detector's entry in ``DetectorRegistry``.
    // swift-format-ignore
    public static let descriptor = DetectorDescriptor(
        id: .learningSignalDead, summary: "Every GRPO group's rewards identical (frac_reward_zero_std ~1): nothing is learned.",
        enabled: \.learningSignalDead.enabled,
        fields: [
            .double("learning_signal_dead.frac_zero_std_threshold", \.learningSignalDead.fracZeroStdThreshold,
                    .unitFraction, "frac_reward_zero_std at or above this counts as no learning signal (> 0, <= 1)."),
            .int("learning_signal_dead.consecutive_steps", \.learningSignalDead.consecutiveSteps, .atLeast(1),
                 "Warning after this many training steps of dead signal (one lone live row allowed); 3x: critical (>= 1)."),
            .int("learning_signal_dead.warmup_steps", \.learningSignalDead.warmupSteps, .nonNegative,
                 "Training steps to see before this detector may fire (>= 0)."),
        ],
        inputs: [
            DetectorInput(
                name: { $0.hasExtra(MetricStep.ExtraKey.fracRewardZeroStd) ? "frac_reward_zero_std" : "reward_std with grad_norm" },
                missing: { coverage in
                    coverage.hasExtra(MetricStep.ExtraKey.fracRewardZeroStd)
                        || (coverage.rewardStd && coverage.metrics.contains(.gradNorm))
                        ? nil : "no frac_reward_zero_std, and no reward_std with grad_norm"
                })
        ],
        chart: .input(
            id: "frac_reward_zero_std", title: "Groups with zero reward std (frac_reward_zero_std)",
            fallback: .rewardStd, value: { $0.fracRewardZeroStd })
    ) { LearningSignalDeadDetector($0.learningSignalDead) }
}
