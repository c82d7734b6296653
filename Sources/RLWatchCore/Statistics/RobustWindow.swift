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

/// The last `capacity` finite values of a series, with their median, MAD and 90th percentile.
///
/// The values are kept twice: in arrival order (a ring, to know which one leaves) and sorted (one binary search
/// and one `memmove` of at most `capacity` values per append). The median and percentile are then lookups, and
/// the MAD a merge walk over the deviations on either side of the median, which are already sorted — no sort
/// per observation. With the default window of 100 a spike detector's step costs tens of nanoseconds here.
public struct RobustWindow: Sendable {
    public let capacity: Int
    private var ring: [Double] = []
    private var head = 0
    private var sorted: [Double] = []
    private var cached: RobustStats?

    public init(capacity: Int) {
        self.capacity = max(1, capacity)
        ring.reserveCapacity(self.capacity)
        sorted.reserveCapacity(self.capacity)
    }

    public var count: Int { ring.count }
    public var isFull: Bool { ring.count == capacity }

    /// Appends a finite value, evicting the oldest when the window is full.
    public mutating func append(_ value: Double) {
        if ring.count < capacity {
            ring.append(value)
        } else {
            let old = ring[head]
            ring[head] = value
            head = (head + 1) % capacity
            sorted.remove(at: Self.index(of: old, in: sorted))
        }
        sorted.insert(value, at: Self.insertionIndex(of: value, in: sorted))
        cached = nil
    }

    /// The median and 90th percentile, by lookup (no MAD): enough to rule out most values without ``stats()``.
    public var levels: (median: Double, upper: Double)? {
        guard !sorted.isEmpty else { return nil }
        let n = sorted.count
        let median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
        return (median, sorted[min(n - 1, (n * 9) / 10)])
    }

    /// The median, scale and 90th percentile of the values, or nil for an empty window.
    public mutating func stats() -> RobustStats? {
        if let cached { return cached }
        guard !sorted.isEmpty else { return nil }
        let n = sorted.count
        let median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
        let mad = Self.medianDeviation(sorted, around: median)
        let stats = RobustStats(
            median: median, scale: 1.4826 * mad, count: n, upper: sorted[min(n - 1, (n * 9) / 10)])
        cached = stats
        return stats
    }

    /// The median of |x − `median`| over a sorted array: the deviations below the median, read from the middle
    /// outwards, and those above it are each sorted, so the middle one is found by merging the two walks.
    static func medianDeviation(_ sorted: [Double], around median: Double) -> Double {
        let n = sorted.count
        // `low` walks down from the last value below the median, `high` up from the first at or above it.
        var high = insertionIndex(of: median, in: sorted)
        var low = high - 1
        var previous = 0.0
        var current = 0.0
        for rank in 0...(n / 2) {
            let below = low >= 0 ? median - sorted[low] : .infinity
            let above = high < n ? sorted[high] - median : .infinity
            previous = current
            if below <= above {
                current = below
                low -= 1
            } else {
                current = above
                high += 1
            }
            if rank == n / 2 { break }
        }
        return n % 2 == 1 ? current : (previous + current) / 2
    }

    /// The first index whose value is not less than `value`.
    static func insertionIndex(of value: Double, in sorted: [Double]) -> Int {
        var low = 0
        var high = sorted.count
        while low < high {
            let middle = (low + high) / 2
            if sorted[middle] < value { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// The index of an element equal to `value` (it is there: it was inserted earlier).
    static func index(of value: Double, in sorted: [Double]) -> Int {
        min(insertionIndex(of: value, in: sorted), sorted.count - 1)
    }
}
