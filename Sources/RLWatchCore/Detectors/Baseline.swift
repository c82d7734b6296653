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
/// A value is a warning when it is more than `sigma` standard deviations above the baseline mean *and*
/// at least `minRelativeIncrease` × |mean| above it; a critical at 1.5 × `sigma` and twice the relative
/// increase. The effect-size gate is what keeps a quiet, low-noise series from alerting on a
/// statistically "significant" wiggle (a 3σ test over ~100 noisy samples fires by chance every few
/// hundred steps). The standard deviation is floored at 0.1 % of |mean| so a constant baseline gives
/// finite z-scores.
public struct ZScoreRule: Sendable, Hashable {
    public var sigma: Double
    public var minRelativeIncrease: Double

    public init(sigma: Double, minRelativeIncrease: Double) {
        self.sigma = sigma
        self.minRelativeIncrease = minRelativeIncrease
    }

    public func zScore(_ value: Double, _ baseline: BaselineStats) -> Double {
        let floor = max(1e-3 * abs(baseline.mean), 1e-12)
        return (value - baseline.mean) / max(baseline.std, floor)
    }

    public func level(_ value: Double, _ baseline: BaselineStats) -> Severity? {
        let z = zScore(value, baseline)
        let increase = value - baseline.mean
        let scale = abs(baseline.mean)
        if z > 1.5 * sigma && increase >= 2 * minRelativeIncrease * scale { return .critical }
        if z > sigma && increase >= minRelativeIncrease * scale { return .warning }
        return nil
    }
}
