/// A rolling or frozen robust baseline over a detector's earlier finite, non-zero observations.
///
/// The current value is judged against the observations before it, never against itself. Its level is the
/// **median** and its spread 1.4826 × the median absolute deviation (see ``RobustWindow``), so one spike
/// cannot move it: a mean and standard deviation taken after a KL of 36,108 hid the next spike for a whole
/// window. Exact zeros are not added: a KL of 0 before the first update or a grad norm of 0 on a step where
/// every group got the same reward says nothing about the series' scale (a run with long dead stretches kept
/// its spike detectors blind). The baseline is *informative* once it holds `minimumCount` values.
///
/// In frozen mode the baseline locks the first time the window is full; until then the rolling rule applies so
/// early spikes are still caught. Frozen is for slow drifts: a rolling baseline follows them.
public struct RobustBaseline: Sendable {
    public let mode: BaselineMode
    public let minimumCount: Int
    private var window: RobustWindow
    public private(set) var frozen: RobustStats?

    /// The smallest baseline judged against: 20 observations, or the whole window when it is smaller.
    public static func defaultMinimumCount(window: Int) -> Int { max(2, min(20, window)) }

    public init(mode: BaselineMode, window: Int, minimumCount: Int? = nil) {
        self.mode = mode
        self.window = RobustWindow(capacity: max(2, window))
        self.minimumCount = minimumCount ?? RobustBaseline.defaultMinimumCount(window: window)
    }

    /// The baseline's median and 90th percentile, by lookup, or nil while it is not informative.
    public var levels: (median: Double, upper: Double)? {
        if let frozen { return (frozen.median, frozen.upper) }
        guard window.count >= minimumCount else { return nil }
        return window.levels
    }

    /// The baseline to judge the next value against, or nil while it is not informative.
    public mutating func stats() -> RobustStats? {
        if let frozen { return frozen }
        guard window.count >= minimumCount else { return nil }
        return window.stats()
    }

    /// Adds a finite observation after it has been judged; zeros are left out.
    public mutating func add(_ value: Double) {
        guard value != 0, frozen == nil else { return }
        window.append(value)
        if mode == .frozen, window.isFull { frozen = window.stats() }
    }
}

/// How a spike detector (KL, gradient norm) judges one value against its robust baseline.
///
/// - **Relative**: the value is at least `warningRatio` × the baseline's reference level (its median, or its
///   spread when that is larger: a signed KL estimator hovers around 0) and `sigma` robust standard deviations
///   above the median, and at least `minimumValue` — a *warning*; at least `criticalRatio` × and 1.5 × `sigma`
///   — a *critical*. A relative condition must hold on `persistence` observations in a row before it alerts,
///   because single-step excursions of 3–30× are ordinary on small-batch runs (one prompt per step, 4–8
///   completions) and come straight back; a value `criticalRatio` × out alerts on its own step.
/// - **Absolute**: a value at or above `absoluteCritical` is critical from the first step, baseline or not
///   (KL of many nats per token): a run that blows up on step 2 has no baseline yet.
/// - **Runaway**: a value `runawayFactor` × above every value seen so far is critical from the second
///   observation on, warmup or not — orders of magnitude above anything the run has logged.
public struct SpikeRule: Sendable, Hashable {
    public var warningRatio: Double
    public var criticalRatio: Double
    public var sigma: Double
    public var minimumValue: Double
    public var absoluteCritical: Double?
    public var persistence: Int
    /// Whether a critical-level value alerts on its own step; false: it needs `persistence` like a warning.
    public var criticalAlone: Bool
    public var runawayFactor: Double?
    /// A value at or above this, on `persistence` observations in a row, is a warning from the first step.
    public var absoluteWarning: Double?
    /// Ratios are taken against at least this fraction of the baseline's 90th percentile (0: the median alone):
    /// for a statistic whose healthy values are bimodal — a small group's reward variance is either ~0 or large;
    /// a grad norm is ~1e-3 on steps where every group got the same reward and ~0.5 on the others — "far above
    /// its ordinary range" rather than "far above its middle", which the dead steps drag down.
    public var upperRangeFraction: Double
    /// A relative condition at or above this ratio that holds on `persistence` observations in a row is critical
    /// (a grad norm 10× its level for two steps is as bad as 20× for one); nil: only `criticalRatio` is.
    public var sustainedCriticalRatio: Double?

