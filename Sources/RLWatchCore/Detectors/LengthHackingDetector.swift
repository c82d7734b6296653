/// Settings of ``LengthHackingDetector`` (section `length_hacking`).
public struct LengthHackingConfig: DetectorSettings {
    public var enabled = true
    /// Warning when the mean completion length holds at this many times its early level (with the other signs).
    public var lengthRatio = 1.4
    /// Critical when it holds at this many times its early level.
    public var criticalLengthRatio = 2.0
    /// The rolling correlation of length with the reward, and with the component that pays for it, must reach this.
    public var minCorrelation = 0.6
    /// Observations the rolling correlations are taken over: long enough that the trend, not the per-row noise of
    /// a batch's mean reward, decides them.
    public var window = 100
    /// The early levels are the medians of this many first observations, the recent levels of this many last ones.
    public var baselineWindow = 10
    /// Training steps in a row the pattern must hold (two observations at least).
    public var consecutiveSteps = 20
    public var warmupSteps = 50
    public init() {}
}

extension RLWatchConfig {
    /// Length hacking: completions growing while the reward rises through a non-task component.
    public var lengthHacking: LengthHackingConfig {
        get { self[settings: LengthHackingConfig.self] }
        set { self[settings: LengthHackingConfig.self] = newValue }
    }
}

extension DetectorID {
    /// The reward rises because the completions grow, not because the task gets solved.
    public static let lengthHacking: DetectorID = "length_hacking"
}

/// Length hacking: the completions grow and the reward rises with them, paid by a reward component that is not the
/// task's (a reasoning-length, format or style reward), while the task component does not improve.
///
/// Reads the mean completion length (TRL `completions/mean_length`, veRL `response_length/mean`, older TRL
/// `completion_length`), the reward mean and TRL's per-function components (`rewards/<fn>/mean`, see
/// ``RewardComponents``). A *warning* when, for `consecutive_steps` training steps, the recent median length
/// (the last `baseline_window` observations) is at least `length_ratio` (1.4) × its early level (the median of the
/// first `baseline_window`), the recent reward is above its early level by more than the early reward's spread,
/// length and reward correlate at `min_correlation` (0.6) or more over `window` (100) observations, a non-task
/// component that accounts for at least half the reward's rise correlates with length as strongly, and no task component (a name with `correct`,
/// `accuracy`, `answer`, `exact`, `pass`, `solve`, `success`, `verif`, `score` or `acc`) rose by more than its early
/// spread and a tenth of its early level; *critical* at `critical_length_ratio` (2) ×.
///
/// Why the task component is required: on healthy reasoning runs length grows with reward *by design* — the real
/// rasbt GRPO run's answers grow 2.1× as its reward goes 0.13 → 0.5, the veRL on-policy-distillation runs' 2.3×
/// (900 → 2300 tokens) while the task score improves, the OpenAgentRL run's 1.4× with its score; length, reward
/// and their rolling correlation alone fire inside those healthy stretches (the distillation run at step 35). What
/// tells a hack from learning to reason is whether the task itself improves, and only a run that logs its reward
/// per function says so; without a task component the detector stays silent (see `watch --explain`). A run whose
/// length grows while its total reward falls (the real MBPP run: 3.8× with a reasoning component rising and
/// correctness falling) is not paid by the length and is the reward and entropy detectors' to judge; length
/// pushing against the cap is ``LengthTruncationDetector``'s.
public final class LengthHackingDetector: Detector {
    public let id = DetectorID.lengthHacking
    private let config: LengthHackingConfig
    private var held: HeldLevel
    private var components = RewardComponents()
    /// Early levels: index 0 the length, 1 the reward, then the components in ``RewardComponents`` order.
    private var early: EarlyLevels
    private var lengths: [Double] = []
    private var rewards: [Double] = []
    /// The components' recent values, one array per component (NaN where a row lacked it).
    private var parts: [[Double]] = []
    private var row: [Double?] = []

    public init(_ config: LengthHackingConfig) {
        self.config = config
        held = HeldLevel(warmupSteps: config.warmupSteps, consecutiveSteps: config.consecutiveSteps)
        early = EarlyLevels(count: config.baselineWindow)
    }

