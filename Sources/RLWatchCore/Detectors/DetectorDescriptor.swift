/// Everything rlwatch knows about one detector, in one value: its id, its `rlwatch.yaml` section, what it reads,
/// how it is built and where its alerts are drawn.
///
/// The config schema, the `init` template, `watch --explain`, the dashboard's charts and the README's detector
/// table are all derived from ``DetectorRegistry/descriptors``, so adding a detector is one new file (the detector,
/// its settings and its descriptor) plus one line in that list — as swift-format's rules and `RuleRegistry`.
public struct DetectorDescriptor: Sendable {
    public let id: DetectorID
    /// One line: what the detector watches (the `init` template's section comment, the README table).
    public let summary: String
    /// The section's keys, `enabled` first.
    let fields: [ConfigField]
    /// What the detector reads, check by check, for `--explain`.
    public let inputs: [DetectorInput]
    /// Where its alerts are marked on the dashboard.
    public let chart: DetectorChart
    private let isEnabled: @Sendable (RLWatchConfig) -> Bool
    private let make: @Sendable (RLWatchConfig) -> any Detector

    /// The section of `rlwatch.yaml` the detector's settings live in: its id.
    public var section: String { id.rawValue }

    /// - Parameters:
    ///   - enabled: the section's `enabled` key; its schema line is written here.
    ///   - fields: the section's other keys, in template order.
    ///   - make: builds the detector from the whole configuration (called only when it is enabled).
    init(
        id: DetectorID, summary: String, enabled: ConfigKeyPath<Bool>, fields: [ConfigField],
        inputs: [DetectorInput], chart: DetectorChart, make: @escaping @Sendable (RLWatchConfig) -> any Detector
    ) {
        self.id = id
        self.summary = summary
        self.fields = [.bool("\(id.rawValue).enabled", enabled, "Run this detector.")] + fields
        self.inputs = inputs
        self.chart = chart
        isEnabled = { $0[keyPath: enabled] }
        self.make = make
    }

    /// Whether `config` runs this detector.
    public func enabled(in config: RLWatchConfig) -> Bool { isEnabled(config) }

    /// A new detector for one run, or nil when `config` disables it.
    public func makeDetector(_ config: RLWatchConfig) -> (any Detector)? {
        isEnabled(config) ? make(config) : nil
    }

    /// The names of the section's keys, `enabled` first (the README table lists them).
    public var keys: [String] { fields.map { $0.path.last ?? $0.key } }
}

/// One check of a detector and the input it needs, as `watch --explain` reports it.
public struct DetectorInput: Sendable {
    /// The check's name; nil: the detector's id.
    public let check: String?
    /// The input it reads, as named to a user (`entropy`, `clipped ratio`).
    public let name: @Sendable (InputCoverage) -> String
    /// Why the check gets no input from a log, or nil when it does.
    public let missing: @Sendable (InputCoverage) -> String?

    public init(
        check: String? = nil, name: @escaping @Sendable (InputCoverage) -> String,
        missing: @escaping @Sendable (InputCoverage) -> String?
    ) {
        self.check = check
        self.name = name
        self.missing = missing
    }

    /// A check fed by one canonical metric.
    public static func metric(_ metric: MetricName, missing why: @escaping @Sendable (InputCoverage) -> String)
        -> DetectorInput
    {
        DetectorInput(name: { _ in metric.rawValue }, missing: { $0.metrics.contains(metric) ? nil : why($0) })
    }

    /// A check fed by a framework key kept in the extras, any of `keys` (see ``MetricStep/ExtraKey``).
    public static func extra(_ name: String, keys: [String], check: String? = nil) -> DetectorInput {
        let listed = keys.prefix(4).joined(separator: ", ")
        return DetectorInput(
            check: check, name: { _ in name },
            missing: { $0.hasExtra(keys) ? nil : "none of \(listed)\(keys.count > 4 ? ", …" : "") logged" })
    }
}

/// Where a detector's alerts are drawn on the dashboard's run page.
public enum DetectorChart: Sendable {
    /// On the chart of a canonical metric (several detectors may share one).
    case metric(MetricName)
    /// On a chart of its own, of a detector input without a canonical column; a run that never logged it gets
    /// the alerts marked on `fallback`'s chart (the metric it was judged on instead).
    case input(id: String, title: String, fallback: MetricName?, value: @Sendable (MetricStep) -> Double?)
}

/// What the first steps of a log carried: the metrics and detector inputs seen, and the logged keys, so that
/// `--explain` can say which detectors are watching and why the others are not.
public struct InputCoverage: Sendable {
    public private(set) var steps = 0
    public private(set) var metrics: Set<MetricName> = []
    public private(set) var perSampleRewards = false
    /// The extras keys seen with a finite value.
    public private(set) var extras: Set<String> = []
    /// Every logged key, mapped or not.
    public private(set) var keys: Set<String> = []

    public init() {}

    public mutating func add(_ step: MetricStep) {
        steps += 1
        for metric in MetricName.allCases where step[metric] != nil { metrics.insert(metric) }
        if step.rewards?.isEmpty == false { perSampleRewards = true }
        for (key, value) in step.extras where value.isFinite { extras.insert(key) }
    }

    public mutating func add(keys: some Sequence<String>) {
        self.keys.formUnion(keys)
    }

