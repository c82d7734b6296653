import RLWatchCore

/// One chart of the run and compare pages: which value it draws and which detectors' alerts it marks.
struct ChartSpec: Sendable {
    /// The chart's id in the page (`chart-ID`) and in live-update columns: the canonical metric's name, or the
    /// name of a detector input that has no canonical column (`frac_reward_zero_std`, `clipped_ratio`,
    /// `mean_completion_length`).
    let id: String
    let title: String
    /// The detectors whose alerts are marked on this chart.
    private(set) var detectors: [DetectorID]
    /// Reads the chart's value from a step.
    let value: @Sendable (MetricStep) -> Double?
    /// Whether the chart offers a log-scale toggle: metrics whose one spike (a 2.7e7 gradient norm) flattens the
    /// rest of the line on a linear axis.
    let offersLogScale: Bool
    /// The chart that marks this chart's alerts for a run that never logged this chart's value: a run without
    /// `frac_reward_zero_std` still gets its `learning_signal_dead` alerts marked, on the reward std it was
    /// judged on.
    let fallback: String?

    init(
        _ metric: MetricName, _ title: String, detectors: [DetectorID], offersLogScale: Bool = false
    ) {
        id = metric.rawValue
        self.title = title
        self.detectors = detectors
        value = { $0[metric] }
        self.offersLogScale = offersLogScale
        fallback = nil
    }

    init(
        input id: String, _ title: String, detectors: [DetectorID], fallback: MetricName? = nil,
        value: @escaping @Sendable (MetricStep) -> Double?
    ) {
        self.id = id
        self.title = title
        self.detectors = detectors
        self.value = value
        offersLogScale = false
        self.fallback = fallback?.rawValue
    }

    /// The charts in page order: the canonical metrics' (marking the alerts of the detectors whose
    /// ``DetectorChart`` names that metric), then one per detector input without a canonical column, in
    /// ``DetectorRegistry`` order, then the mean completion length. Every registered detector is on exactly one.
    ///
    /// The input charts draw the values alerts quote (`frac_reward_zero_std`, `clipped_ratio`, …), read with the
    /// framework keys of ``MetricStep/ExtraKey``.
    static let all: [ChartSpec] = {
        let descriptors = DetectorRegistry.descriptors
        func marking(_ metric: MetricName) -> [DetectorID] {
            descriptors.filter {
                if case .metric(metric) = $0.chart { return true }
                return false
            }.map(\.id)
        }
        let metrics: [ChartSpec] = [
            ChartSpec(.entropy, "Policy entropy", detectors: marking(.entropy)),
            ChartSpec(.klDivergence, "KL divergence", detectors: marking(.klDivergence), offersLogScale: true),
            ChartSpec(.rewardMean, "Reward mean (± std)", detectors: marking(.rewardMean)),
            ChartSpec(.rewardStd, "Reward std", detectors: marking(.rewardStd)),
            ChartSpec(.advantageStd, "Advantage std", detectors: marking(.advantageStd)),
            ChartSpec(.loss, "Loss", detectors: marking(.loss), offersLogScale: true),
            ChartSpec(.learningRate, "Learning rate", detectors: marking(.learningRate)),
            ChartSpec(.gradNorm, "Gradient norm", detectors: marking(.gradNorm), offersLogScale: true),
        ]
        var inputs: [ChartSpec] = []
        for descriptor in descriptors {
            guard case .input(let id, let title, let fallback, let value) = descriptor.chart else { continue }
            if let index = inputs.firstIndex(where: { $0.id == id }) {
                inputs[index].detectors.append(descriptor.id)
            } else {
                inputs.append(ChartSpec(input: id, title, detectors: [descriptor.id], fallback: fallback, value: value))
            }
        }
        let extra =
            inputs.contains { $0.id == "mean_completion_length" }
            ? []
            : [
                ChartSpec(
                    input: "mean_completion_length", "Mean completion length (tokens)", detectors: [],
                    value: { $0.meanCompletionLength })
            ]
        return metrics + inputs + extra
    }()

    static func spec(_ id: String) -> ChartSpec? { all.first { $0.id == id } }

    /// The chart an alert of `detector` is marked on, for a run that logged the values of the charts in
    /// `charted` (nil: assume it logged everything).
    ///
    /// Detectors without a metric chart of their own (the liveness alerts `run_stalled`, `run_crashed`,
    /// `throughput_drop`, and any future one) are marked on the loss chart; all of them are also on the timeline.
    static func chart(for detector: DetectorID, charted: Set<String>? = nil) -> String {
        guard let spec = all.first(where: { $0.detectors.contains(detector) }) else { return MetricName.loss.rawValue }
        if let charted, !charted.contains(spec.id), let fallback = spec.fallback { return fallback }
        return spec.id
    }

    /// The columns a live update carries for each new row, in this order after the step: one per chart.
    static let liveColumns: [String] = all.map(\.id)
}