    public func observe(_ step: MetricStep) -> Alert? {
        let tick = held.tick(step.step)
        guard let length = step.meanCompletionLength, length > 0, let reward = finite(step.rewardMean) else {
            return nil
        }
        components.values(step, into: &row)
        // A run without both a task and another component cannot show this failure apart from healthy learning.
        guard components.isTask.contains(true), components.isTask.contains(false) else { return nil }
        record(length: length, reward: reward)
        guard held.warmedUp(tick) else { return nil }
        let finding = judge()
        guard
            let (severity, onset, steps) = held.judge(
                warning: finding != nil, critical: finding.map { $0.lengthRatio >= config.criticalLengthRatio } ?? false,
                step: step.step, tick: tick)
        else { return nil }
        return finding.map { alert($0, severity: severity, onset: onset, steps: steps, step: step.step) }
    }

    private func record(length: Double, reward: Double) {
        early.add([length, reward] + row)
        let capacity = max(4, config.window)
        lengths.append(length)
        rewards.append(reward)
        while parts.count < row.count { parts.append(Array(repeating: .nan, count: lengths.count - 1)) }
        for index in parts.indices { parts[index].append(row[index] ?? .nan) }
        if lengths.count > capacity {
            lengths.removeFirst()
            rewards.removeFirst()
            for index in parts.indices { parts[index].removeFirst() }
        }
    }

    /// What the alert reports.
    private struct Finding {
        var lengthRatio: Double
        var earlyLength: Double
        var recentLength: Double
        var rewardRise: Double
        var correlation: Double
        var proxy: Int
        var task: [(index: Int, early: Double, recent: Double)]
    }

    /// The pattern on the current window, or nil when any part of it is missing.
    private func judge() -> Finding? {
        guard lengths.count >= max(4, config.window), let earlyLength = early.level(0)?.median, earlyLength > 0,
            let earlyReward = early.level(1)
        else { return nil }
        let half = max(2, min(config.baselineWindow, lengths.count))
        let recentLength = EarlyMedian.median(Array(lengths.suffix(half)))
        let lengthRatio = recentLength / earlyLength
        guard lengthRatio >= config.lengthRatio else { return nil }
        let rewardRise = EarlyMedian.median(Array(rewards.suffix(half))) - earlyReward.median
        guard rewardRise > max(earlyReward.spread, 1e-12) else { return nil }
        let correlation = pearsonCorrelation(lengths[...], rewards[...])
        guard correlation >= config.minCorrelation else { return nil }
        var task: [(index: Int, early: Double, recent: Double)] = []
        var proxy: (index: Int, rise: Double)?
        for index in parts.indices {
            let recentValues = parts[index].suffix(half).filter { !$0.isNaN }
            guard !recentValues.isEmpty, let start = early.level(2 + index) else { continue }
            let recent = EarlyMedian.median(recentValues)
            let rise = recent - start.median
            if components.isTask[index] {
                // A task component that improved says the run is learning the task: not hacking. Improved: by
                // more than its early spread and a tenth of its level, so that the noise of a flat one does not
                // break the streak on every other row.
                if rise > max(start.spread, 0.1 * abs(start.median)) { return nil }
                task.append((index, start.median, recent))
            } else if rise >= 0.5 * rewardRise, rise > (proxy?.rise ?? 0),
                let values = completePairs(index), pearsonCorrelation(values.0[...], values.1[...]) >= config.minCorrelation
            {
                proxy = (index, rise)
            }
        }
        guard let proxy, !task.isEmpty else { return nil }
        return Finding(
            lengthRatio: lengthRatio, earlyLength: earlyLength, recentLength: recentLength, rewardRise: rewardRise,
            correlation: correlation, proxy: proxy.index, task: task)
    }

    /// The window's lengths and component `index`'s values on the rows that have both.
    private func completePairs(_ index: Int) -> ([Double], [Double])? {
        var x: [Double] = [], y: [Double] = []
        for (length, value) in zip(lengths, parts[index]) where !value.isNaN {
            x.append(length)
            y.append(value)
        }
        return x.count >= max(4, config.window / 2) ? (x, y) : nil
    }

