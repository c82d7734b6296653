import RLWatchCore

/// Collects the values of one logged step and resolves framework aliases into a ``MetricStep``.
///
/// A value for a canonical metric replaces the one already collected only when its key has the same or
/// a better (lower) priority in ``FrameworkKeyMap``, so the result does not depend on key order; a repeated
/// key keeps its last value, as JSON parsers do. Values of unmapped keys go into ``MetricStep/extras``.
public struct MetricStepBuilder: Sendable {
    private var metrics = MetricStep(step: 0)
    /// Four bits per canonical metric (in ``MetricName/allCases`` order): the priority of the value
    /// collected so far, or `0xF` when none was. Alias lists are shorter than 15 keys.
    private var priorities: UInt64 = .max
    private var extras: [String: Double] = [:]
    /// How many extras to make room for when the first one arrives.
    private var extrasCapacity = 0
    /// The per-sample rewards of the step.
    public var rewards: [Double]?

    public init() {}

    /// Adds a value under its logged key.
    public mutating func add(key: String, value: Double) {
        if let binding = FrameworkKeyMap.binding(forKey: key) {
            add(binding, value: value)
        } else {
            addExtra(key: key, value: value)
        }
    }

    /// Adds a value for a canonical metric, unless a better-priority alias already gave one.
    @inline(__always)
    public mutating func add(_ binding: FrameworkKeyMap.Binding, value: Double) {
        let shift = UInt64(binding.slot &* 4)
        let current = (priorities >> shift) & 0xF
        let priority = UInt64(binding.priority)
        guard priority <= current else { return }
        priorities = (priorities & ~(0xF << shift)) | (priority << shift)
        metrics[binding.metric] = binding.transform.apply(value)
    }

    /// Adds a value that is not a canonical metric.
    @inline(__always)
    public mutating func addExtra(key: String, value: Double) {
        if extras.isEmpty, extrasCapacity > 1 {
            // `Dictionary(minimumCapacity:)` is inlined; `reserveCapacity` is an unspecialised call.
            extras = Dictionary(minimumCapacity: extrasCapacity)
            extrasCapacity = 0
        }
        extras[key] = value
    }

    /// Makes room for `count` extras when the first one is added, to avoid rehashing while they are.
    public mutating func reserveExtras(_ count: Int) {
        extrasCapacity = count
    }

    /// The step with everything collected so far.
    public func build(step: Int) -> MetricStep {
        var result = metrics
        result.step = step
        result.rewards = rewards
        result.extras = extras
        return result
    }
}
