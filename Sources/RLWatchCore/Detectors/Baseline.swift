/// Mean and spread of a detector's baseline at the moment a value is judged.
public struct BaselineStats: Sendable, Hashable {
    public var mean: Double
    public var std: Double
    public var count: Int
}

/// A rolling or frozen baseline over a detector's previous finite observations.
///
/// The current value is judged against the observations before it, never against itself. A baseline
/// is *informative* only once it holds `minimumCount` values of which at least `minimumCount` are
/// non-zero: a series that has been exactly zero (KL before the first update, a dead gradient) has no
/// scale to compare against, so nothing is judged against it (rlwatch 0.5.1 divides by 1e-8 and
/// raises criticals on the first non-zero value).
///
/// In frozen mode the baseline locks the first time the window is full and informative; until then the
/// rolling rule applies so early spikes are still caught.
public struct Baseline: Sendable {
    public let mode: BaselineMode
    public let minimumCount: Int
    private var window: SlidingWindow
    public private(set) var frozen: BaselineStats?

    /// The smallest baseline judged against: 20 observations, or the whole window when it is smaller.
    public static func defaultMinimumCount(window: Int) -> Int { max(2, min(20, window)) }

    public init(mode: BaselineMode, window: Int, minimumCount: Int? = nil) {
        self.mode = mode
        self.window = SlidingWindow(capacity: max(2, window))
        self.minimumCount = minimumCount ?? Baseline.defaultMinimumCount(window: window)
    }

    private var rollingStats: BaselineStats? {
        guard window.count >= minimumCount, window.nonZeroCount >= minimumCount else { return nil }
        return BaselineStats(mean: window.mean, std: window.populationStd, count: window.count)
    }

    /// The baseline to judge the next value against, or nil while it is not informative.
    public var stats: BaselineStats? { frozen ?? rollingStats }

    /// Adds a finite observation after it has been judged.
    public mutating func add(_ value: Double) {
        window.append(value)
        if mode == .frozen, frozen == nil, window.isFull, let stats = rollingStats {
            frozen = stats
        }
    }
}

/// The z-score test shared by the KL and gradient-norm detectors, with a minimum effect size.
///
/// - **Critical**: more than 1.5 × `sigma` standard deviations above the baseline mean *and* at least
///   2 × `minRelativeIncrease` × |mean| above it (with the default 1.0: three times the baseline mean).
/// - **Warning**: more than `sigma` standard deviations above the baseline mean *and* at least
///   `minRelativeIncrease` × its reference level above that level, where the reference level is the
///   larger of the baseline mean and the mean of the last few observations.
///
/// The effect-size gates keep a statistically "significant" wiggle on a quiet, low-noise series from
/// alerting (a 3σ test over ~100 noisy samples fires by chance every few hundred steps). Judging the
/// warning against where the series just was keeps a smooth healthy trend quiet — KL growing from zero
/// early in training, a grad norm climbing slowly above its frozen baseline — while a runaway that keeps
/// accelerating still reaches the critical gate against the baseline, and a real spike (a grad norm of
/// 111 after values of 0.1–3) clears both on its step. The standard deviation is floored at 0.1 % of
/// |mean| so a constant baseline gives finite z-scores.
public struct ZScoreRule: Sendable, Hashable {
    public var sigma: Double
    public var minRelativeIncrease: Double
    /// A value below this never alerts (the KL detector's `min_kl`); 0 means no floor.
    public var minimumValue: Double

    public init(sigma: Double, minRelativeIncrease: Double, minimumValue: Double = 0) {
        self.sigma = sigma
        self.minRelativeIncrease = minRelativeIncrease
        self.minimumValue = minimumValue
    }

    public func zScore(_ value: Double, _ baseline: BaselineStats) -> Double {
        let floor = max(1e-3 * abs(baseline.mean), 1e-12)
        return (value - baseline.mean) / max(baseline.std, floor)
    }

    /// - Parameter recentLevel: the mean of the last few observations before this one, if any.
    public func level(_ value: Double, _ baseline: BaselineStats, recentLevel: Double? = nil) -> Severity? {
        guard value >= minimumValue else { return nil }
        let z = zScore(value, baseline)
        if z > 1.5 * sigma && value - baseline.mean >= 2 * minRelativeIncrease * abs(baseline.mean) {
            return .critical
        }
        let reference = max(baseline.mean, recentLevel ?? baseline.mean)
        if z > sigma && value - reference >= minRelativeIncrease * abs(reference) { return .warning }
        return nil
    }
}

/// A run's own early level: the median of its first `window` finite observations, fixed once collected.
///
/// The median, not the mean, so that a transient excursion inside the window (the real TRL run climbs to 1.7
/// around steps 40–50, inside its first ten log rows) does not move the baseline. A median that is (almost)
/// zero has no scale to compare against; it is discarded and collected again from the next observations.
/// Shared by the entropy detectors, whose healthy level depends on the model (0.03–0.3 for LLM token
/// entropies, 2–3 on the golden traces).
struct EarlyMedian: Sendable, Hashable {
    let window: Int
    private var samples: [Double] = []
    /// The baseline, once the window has been collected and has a scale.
    private(set) var value: Double?

    /// A median at or below this is treated as "no scale" and collected again.
    static let minimumBaseline = 1e-9

    init(window: Int) {
        self.window = max(1, window)
        samples.reserveCapacity(self.window)
    }

    /// Adds an observation while the baseline is still being collected; ignored once it is fixed.
    mutating func add(_ observation: Double) {
        guard value == nil else { return }
        samples.append(observation)
        guard samples.count >= window else { return }
        let median = Self.median(samples)
        samples.removeAll(keepingCapacity: true)
        if median > Self.minimumBaseline { value = median }
    }

    /// The median of a non-empty array (the mean of the middle two for an even count).
    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}