    private func alert(_ finding: Finding, severity: Severity, onset: Int, steps: Int, step: Int) -> Alert {
        let proxyName = components.names[finding.proxy]
        let tasks = finding.task.map { "`\(components.names[$0.index])` \(formatSignificant($0.early, digits: 3)) → \(formatSignificant($0.recent, digits: 3))" }
        let message =
            "Length hacking: completions are \(fixed(finding.lengthRatio, decimals: 2))× their early length "
            + "(\(Int(finding.earlyLength.rounded())) → \(Int(finding.recentLength.rounded())) tokens) and the reward "
            + "rose \(formatSignificant(finding.rewardRise, digits: 3)) with them (correlation "
            + "\(fixed(finding.correlation, decimals: 2)) over \(lengths.count) rows), paid by `\(proxyName)`, while the "
            + "task reward did not improve (\(tasks.joined(separator: ", "))) for \(steps) training steps."
        var recommendation =
            "Inspect completions from the start of the run and from now side by side: look for padding, repeated "
            + "reasoning, restated questions. Cap or normalise the reward `\(proxyName)` pays for length (reward "
            + "per solved task, not per token; an overlong penalty such as DAPO's soft overlong punishment), or drop "
            + "it once the format is learnt. Lowering the learning rate does not fix this: a slower policy finds "
            + "the same exploit."
        if severity == .critical {
            recommendation +=
                " Completions have doubled without the task improving: keep the checkpoint from before the growth and "
                + "resume from it with the reward fixed."
        }
        return Alert(
            step: step, detector: id, severity: severity, message: message,
            metricValues: [
                "length_ratio": .double(finding.lengthRatio), "mean_completion_length": .double(finding.recentLength),
                "early_completion_length": .double(finding.earlyLength), "reward_rise": .double(finding.rewardRise),
                "length_reward_correlation": .double(finding.correlation), "component": .string(proxyName),
                "consecutive_steps": .int(steps),
            ],
            recommendation: recommendation, magnitude: finding.lengthRatio
        ).withOnset(onset)
    }
}

extension LengthHackingDetector {
    /// The detector's entry in ``DetectorRegistry``.
    // swift-format-ignore
    public static let descriptor = DetectorDescriptor(
        id: .lengthHacking,
        summary: "Completions growing while the reward rises through a non-task component and the task reward does not.",
        enabled: \.lengthHacking.enabled,
        fields: [
            .double("length_hacking.length_ratio", \.lengthHacking.lengthRatio, .positive,
                    "Warning when the recent mean length is this many times its early level (with the other signs; > 0)."),
            .double("length_hacking.critical_length_ratio", \.lengthHacking.criticalLengthRatio, .positive,
                    "Critical when it is this many times its early level (> 0)."),
            .double("length_hacking.min_correlation", \.lengthHacking.minCorrelation, .unitFraction,
                    "Rolling correlation of length with the reward and the paying component (> 0, <= 1)."),
            .int("length_hacking.window", \.lengthHacking.window, .window(atLeast: 4),
                 "Observations the correlation and the recent level are taken over (4-100000)."),
            .int("length_hacking.baseline_window", \.lengthHacking.baselineWindow, .window(atLeast: 2),
                 "Early levels = medians of this many first observations (2-100000)."),
            .int("length_hacking.consecutive_steps", \.lengthHacking.consecutiveSteps, .atLeast(1),
                 "Training steps in a row the pattern must hold before it alerts (>= 1)."),
            .int("length_hacking.warmup_steps", \.lengthHacking.warmupSteps, .nonNegative,
                 "Training steps to see before this detector may fire (>= 0)."),
        ],
        inputs: [
            .extra("mean completion length", keys: MetricStep.ExtraKey.meanCompletionLength),
            DetectorInput(
                check: "reward components", name: { _ in "rewards/<fn>/mean" },
                missing: { coverage in
                    let names = coverage.extras.compactMap(RewardComponents.componentName)
                    if names.contains(where: RewardComponents.isTaskName),
                        names.contains(where: { !RewardComponents.isTaskName($0) })
                    {
                        return nil
                    }
                    return "needs a task reward component (correctness, accuracy…) and another one (rewards/<fn>/mean)"
                }),
        ],
        chart: .input(
            id: "mean_completion_length", title: "Mean completion length (tokens)", fallback: .rewardMean,
            value: { $0.meanCompletionLength })
    ) { LengthHackingDetector($0.lengthHacking) }
}