    public init(
        warningRatio: Double, criticalRatio: Double, sigma: Double, minimumValue: Double = 0,
        absoluteCritical: Double? = nil, persistence: Int = 2, criticalAlone: Bool = true,
        runawayFactor: Double? = nil, absoluteWarning: Double? = nil, upperRangeFraction: Double = 0,
        sustainedCriticalRatio: Double? = nil
    ) {
        self.sustainedCriticalRatio = sustainedCriticalRatio
        self.absoluteWarning = absoluteWarning
        self.upperRangeFraction = upperRangeFraction
        self.criticalAlone = criticalAlone
        self.warningRatio = warningRatio
        self.criticalRatio = max(criticalRatio, warningRatio)
        self.sigma = sigma
        self.minimumValue = minimumValue
        self.absoluteCritical = absoluteCritical
        self.persistence = max(1, persistence)
        self.runawayFactor = runawayFactor
    }

    /// The level a baseline's median and spread are compared at: the median, or the spread when larger.
    public static func reference(_ stats: RobustStats) -> Double {
        max(abs(stats.median), stats.scale, 1e-12)
    }

    /// The level this rule takes ratios against.
    public func reference(_ stats: RobustStats) -> Double {
        upperRangeFraction > 0 && stats.upper.isFinite
            ? max(upperRangeFraction * stats.upper, Self.reference(stats)) : Self.reference(stats)
    }

    /// How many robust standard deviations above the median `value` is (the spread floored at 10 % of the
    /// median, so a constant baseline gives finite scores).
    public static func zScore(_ value: Double, _ stats: RobustStats) -> Double {
        (value - stats.median) / max(stats.scale, 0.1 * abs(stats.median), 1e-12)
    }

    /// The relative level `value` reaches against `stats` on its own, before persistence.
    public func relativeLevel(_ value: Double, _ stats: RobustStats) -> Severity? {
        relativeLevel(value, ratio: value / reference(stats), z: Self.zScore(value, stats))
    }

    /// The relative level of `value` whose ratio to the reference level and robust z-score are known.
    func relativeLevel(_ value: Double, ratio: Double, z: Double) -> Severity? {
        guard value >= minimumValue else { return nil }
        if ratio >= criticalRatio, z >= 1.5 * sigma { return .critical }
        if ratio >= warningRatio, z >= sigma { return .warning }
        return nil
    }
}

/// What a spike detector decided about one value.
public struct SpikeJudgement: Sendable, Hashable {
    public enum Reason: Sendable, Hashable {
        /// Against the run's own baseline.
        case relative
        /// At or above the absolute critical level.
        case absolute
        /// Orders of magnitude above every value seen so far.
        case runaway(previousMaximum: Double)
    }

    public var severity: Severity
    public var reason: Reason
    /// The baseline it was judged against, when there was one.
    public var baseline: RobustStats?
    /// The value over the baseline's reference level (∞ without a baseline).
    public var ratio: Double
    public var zScore: Double
    /// The step the episode began: the first of the observations the condition has held on.
    public var onsetStep: Int
}

/// Warmup, robust baseline, spike rule, persistence and episode of a spike detector (KL, gradient norm).
struct SpikeTracker {
    private var warmup: Warmup
    private var clock = StepClock()
    private var baseline: RobustBaseline
    private let rule: SpikeRule
    private(set) var episode = Episode()
    /// Consecutive observations whose relative level held, and the step of the first of them.
    private var flagged = 0
    private var flaggedSince: Int?
    private var episodeOnset: Int?
    private var maximumSeen: Double?
    private var absoluteFlagged = 0
    private var absoluteSince: Int?

    /// Observations a relative condition must hold before its values enter the baseline after all: a new
    /// level that lasts this long is the run's new normal, not a spike.
    static let acceptAfter = 20

    init(warmupSteps: Int, window: Int, mode: BaselineMode, rule: SpikeRule) {
        warmup = Warmup(steps: warmupSteps)
        baseline = RobustBaseline(mode: mode, window: window)
        self.rule = rule
    }

