/// The per-function reward components a run logs, found once and then read by name.
///
/// TRL logs each reward function's batch mean as `rewards/<fn>/mean` (≥ 0.16; `rewards/<fn>/std` beside it) or
/// `rewards/<fn>` (older releases and Unsloth notebooks); the total is `reward`. Nothing else names the
/// components the same way, so they are found by that shape among the extras: scanning them every step would cost
/// far more than the detectors do, so a scan happens only when the number of extras a row carries changes (the same
/// trainer logs the same keys every step). A component is never forgotten once seen, so its index is stable for
/// the detectors' per-component state.
///
/// A key whose function name contains `total` is the run's own sum of the others, not a component (the real
/// med-record run logs `rewards/reward_fn_total/mean` beside its four parts); `rewards/mean` and `rewards/std`
/// are the reward itself.
struct RewardComponents: Sendable {
    /// The components' function names, in the order first seen.
    private(set) var names: [String] = []
    /// The logged key of each component.
    private(set) var keys: [String] = []
    /// Whether each component's name reads as the task's own success signal (see ``isTaskName(_:)``).
    private(set) var isTask: [Bool] = []
    private var scannedCount = -1

    /// The components' values on `step` (nil where a row lacks one or it is not finite), rescanning the keys when
    /// the row's number of extras differs from the last scanned row's.
    mutating func values(_ step: MetricStep, into buffer: inout [Double?]) {
        if step.extras.count != scannedCount {
            scannedCount = step.extras.count
            scan(step.extras.keys)
        }
        buffer.removeAll(keepingCapacity: true)
        for key in keys { buffer.append(finite(step.extras[key])) }
    }

    private mutating func scan(_ candidates: some Sequence<String>) {
        for key in candidates {
            guard let name = Self.componentName(key), !keys.contains(key), !names.contains(name) else { continue }
            names.append(name)
            keys.append(key)
            isTask.append(Self.isTaskName(name))
        }
    }

    /// The reward function's name when `key` is a per-component reward key, or nil.
    static func componentName(_ key: String) -> String? {
        guard key.hasPrefix("rewards/") else { return nil }
        var rest = key.dropFirst("rewards/".count)
        if rest.hasSuffix("/mean") { rest = rest.dropLast("/mean".count) }
        guard !rest.isEmpty, !rest.contains("/"), rest != "mean", rest != "std" else { return nil }
        let name = String(rest)
        return name.lowercased().contains("total") ? nil : name
    }

    /// Words that name a task-success reward (correctness, accuracy, exact match, tests passed): the reward the
    /// others are meant to serve. Format, length, reasoning-step or style rewards are the ones a policy can game.
    static let taskWords = ["correct", "accura", "answer", "exact", "pass", "solve", "success", "verif", "score"]

    /// Whether a reward function's name reads as the task's success signal (`correctness_reward_func`,
    /// `accuracy_reward`, `exact_match`, `acc`).
    static func isTaskName(_ name: String) -> Bool {
        let lower = name.lowercased()
        if taskWords.contains(where: { lower.contains($0) }) { return true }
        return lower.split(whereSeparator: { !$0.isLetter }).contains("acc")
    }
}

/// The first `count` observations of a few series, then each one's median and spread, fixed once collected.
///
/// The per-series counterpart of ``EarlyMedian`` for detectors that compare several inputs with their own
/// start (the length and the reward components): a series missing on a row simply collects fewer values.
struct EarlyLevels: Sendable {
    let count: Int
    private var rows = 0
    private var samples: [[Double]] = []
    /// Each series' median and population standard deviation, once `count` rows were collected (nil for a series
    /// that had no value in them).
    private(set) var levels: [(median: Double, spread: Double)?]?

    init(count: Int) { self.count = max(2, count) }

    /// Adds a row of the series (extra series may appear later; they get no early level).
    mutating func add(_ row: [Double?]) {
        guard levels == nil else { return }
        while samples.count < row.count { samples.append([]) }
        for (index, value) in row.enumerated() { if let value { samples[index].append(value) } }
        rows += 1
        guard rows >= count else { return }
        levels = samples.map { values in
            values.isEmpty ? nil : (EarlyMedian.median(values), Self.spread(values))
        }
        samples = []
    }

    /// The early level of series `index`, if it had one.
    func level(_ index: Int) -> (median: Double, spread: Double)? {
        guard let levels, index < levels.count else { return nil }
        return levels[index]
    }

    static func spread(_ values: [Double]) -> Double {
        let mean = values.reduce(0, +) / Double(values.count)
        return (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)).squareRoot()
    }
}

/// Pearson's correlation of two equally long series; 0 when either is constant (nothing to explain).
func pearsonCorrelation(_ x: ArraySlice<Double>, _ y: ArraySlice<Double>) -> Double {
    let count = Double(min(x.count, y.count))
    guard count >= 3 else { return 0 }
    var sumX = 0.0, sumY = 0.0
    for (a, b) in zip(x, y) {
        sumX += a
        sumY += b
    }
    let meanX = sumX / count, meanY = sumY / count
    var sxx = 0.0, syy = 0.0, sxy = 0.0
    for (a, b) in zip(x, y) {
        sxx += (a - meanX) * (a - meanX)
        syy += (b - meanY) * (b - meanY)
        sxy += (a - meanX) * (b - meanY)
    }
    guard sxx > 0, syy > 0 else { return 0 }
    return sxy / (sxx * syy).squareRoot()
}
