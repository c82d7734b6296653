/// Count, mean and population variance of a set of values, computed in one pass (Welford).
///
/// Welford's update keeps the variance accurate for values with a large common offset, where the
/// naive sum-of-squares formula cancels catastrophically.
public struct Moments: Sendable, Hashable {
    public private(set) var count: Int = 0
    public private(set) var mean: Double = 0
    private var m2: Double = 0

    public init() {}

    /// The moments of the finite elements of `values`; NaN and ±∞ are skipped.
    ///
    /// Two passes (sum, then squared deviations from the mean) instead of Welford's per-element division:
    /// as accurate for a whole array, and several times faster on the 256-reward path.
    public init(finiteValuesOf values: [Double]) {
        var total = 0.0
        var n = 0
        for value in values where value.isFinite {
            total += value
            n += 1
        }
        guard n > 0 else { return }
        let mean = total / Double(n)
        var squares = 0.0
        for value in values where value.isFinite {
            let d = value - mean
            squares += d * d
        }
        count = n
        self.mean = mean
        m2 = squares
    }

    public mutating func add(_ value: Double) {
        count += 1
        let delta = value - mean
        mean += delta / Double(count)
        m2 += delta * (value - mean)
    }

    /// Population variance (divide by n), 0 for fewer than two values.
    public var populationVariance: Double { count > 1 ? max(0, m2 / Double(count)) : 0 }
    /// Population standard deviation (divide by n), as numpy's `std` computes it.
    public var populationStd: Double { populationVariance.squareRoot() }
}
