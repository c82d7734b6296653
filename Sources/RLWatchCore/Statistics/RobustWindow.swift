/// Median and spread of a window of observations, robust to outliers.
public struct RobustStats: Sendable, Hashable {
    /// The median of the window.
    public var median: Double
    /// 1.4826 × the median absolute deviation: the standard deviation for normal data, but one spike in a
    /// hundred values cannot move it (a mean and standard deviation follow a single 36,108 KL value for a
    /// whole window and hide the next spike).
    public var scale: Double
    public var count: Int
    /// The 90th percentile of the window: the top of its ordinary range.
    public var upper: Double = .nan
}

/// The last `capacity` finite values of a series, with their median and MAD.
///
/// Statistics are recomputed from the values (a sort of at most `capacity` values) only when they are asked
/// for after a change, so a detector that judges every observation pays one sort per observation; with the
/// default window of 100 that is about a microsecond.
public struct RobustWindow: Sendable {
    public let capacity: Int
    private var storage: [Double] = []
    private var head = 0
    private var scratch: [Double] = []
    private var cached: RobustStats?

    public init(capacity: Int) {
        self.capacity = max(1, capacity)
        storage.reserveCapacity(self.capacity)
        scratch.reserveCapacity(self.capacity)
    }

    public var count: Int { storage.count }
    public var isFull: Bool { storage.count == capacity }

    /// Appends a finite value, evicting the oldest when the window is full.
    public mutating func append(_ value: Double) {
        if storage.count < capacity {
            storage.append(value)
        } else {
            storage[head] = value
            head = (head + 1) % capacity
        }
        cached = nil
    }

    /// The median and scale of the values, or nil for an empty window.
    public mutating func stats() -> RobustStats? {
        if let cached { return cached }
        guard !storage.isEmpty else { return nil }
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: storage)
        scratch.sort()
        let median = Self.sortedMedian(scratch)
        let upper = scratch[min(scratch.count - 1, (scratch.count * 9) / 10)]
        for index in scratch.indices { scratch[index] = abs(scratch[index] - median) }
        scratch.sort()
        let stats = RobustStats(
            median: median, scale: 1.4826 * Self.sortedMedian(scratch), count: storage.count, upper: upper)
        cached = stats
        return stats
    }

    static func sortedMedian(_ sorted: [Double]) -> Double {
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}
