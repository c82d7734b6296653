import RLWatchCore

/// One chart of the run and compare pages: which metric it draws and which detectors' alerts it marks.
struct ChartSpec: Sendable {
    let metric: MetricName
    let title: String
    /// The detectors whose alerts are marked on this chart.
    let detectors: [DetectorID]

    /// The charts in page order. Every built-in detector is listed on exactly one chart.
    static let all: [ChartSpec] = [
        ChartSpec(metric: .entropy, title: "Policy entropy", detectors: [.entropyCollapse, .entropyExplosion]),
        ChartSpec(metric: .klDivergence, title: "KL divergence", detectors: [.klExplosion]),
        ChartSpec(metric: .rewardMean, title: "Reward mean (± std)", detectors: [.rewardMeanDrift, .lengthTruncation]),
        ChartSpec(metric: .rewardStd, title: "Reward std", detectors: [.rewardHacking, .learningSignalDead]),
        ChartSpec(metric: .advantageStd, title: "Advantage std", detectors: [.advantageVariance]),
        ChartSpec(metric: .loss, title: "Loss", detectors: [.lossNaN]),
        ChartSpec(metric: .learningRate, title: "Learning rate", detectors: []),
        ChartSpec(metric: .gradNorm, title: "Gradient norm", detectors: [.gradientNormSpike]),
    ]

    /// The chart an alert of `detector` is marked on.
    ///
    /// Detectors without a metric chart of their own (the liveness alerts `run_stalled`, `run_crashed`,
    /// `throughput_drop`, and any future one) are marked on the loss chart; all of them are also on the timeline.
    static func chart(for detector: DetectorID) -> MetricName {
        all.first { $0.detectors.contains(detector) }?.metric ?? .loss
    }

    /// The metrics a live update carries for each new row, in this order after the step.
    static let liveColumns: [MetricName] = all.map(\.metric)
}
