/// The last `capacity` finite values of a series, with their mean and population standard deviation
/// available in O(1).
///
/// Sums are kept relative to a shift close to the window's mean (so the variance does not cancel
/// catastrophically for series with a large offset) and recomputed exactly every `capacity`
/// appends, which bounds floating-point drift from the running updates.
public struct SlidingWindow: Sendable {
    public let capacity: Int
    private var storage: [Double]
    private var head = 0
    public private(set) var count = 0
    private var shift = 0.0
    private var sum = 0.0
    private var sumOfSquares = 0.0
    /// How many values in the window are not exactly zero.
    public private(set) var nonZeroCount = 0
    private var appendsSinceRecompute = 0

    public init(capacity: Int) {
        self.capacity = max(1, capacity)
        storage = []
        storage.reserveCapacity(self.capacity)
    }

    public var isFull: Bool { count == capacity }

    /// Appends a value, evicting the oldest one when the window is full. Callers pass finite values only.
    public mutating func append(_ value: Double) {
        if count == 0 && appendsSinceRecompute == 0 { shift = value }
        if storage.count < capacity {
            storage.append(value)
            count += 1
        } else {
            let old = storage[head]
            storage[head] = value
            head = (head + 1) % capacity
            let d = old - shift
            sum -= d
            sumOfSquares -= d * d
            if old != 0 { nonZeroCount -= 1 }
        }
        let d = value - shift
        sum += d
        sumOfSquares += d * d
        if value != 0 { nonZeroCount += 1 }
        appendsSinceRecompute += 1
        if appendsSinceRecompute >= capacity { recompute() }
    }

    private mutating func recompute() {
        appendsSinceRecompute = 0
        guard count > 0 else { return }
        var total = 0.0
        for value in storage { total += value }
        shift = total / Double(count)
        sum = 0
        sumOfSquares = 0
        for value in storage {
            let d = value - shift
            sum += d
            sumOfSquares += d * d
        }
    }

    public var mean: Double { count > 0 ? shift + sum / Double(count) : .nan }

    public var populationVariance: Double {
        guard count > 1 else { return 0 }
        let n = Double(count)
        return max(0, (sumOfSquares - sum * sum / n) / n)
    }

    public var populationStd: Double { populationVariance.squareRoot() }
}
