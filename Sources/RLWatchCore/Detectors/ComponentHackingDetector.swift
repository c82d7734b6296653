/// Settings of ``ComponentHackingDetector`` (section `component_hacking`).
public struct ComponentHackingConfig: DetectorSettings {
    public var enabled = true
    /// Observations in a row a component must sit at its ceiling to count as saturated.
    public var saturationWindow = 10
    /// How close to its ceiling each of those must be, as a fraction of the component's rise from its early level.
    public var saturationTolerance = 0.05
    /// The component must have risen by at least this fraction of its ceiling's magnitude (and twice its early spread).
    public var minRise = 0.1
    /// Another component counts as fallen when its recent median is this fraction of its early magnitude below its
    /// early level (and at least its early spread below).
    public var minFall = 0.1
    /// The early levels are the medians of this many first observations.
    public var baselineWindow = 10
    /// Training steps in a row the pattern must hold (two observations at least).
    public var consecutiveSteps = 20
    public var warmupSteps = 50
    public init() {}
}

extension RLWatchConfig {
    /// Per-component reward hacking: one reward function maxed out while the others lose ground.
    public var componentHacking: ComponentHackingConfig {
        get { self[settings: ComponentHackingConfig.self] }
        set { self[settings: ComponentHackingConfig.self] = newValue }
    }
}

extension DetectorID {
    /// One reward component is maxed out while the others fall: the policy optimises the easy part of the reward.
    public static let componentHacking: DetectorID = "component_hacking"
}

/// Component hacking: one reward function sits at its ceiling while the others fall, and the total holds up only
/// because of it.
///
/// Reads TRL's per-function reward means (`rewards/<fn>/mean`, see ``RewardComponents``) and the reward mean. A
/// component is *saturated* when its last `saturation_window` (10) observations are all within
/// `saturation_tolerance` (5 %) of its rise below the highest value it has logged, having risen from its early
/// level (the median of its first `baseline_window`) by at least `min_rise` (10 %) of its magnitude and twice its
/// early spread. A *warning* when, for `consecutive_steps` training steps, a component is saturated, no other
/// component is above its early level by more than its early spread and a tenth of its level, at least one is
/// below it by `min_fall` (10 %) of its magnitude and its early spread, and the total reward is not below its early level (the gain of
/// the saturated part pays for the loss of the others); *critical* when every other component fell.
///
/// Why a fall and not just a stagnation: a format reward maxing out within the first hundred steps while a small
/// model's accuracy stays flat is the commonest healthy pattern there is (the format is easy, the task is not),
/// and on every real run that logs components the saturated-and-flat case is either that or noise. A total that
/// falls is not a hack that pays (the real MBPP run: its reasoning component rises 0.10 → 0.20 while correctness
/// drops 0.8 → 0.6 and the total with it) and belongs to the reward detectors.
public final class ComponentHackingDetector: Detector {
    public let id = DetectorID.componentHacking
    private let config: ComponentHackingConfig
    private var held: HeldLevel
    private var components = RewardComponents()
    /// Early levels: index 0 the reward, then the components in ``RewardComponents`` order.
    private var early: EarlyLevels
    private var recent: [[Double]] = []
    private var ceilings: [Double] = []
    private var rewards: [Double] = []
    private var row: [Double?] = []

    public init(_ config: ComponentHackingConfig) {
        self.config = config
        held = HeldLevel(warmupSteps: config.warmupSteps, consecutiveSteps: config.consecutiveSteps)
        early = EarlyLevels(count: config.baselineWindow)
    }

    public func observe(_ step: MetricStep) -> Alert? {
        let tick = held.tick(step.step)
        components.values(step, into: &row)
        guard row.count >= 2, row.contains(where: { $0 != nil }) else { return nil }
        let reward = finite(step.rewardMean)
        record(reward: reward)
        guard held.warmedUp(tick) else { return nil }
        let finding = judge()
        guard
            let (severity, onset, steps) = held.judge(
                warning: finding != nil, critical: finding?.allFell ?? false, step: step.step, tick: tick)
        else { return nil }
        return finding.map { alert($0, severity: severity, onset: onset, steps: steps, step: step.step) }
    }

    private func record(reward: Double?) {
        early.add([reward] + row)
        let capacity = max(2, config.saturationWindow)
        while recent.count < row.count {
            recent.append([])
            ceilings.append(-.infinity)
        }
        for (index, value) in row.enumerated() {
            recent[index].append(value ?? .nan)
            if recent[index].count > capacity { recent[index].removeFirst() }
            if let value { ceilings[index] = max(ceilings[index], value) }
        }
        rewards.append(reward ?? .nan)
        if rewards.count > capacity { rewards.removeFirst() }
    }

    private struct Finding {
        var saturated: Int
        var ceiling: Double
        var start: Double
        var fallen: [(index: Int, early: Double, recent: Double)]
        var allFell: Bool
    }

