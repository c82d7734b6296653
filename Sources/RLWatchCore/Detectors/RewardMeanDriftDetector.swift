/// Reward-mean drift: the reward mean moves in one direction for a long stretch (possible slow reward hacking).
///
/// As in rlwatch 0.5.1: counts strictly monotone moves between consecutive observations of the reward
/// mean; once they span `consecutive_steps` training steps, if the total change since the run began is at
/// least `min_drift_magnitude`, one warning per monotone run and direction. An equal value or a reversal
/// ends the run and re-arms. Unlike 0.5.1, a NaN/±∞ reward mean is skipped instead of resetting the count,
/// and the span is in step numbers (a move between rows logged 5 steps apart counts 5 steps; see
/// `StepClock`), so logged every step it is 0.5.1's count of moves. A step number that goes back (a resume)
/// starts over.
///
/// The streak also needs ``minimumMoves`` moves, whatever steps they span: logged every step, 50 steps are 50
/// moves and a noisy reward is never monotone that long by chance; logged every 25 steps (TRL's
/// `logging_steps: 25`), 50 steps are two moves, and any three rows of a healthy run are monotone one time in three.
/// Eight moves in a row (nine rows) happen by chance about once in 180,000 (2/9!) for independent noise — and an averaged, trending reward is
/// monotone far more often than that, which the span rule already asks for on top.
public final class RewardMeanDriftDetector: Detector {
    public let id = DetectorID.rewardMeanDrift
    private let config: RewardMeanDriftConfig
    private var warmup: Warmup
    private var previous: Double?
    private var direction = 0
    private var length = 0
    /// Moves in the current monotone run (`length` is its span in training steps).
    private var moves = 0
    private var start = 0.0
    private var fired = false
    private var clock = StepClock()

    /// The moves a streak needs besides its span (see the type's notes); fewer only when the span asks for fewer.
    static let minimumMoves = 8

    public init(_ config: RewardMeanDriftConfig) {
        self.config = config
        warmup = Warmup(steps: config.warmupSteps)
    }

    public func observe(_ step: MetricStep) -> Alert? {
        let tick = clock.tick(step.step)
        guard let value = finite(step.rewardMean) else { return nil }
        defer { previous = value }
        guard warmup.observe(tick), let previous, !tick.resumed else {
            if tick.resumed { direction = 0 }
            return nil
        }
        let move = value > previous ? 1 : (value < previous ? -1 : 0)
        if move == 0 || move != direction {
            direction = move
            length = move == 0 ? 0 : tick.steps
            moves = move == 0 ? 0 : 1
            start = previous
            fired = false
        } else {
            length = addingSteps(length, tick.steps)
            moves += 1
        }
        let magnitude = abs(value - start)
        guard direction != 0, !fired, length >= config.consecutiveSteps,
            moves >= min(Self.minimumMoves, max(1, config.consecutiveSteps)), magnitude >= config.minDriftMagnitude
        else { return nil }
        fired = true
        let word = direction > 0 ? "up" : "down"
        let recommendation =
            direction > 0
            ? "Inspect the completions. If they are genuinely better this is learning (raise "
                + "reward_mean_drift.consecutive_steps or warmup_steps to quiet it); if they are getting stranger, "
                + "treat it as slow reward hacking: cap rewards, regularise or ensemble the reward model. "
                + "Investigate before stopping the run."
            : "A steady decline suggests the policy is degrading or the reward became harder to satisfy: check "
                + "the learning rate, entropy and KL, and inspect recent completions."
        return Alert(
            step: step.step, detector: id, severity: .warning,
            message:
                "Reward mean has drifted \(word) monotonically for \(length) steps, from \(f4(start)) to "
                + "\(f4(value)) (change \(f4(magnitude))).",
            metricValues: [
                "reward_mean": .double(value),
                "drift_start": .double(start),
                "drift_magnitude": .double(magnitude),
                "consecutive_steps": .int(length),
                "direction": .string(word),
            ],
            recommendation: recommendation)
    }
}

extension RewardMeanDriftDetector {
    /// The detector's entry in ``DetectorRegistry``.
    // swift-format-ignore
    public static let descriptor = DetectorDescriptor(
        id: .rewardMeanDrift, summary: "Mean reward drifting the same way for many steps in a row.",
        enabled: \.rewardMeanDrift.enabled,
        fields: [
            .int("reward_mean_drift.consecutive_steps", \.rewardMeanDrift.consecutiveSteps, .nonNegative,
                 "Warning after the mean reward moves the same way for this many training steps (>= 0)."),
            .int("reward_mean_drift.warmup_steps", \.rewardMeanDrift.warmupSteps, .nonNegative,
                 "Training steps to see before this detector may fire (>= 0)."),
            .double("reward_mean_drift.min_drift_magnitude", \.rewardMeanDrift.minDriftMagnitude, .nonNegative,
                    "Smallest total change over those steps that counts as drift (>= 0)."),
        ],
        inputs: [
            DetectorInput(name: { _ in "reward_mean" }, missing: { $0.rewardMean ? nil : "no reward mean logged" })
        ],
        chart: .metric(.rewardMean)
    ) { RewardMeanDriftDetector($0.rewardMeanDrift) }
}
