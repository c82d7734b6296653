import RLWatchCore
import RLWatchIngest

/// The scalars of one training step, gathered from a TensorBoard event file.
public struct TensorBoardStep: Sendable, Hashable {
    /// The global step.
    public var step: Int
    /// The latest wall time among the step's scalars, in seconds since the Unix epoch.
    public var wallTime: Double
    /// Every training scalar of the step by its metric key (the tag without `train/`, see
    /// ``TensorBoardTags``); a tag logged twice in the step keeps its last value.
    public var values: [String: Double]

    public init(step: Int, wallTime: Double, values: [String: Double]) {
        self.step = step
        self.wallTime = wallTime
        self.values = values
    }

    /// The step's values as a metrics line: what the JSONL and `trainer_state.json` readers produce.
    public var rawLine: RawMetricsLine {
        RawMetricsLine(step: step, values: values)
    }

    /// The step as rlwatch's detectors see it, framework aliases resolved by ``FrameworkKeyMap``
    /// (`entropy`, `kl` → `kl_divergence`, `actor/kl_loss` → `kl_divergence`, …); unmapped keys are extras.
    public func metricStep() -> MetricStep {
        FrameworkKeyMap.makeStep(step: step, values: values)
    }

    /// Which key feeds each canonical metric, for telling the user how their tags were read:
    /// `entropy ← entropy, kl_divergence ← kl, …` (see ``FrameworkKeyMap/describeSources(forKeys:)``).
    public var sourceDescription: String {
        FrameworkKeyMap.describeSources(forKeys: values.keys)
    }
}