    private func judge() -> Finding? {
        let window = max(2, config.saturationWindow)
        var saturated: (index: Int, rise: Double)?
        for index in recent.indices where recent[index].count >= window {
            guard let start = early.level(1 + index), !recent[index].contains(where: \.isNaN) else { continue }
            let ceiling = ceilings[index]
            let rise = ceiling - start.median
            guard rise > 0, rise >= 2 * start.spread,
                rise >= config.minRise * max(abs(ceiling), abs(start.median)),
                recent[index].allSatisfy({ $0 >= ceiling - config.saturationTolerance * rise }),
                rise / max(abs(ceiling), 1e-12) > (saturated.map { $0.rise / max(abs(ceilings[$0.index]), 1e-12) } ?? 0)
            else { continue }
            saturated = (index, rise)
        }
        guard let saturated, let saturatedStart = early.level(1 + saturated.index) else { return nil }
        var fallen: [(index: Int, early: Double, recent: Double)] = []
        var others = 0
        for index in recent.indices where index != saturated.index {
            let values = recent[index].filter { !$0.isNaN }
            guard values.count >= window / 2, let start = early.level(1 + index) else { continue }
            others += 1
            let level = EarlyMedian.median(values)
            if level - start.median > max(start.spread, 0.1 * abs(start.median)) { return nil }
            let drop = start.median - level
            if drop > 0, drop >= start.spread, drop >= config.minFall * max(abs(start.median), 1e-12) {
                fallen.append((index, start.median, level))
            }
        }
        guard !fallen.isEmpty else { return nil }
        if let earlyReward = early.level(0)?.median {
            let latest = rewards.filter { !$0.isNaN }
            if !latest.isEmpty, EarlyMedian.median(latest) < earlyReward { return nil }
        }
        return Finding(
            saturated: saturated.index, ceiling: ceilings[saturated.index], start: saturatedStart.median,
            fallen: fallen, allFell: fallen.count == others)
    }

    private func alert(_ finding: Finding, severity: Severity, onset: Int, steps: Int, step: Int) -> Alert {
        let name = components.names[finding.saturated]
        let fallen = finding.fallen.map {
            "`\(components.names[$0.index])` \(formatSignificant($0.early, digits: 3)) → \(formatSignificant($0.recent, digits: 3))"
        }
        let message =
            "Component hacking: reward `\(name)` is at its ceiling (\(formatSignificant(finding.start, digits: 3)) → "
            + "\(formatSignificant(finding.ceiling, digits: 3))) while the others lose ground "
            + "(\(fallen.joined(separator: ", "))) for \(steps) training steps — the total holds up on the one "
            + "part of the reward the policy has learnt to max out."
        var recommendation =
            "Inspect completions that score the maximum on `\(name)` and low on the others: look for format "
            + "gaming, keyword stuffing or answers that satisfy the checker without doing the task. Lower "
            + "`\(name)`'s weight or gate it on the task reward (pay the format only when the answer is right), "
            + "and check that the others can still be earned."
        if severity == .critical {
            recommendation +=
                " Every other component is falling: keep the checkpoint from before `\(name)` saturated and resume "
                + "from it with the weights changed."
        }
        return Alert(
            step: step, detector: id, severity: severity, message: message,
            metricValues: [
                "component": .string(name), "ceiling": .double(finding.ceiling), "early_level": .double(finding.start),
                "fallen_components": .int(finding.fallen.count), "consecutive_steps": .int(steps),
            ],
            recommendation: recommendation
        ).withOnset(onset)
    }

    /// The reward component with the highest value on `step` (the chart's line: the one that saturates first).
    static func topComponent(_ step: MetricStep) -> Double? {
        var best: Double?
        for (key, value) in step.extras where value.isFinite && RewardComponents.componentName(key) != nil {
            best = max(best ?? value, value)
        }
        return best
    }
}

extension ComponentHackingDetector {
    /// The detector's entry in ``DetectorRegistry``.
    // swift-format-ignore
    public static let descriptor = DetectorDescriptor(
        id: .componentHacking,
        summary: "One reward component held at its ceiling while the others fall (TRL rewards/<fn>/mean).",
        enabled: \.componentHacking.enabled,
        fields: [
            .int("component_hacking.saturation_window", \.componentHacking.saturationWindow, .window(atLeast: 2),
                 "Observations in a row a component must sit at its ceiling (2-100000)."),
            .double("component_hacking.saturation_tolerance", \.componentHacking.saturationTolerance, .unitFraction,
                    "How close to the ceiling, as a fraction of the component's rise (> 0, <= 1)."),
            .double("component_hacking.min_rise", \.componentHacking.minRise, .unitFraction,
                    "The component's rise, as a fraction of its magnitude, before it can count (> 0, <= 1)."),
            .double("component_hacking.min_fall", \.componentHacking.minFall, .unitFraction,
                    "Another component's drop, as a fraction of its early magnitude, to count as fallen (> 0, <= 1)."),
            .int("component_hacking.baseline_window", \.componentHacking.baselineWindow, .window(atLeast: 2),
                 "Early levels = medians of this many first observations (2-100000)."),
            .int("component_hacking.consecutive_steps", \.componentHacking.consecutiveSteps, .atLeast(1),
                 "Training steps in a row the pattern must hold before it alerts (>= 1)."),
            .int("component_hacking.warmup_steps", \.componentHacking.warmupSteps, .nonNegative,
                 "Training steps to see before this detector may fire (>= 0)."),
        ],
        inputs: [
            DetectorInput(
                check: "reward components", name: { _ in "rewards/<fn>/mean" },
                missing: { coverage in
                    Set(coverage.extras.compactMap(RewardComponents.componentName)).count >= 2
                        ? nil : "needs two reward components or more (rewards/<fn>/mean)"
                })
        ],
        chart: .input(
            id: "reward_component_max", title: "Highest reward component (rewards/<fn>/mean)", fallback: .rewardMean,
            value: { ComponentHackingDetector.topComponent($0) })
    ) { ComponentHackingDetector($0.componentHacking) }
}
