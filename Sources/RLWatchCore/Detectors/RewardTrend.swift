/// Whether a run's reward is still improving: what separates a run *converging* from one *collapsing*.
///
/// Entropy falling 30× while reward keeps climbing is a strong base model converging on math RL (an on-policy
/// run going from 2 % to 88 % accuracy does exactly that), and a steady entropy rise while reward improves is
/// exploration, not an explosion; the same entropy curves with reward stalled or falling are the failures. So
/// the entropy detectors ask this before they alert.
///
/// The early level is the median of the run's first ``window`` finite reward means; the recent level the median
/// of its last ``window``. Reward is *improving* when the recent level is above the early one by at least 10 %
/// of the larger magnitude of the two (and by more than 1e-9), so reward on any scale — [0, 1] accuracies,
/// [-1, 3] shaped sums — is judged by its own size. Unknown (nil) until both levels exist.
struct RewardTrend: Sendable, Hashable {
    static let window = 10
    /// The smallest rise, as a fraction of the larger magnitude, that counts as improvement.
    static let minimumRise = 0.25

    /// Reward means the recent level is the median of.
    let recentWindow: Int

    init(recentWindow: Int = RewardTrend.window) {
        self.recentWindow = max(1, recentWindow)
    }

    private var early: [Double] = []
    private(set) var earlyLevel: Double?
    private var recent: [Double] = []
    private var next = 0

    mutating func observe(_ reward: Double?) {
        guard let reward, reward.isFinite else { return }
        if earlyLevel == nil {
            early.append(reward)
            if early.count >= Self.window {
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
