import RLWatchCore

/// What the first steps of a watch carried: the metrics and detector inputs seen, and the logged keys.
struct WatchCoverage {
    private(set) var steps = 0
    private(set) var metrics: Set<MetricName> = []
    private(set) var perSampleRewards = false
    private(set) var fracRewardZeroStd = false
    private(set) var clippedRatio = false
    private(set) var keys: Set<String> = []

    mutating func add(_ step: MetricStep) {
        steps += 1
        for metric in MetricName.allCases where step[metric] != nil { metrics.insert(metric) }
        if step.rewards?.isEmpty == false { perSampleRewards = true }
        if step.fracRewardZeroStd != nil { fracRewardZeroStd = true }
        if step.clippedRatio != nil { clippedRatio = true }
    }

    mutating func add(keys: some Sequence<String>) {
        self.keys.formUnion(keys)
    }

    /// Whether a reward standard deviation is logged or can be derived from per-sample rewards.
    var rewardStd: Bool { metrics.contains(.rewardStd) || perSampleRewards }
    /// Whether a reward mean is logged or can be derived from per-sample rewards.
    var rewardMean: Bool { metrics.contains(.rewardMean) || perSampleRewards }
}