    /// Whether any of `keys` was logged with a finite value.
    public func hasExtra(_ keys: [String]) -> Bool { keys.contains { extras.contains($0) } }

    /// Whether a reward standard deviation is logged or can be derived from per-sample rewards.
    public var rewardStd: Bool { metrics.contains(.rewardStd) || perSampleRewards }
    /// Whether a reward mean is logged or can be derived from per-sample rewards.
    public var rewardMean: Bool { metrics.contains(.rewardMean) || perSampleRewards }

    /// veRL's key prefixes.
    public var looksLikeVeRL: Bool {
        keys.contains { $0.hasPrefix("actor/") || $0.hasPrefix("critic/") || $0.hasPrefix("response_length/") }
    }
    /// TRL's keys.
    public var looksLikeTRL: Bool {
        keys.contains {
            !($0.hasPrefix("actor/") || $0.hasPrefix("critic/") || $0.hasPrefix("response_length/"))
                && ($0 == "frac_reward_zero_std" || $0.hasPrefix("completions/") || $0.hasPrefix("rewards/")
                    || $0.hasPrefix("objective/"))
        }
    }
}

/// Settings of a detector whose section is not a stored property of ``RLWatchConfig``: they live in its
/// ``RLWatchConfig/detectorSettings``, keyed by type, so a new detector adds its settings without touching the
/// config's declaration (it declares a computed property in an extension, in its own file).
public protocol DetectorSettings: Sendable, Hashable {
    init()
}

/// The settings of the detectors that keep theirs in ``DetectorSettings`` values, by type; a type never set reads
/// as its defaults.
public struct DetectorSettingsStore: Sendable, Hashable {
    private var values: [ObjectIdentifier: Box] = [:]

    public init() {}

    public subscript<Settings: DetectorSettings>(_ type: Settings.Type) -> Settings {
        get { values[ObjectIdentifier(type)]?.value as? Settings ?? Settings() }
        set { values[ObjectIdentifier(type)] = newValue == Settings() ? nil : Box(value: newValue) }
    }

    /// One settings value, compared and hashed through its own type.
    private struct Box: Sendable, Hashable {
        let value: any DetectorSettings

        static func == (lhs: Box, rhs: Box) -> Bool {
            func equal<T: DetectorSettings>(_ left: T) -> Bool { (rhs.value as? T) == left }
            return equal(lhs.value)
        }

        func hash(into hasher: inout Hasher) { value.hash(into: &hasher) }
    }
}

extension RLWatchConfig {
    /// The settings of a detector kept in ``detectorSettings``.
    public subscript<Settings: DetectorSettings>(settings type: Settings.Type) -> Settings {
        get { detectorSettings[type] }
        set { detectorSettings[type] = newValue }
    }
}

/// The single list of detectors rlwatch runs, in evaluation order (and in the config file's, the docs' and the
/// dashboard's order).
///
/// A disabled detector is not constructed at all, so it keeps no state and can never alert.
public enum DetectorRegistry {
    public static let descriptors: [DetectorDescriptor] = [
        EntropyCollapseDetector.descriptor,
        KLExplosionDetector.descriptor,
        RewardHackingDetector.descriptor,
        AdvantageVarianceDetector.descriptor,
        LossNaNDetector.descriptor,
        GradientNormSpikeDetector.descriptor,
        RewardMeanDriftDetector.descriptor,
        EntropyExplosionDetector.descriptor,
        LearningSignalDeadDetector.descriptor,
        LengthTruncationDetector.descriptor,
        RolloutMismatchDetector.descriptor,
        ImportanceRatioDetector.descriptor,
        ClipSaturationDetector.descriptor,
        ValueDivergenceDetector.descriptor,
        LengthHackingDetector.descriptor,
        ComponentHackingDetector.descriptor,
        StalenessDetector.descriptor,
        RewardStagnationDetector.descriptor,
    ]

    public static func makeDetectors(_ config: RLWatchConfig) -> [any Detector] {
        descriptors.compactMap { $0.makeDetector(config) }
    }

    public static func descriptor(_ id: DetectorID) -> DetectorDescriptor? {
        descriptors.first { $0.id == id }
    }

    /// The README's table of the detectors' config sections, derived from the descriptors (a test keeps the
    /// README's copy equal to it): each section's summary and its keys with their defaults.
    public static func markdownTable() -> String {
        let defaults = RLWatchConfig()
        var lines = ["| section | watches | keys (defaults) |", "|---|---|---|"]
        for descriptor in descriptors {
            let keys = descriptor.fields.map { field in
                "`\(field.path.last ?? field.key)` \(Self.markdown(field.get(defaults)))"
            }
            lines.append("| `\(descriptor.section)` | \(descriptor.summary) | \(keys.joined(separator: ", ")) |")
        }
        return lines.joined(separator: "\n")
    }

    private static func markdown(_ value: ConfigFieldValue) -> String {
        switch value {
        case .bool(let value): "\(value)"
        case .int(let value): "\(value)"
        case .double(let value): formatNumber(value)
        case .string(let value): value
        case .strings(let values): "[" + values.joined(separator: ", ") + "]"
        case .stringMap(let map): "{" + map.keys.sorted().joined(separator: ", ") + "}"
        case .null: "unset"
        }
    }
}
