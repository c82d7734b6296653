/// Whether a run's reward is still improving: what separates a run *converging* from one *collapsing*.
///
/// Entropy falling 30× while reward keeps climbing is a strong base model converging on math RL (an on-policy
/// run going from 2 % to 88 % accuracy does exactly that), and a steady entropy rise while reward improves is
/// exploration, not an explosion; the same entropy curves with reward stalled or falling are the failures. So
/// the entropy detectors ask this before they alert.
///
/// The early level is the median of the reward means of the run's first ``earlySteps`` training steps — at least
/// ``minimumEarly`` observations and at most ``window`` — and the recent level the median of its last ``window``.
/// The early span is in training steps, not rows, so the judgement does not depend on the logging interval:
/// logged every step it is the first 10 rows, as before; logged every 5 steps it is the first 3 rows (steps 5–15),
/// not the first 10 (steps 5–50), by which time a healthy run has already done much of its improving and a run
/// converging from 2 % to 75 % accuracy would look flat. Reward is *improving* when the recent level is above the early one by at least 10 %
/// of the larger magnitude of the two (and by more than 1e-9), so reward on any scale — [0, 1] accuracies,
/// [-1, 3] shaped sums — is judged by its own size. Unknown (nil) until both levels exist.
struct RewardTrend: Sendable, Hashable {
    static let window = 10
    /// Training steps the early level covers (see the type's notes).
    static let earlySteps = 10
    /// Observations the early level needs however sparse the logging, so one noisy row is not "the start".
    static let minimumEarly = 3
    /// The smallest rise, as a fraction of the larger magnitude, that counts as improvement.
    static let minimumRise = 0.25

    /// Reward means the recent level is the median of.
    let recentWindow: Int

    init(recentWindow: Int = RewardTrend.window) {
        self.recentWindow = max(1, recentWindow)
    }

    private var early: [Double] = []
    private(set) var earlyLevel: Double?
    /// The step of the first early observation.
    private var firstStep: Int?
    private var recent: [Double] = []
    private var next = 0

    /// Records the reward mean of the row at training step `step`, if it has a finite one.
    mutating func observe(_ reward: Double?, step: Int) {
        guard let reward, reward.isFinite else { return }
        if earlyLevel == nil {
            early.append(reward)
            let start = firstStep ?? step
            firstStep = start
            // Steps covered, counting the first row as one (a resume's smaller step number covers nothing new).
            let (span, overflow) = step.subtractingReportingOverflow(start)
            let covered = overflow || span < 0 ? 1 : addingSteps(span, 1)
            if early.count >= Self.window || (early.count >= Self.minimumEarly && covered >= Self.earlySteps) {
                earlyLevel = EarlyMedian.median(early)
                early = []
            }
        }
        if recent.count < recentWindow {
            recent.append(reward)
        } else {
            recent[next] = reward
            next = (next + 1) % recentWindow
        }
    }

    /// The median of the last ``recentWindow`` reward means, once there are that many.
    var recentLevel: Double? { recent.count >= recentWindow ? EarlyMedian.median(recent) : nil }

    /// Whether reward has risen clearly since the start of the run; nil while it cannot be told.
    var isImproving: Bool? {
        guard let earlyLevel, let recentLevel else { return nil }
        let rise = recentLevel - earlyLevel
        return rise > 1e-9 && rise >= Self.minimumRise * max(abs(earlyLevel), abs(recentLevel))
    }
}