    /// Records a row the detector sees, with or without its metric (see `StepClock`).
    mutating func tick(_ step: Int) -> StepTick { clock.tick(step) }

    /// Judges a finite value, then adds it to the baseline unless it stood out.
    mutating func observe(_ value: Double, step: Int, tick: StepTick) -> SpikeJudgement? {
        let evaluated = warmup.observe(tick)
        if tick.resumed { (flagged, flaggedSince) = (0, nil) }
        var level: Severity?
        var reason = SpikeJudgement.Reason.relative
        var ratio = Double.infinity
        var z = Double.infinity
        var relative: Severity?
        var stats: RobustStats?
        if let levels = baseline.levels {
            // Most values are below warning-ratio × the median (or the 90th percentile): they cannot be flagged,
            // whatever the spread, so the MAD is computed only for the others (and for an alert's message).
            let upper = levels.upper.isFinite ? rule.upperRangeFraction * levels.upper : 0
            let floor = max(abs(levels.median), upper, 1e-12)
            if value >= rule.warningRatio * floor {
                stats = baseline.stats()
            } else {
                ratio = value / floor
            }
        }
        if let full = stats {
            ratio = value / rule.reference(full)
            z = SpikeRule.zScore(value, full)
            if evaluated { relative = rule.relativeLevel(value, ratio: ratio, z: z) }
        }
        if relative != nil {
            flagged += 1
            if flaggedSince == nil { flaggedSince = step }
        } else {
            (flagged, flaggedSince) = (0, nil)
        }
        if let relative, flagged >= rule.persistence || (relative == .critical && rule.criticalAlone) {
            level = relative
            if relative == .warning, flagged >= rule.persistence, let sustained = rule.sustainedCriticalRatio,
                ratio >= sustained, z >= 1.5 * rule.sigma
            {
                level = .critical
            }
        }
        if let factor = rule.runawayFactor, let maximum = maximumSeen, maximum > 0, value >= factor * maximum,
            value >= rule.minimumValue
        {
            level = .critical
            reason = .runaway(previousMaximum: maximum)
        }
        if let warningLevel = rule.absoluteWarning, value >= warningLevel {
            absoluteFlagged += 1
            if absoluteSince == nil { absoluteSince = step }
            if absoluteFlagged >= rule.persistence, level == nil {
                level = .warning
                reason = .absolute
            }
        } else {
            (absoluteFlagged, absoluteSince) = (0, nil)
        }
        if let absolute = rule.absoluteCritical, value >= absolute {
            level = .critical
            reason = .absolute
        }
        // An alert shows the baseline it was judged against, before this value joins it.
        if level != nil, stats == nil, baseline.levels != nil { stats = baseline.stats() }
        if relative == nil || flagged >= Self.acceptAfter { baseline.add(value) }
        maximumSeen = max(maximumSeen ?? value, value)
        let wasActive = episode.isActive
        let magnitude = ratio.isFinite ? ratio : nil
        let emitted = episode.update(level, magnitude: magnitude)
        if !wasActive, episode.isActive { episodeOnset = [flaggedSince, absoluteSince].compactMap { $0 }.min() ?? step }
        if !episode.isActive { episodeOnset = nil }
        guard let severity = emitted else { return nil }
        return SpikeJudgement(
            severity: severity, reason: reason, baseline: stats, ratio: ratio, zScore: z,
            onsetStep: episodeOnset ?? step)
    }

    /// Feeds a level decided outside the baseline (a non-finite value) into the episode.
    mutating func force(_ level: Severity, step: Int) -> Severity? {
        let wasActive = episode.isActive
        // No magnitude: a run of NaNs is one episode, not "far more severe" than the NaN before it.
        let emitted = episode.update(level, magnitude: nil)
        if !wasActive { episodeOnset = step }
        return emitted
    }

    /// Whether the baseline is informative yet.
    var hasBaseline: Bool { baseline.levels != nil }

    /// The step the current episode began, if one is in progress.
    var onsetStep: Int? { episode.isActive ? episodeOnset : nil }
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
