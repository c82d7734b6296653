/// Hartigan's dip test of unimodality: the dip statistic and its p-value under the uniform null.
///
/// The dip of a sample is the largest distance, over all x, between its empirical distribution
/// function and the unimodal distribution function closest to it (Hartigan & Hartigan 1985, "The dip
/// test of unimodality", Annals of Statistics 13(1)). It is computed here with the algorithm of
/// Hartigan (1985, Applied Statistics 34, algorithm AS 217), written from the papers' description:
/// starting from the whole sample, take the greatest convex minorant (GCM) and least concave majorant
/// (LCM) of the empirical CDF on the current modal interval; where they are furthest apart lies the
/// mode, so narrow the interval to that place, add what the GCM left of it and the LCM right of it
/// miss of the CDF to the dip, and repeat until the two hulls are no further apart than the dip found
/// so far.
///
/// Values follow the paper (and R's `diptest::dip` default): a sample with at least two distinct
/// values has a dip of at least 1/(2n), two equal point masses have 0.25, samples from a unimodal
/// density have a dip of order 1/√n. Fewer than four values or all-equal values give 0.
///
/// The p-value is P(dip ≥ observed) for n independent uniform values (the least favourable unimodal
/// null, so the test is conservative for other unimodal shapes), read from `DipTable`, a table of
/// Monte Carlo quantiles made by the `rlwatch-dip-table` generator with this file's `statistic`.
public enum DipTest {
    /// How many `Int`s of scratch `statistic(sorted:scratch:)` needs for `count` samples.
    ///
    /// Exposed so a caller on a hot path can allocate once and reuse the buffer.
    public static func scratchCount(forSampleCount count: Int) -> Int { 4 * max(count, 0) }

    /// The dip of a sample that is already sorted ascending and holds only finite values.
    ///
    /// Runs in about linear time. Its scratch (4n integers) is one temporary allocation per call, on
    /// the stack where the platform can prove it safe and on the heap otherwise (Linux, above 1 KiB);
    /// `statistic(sorted:scratch:)` avoids even that.
    /// - Parameter sorted: the sample, sorted ascending, every value finite.
    /// - Returns: the dip in [1/(2n), 0.25]; 0 for fewer than four values or all-equal values.
    public static func statistic(sorted: UnsafeBufferPointer<Double>) -> Double {
        guard isTestable(sorted) else { return 0 }
        let capacity = scratchCount(forSampleCount: sorted.count)
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: capacity) { scratch in
            dipInCounts(sorted, scratch) / Double(2 * sorted.count)
        }
    }

    /// The dip of a sorted, finite sample, using caller-provided scratch memory.
    ///
    /// The same computation as `statistic(sorted:)`, for callers that keep one buffer across calls
    /// and so never allocate, such as a detector running the test on every step.
    /// - Parameters:
    ///   - sorted: the sample, sorted ascending, every value finite.
    ///   - scratch: at least `scratchCount(forSampleCount: sorted.count)` integers; contents are
    ///     overwritten.
    /// - Returns: the dip in [1/(2n), 0.25]; 0 for fewer than four values or all-equal values.
    public static func statistic(sorted: UnsafeBufferPointer<Double>, scratch: UnsafeMutableBufferPointer<Int>)
        -> Double
    {
        guard isTestable(sorted) else { return 0 }
        precondition(
            scratch.count >= scratchCount(forSampleCount: sorted.count),
            "DipTest scratch holds \(scratch.count) integers; \(sorted.count) samples need "
                + "\(scratchCount(forSampleCount: sorted.count))")
        return dipInCounts(sorted, scratch) / Double(2 * sorted.count)
    }

    /// The dip of the finite values of `samples`, in any order.
    ///
    /// NaN and ±∞ are dropped rather than poisoning the statistic: a detector's buffer should not
    /// lose its test to one bad reward.
    /// - Returns: the dip of the finite values; 0 when fewer than four remain or all are equal.
    public static func statistic(_ samples: [Double]) -> Double {
        let sorted = samples.filter(\.isFinite).sorted()
        return sorted.withUnsafeBufferPointer { statistic(sorted: $0) }
    }

    /// P(dip ≥ `dip`) for `n` independent uniform values, interpolated from `DipTable`.
    ///
    /// √n·dip is nearly independent of n, so each tabulated row of quantiles is scaled by √size and
    /// the two rows around n are interpolated linearly in n; √n·dip is then located in that row by
    /// piecewise-linear interpolation between probability levels. Where a stretch of the row is flat
    /// (small n, where the minimal dip 1/(2n) has positive probability) the lowest level reaching the
    /// dip is used, which keeps the p-value conservative. Beyond the largest tabulated size the last
    /// row is used.
    /// - Parameters:
    ///   - dip: a dip as returned by `statistic`.
    ///   - n: the number of values the dip was computed on.
    /// - Returns: a p-value in [0, 1]: 1 at or below the smallest simulated dip (and for n < 4 or a NaN
    ///   dip), 0 above the largest, meaning below one over the table's replication count.
    public static func pValue(dip: Double, n: Int) -> Double {
        guard n >= 4, !dip.isNaN else { return 1 }
        let sizes = DipTable.sampleSizes
        let levels = DipTable.probabilities
        let quantiles = DipTable.quantiles
        let upperRow = sizes.firstIndex { $0 >= n } ?? sizes.count - 1
        let lowerRow = sizes[upperRow] > n && upperRow > 0 ? upperRow - 1 : upperRow
        let lowerSize = Double(sizes[lowerRow])
        let upperSize = Double(sizes[upperRow])
        let weight = upperRow == lowerRow ? 0 : (Double(n) - lowerSize) / (upperSize - lowerSize)
        let lowerScale = (1 - weight) * lowerSize.squareRoot()
        let upperScale = weight * upperSize.squareRoot()

        func scaledQuantile(_ level: Int) -> Double {
            lowerScale * quantiles[lowerRow * levels.count + level]
                + upperScale * quantiles[upperRow * levels.count + level]
        }

        let scaledDip = Double(n).squareRoot() * dip
        var previous = scaledQuantile(0)
        if scaledDip <= previous { return 1 }
        for level in 1..<levels.count {
            let current = scaledQuantile(level)
            if scaledDip <= current {
                // previous < scaledDip <= current, so the denominator is positive.
                let fraction = (scaledDip - previous) / (current - previous)
                let probability = levels[level - 1] + fraction * (levels[level] - levels[level - 1])
                return min(1, max(0, 1 - probability))
            }
            previous = current
        }
        return 0
    }

    /// The dip of the finite values of `samples` and its p-value.
    ///
    /// - Returns: the dip and P(dip ≥ observed) under the uniform null, for the finite values only.
    public static func test(_ samples: [Double]) -> (dip: Double, pValue: Double) {
        let sorted = samples.filter(\.isFinite).sorted()
        let dip = sorted.withUnsafeBufferPointer { statistic(sorted: $0) }
        return (dip, pValue(dip: dip, n: sorted.count))
    }

    /// Whether the dip is defined beyond its trivial value 0: four or more values, not all equal.
    private static func isTestable(_ sorted: UnsafeBufferPointer<Double>) -> Bool {
        sorted.count >= 4 && sorted[0] < sorted[sorted.count - 1]
    }

    /// Twice n times the dip: the dip measured in sample counts and doubled, as the algorithm works.
    ///
    /// Counting in samples keeps every hull vertex an exact integer. Point i (0-based) of the sorted
    /// sample contributes (x[i], i) to the lower hull (the GCM, below the CDF's left limits) and
    /// (x[i], i + 1) to the upper hull (the LCM, above the CDF); tied values stack vertically, which
    /// the hull predicates below handle without division. Every distance between the hulls, or
    /// between a hull and the CDF, is at least one count, which is why the dip starts at one
    /// (1/(2n)).
    ///
    /// The loops index through unsafe pointers, so every index is kept in bounds by construction and
    /// the modal interval must strictly shrink each round; that also makes the loop finish on input
    /// that breaks the sorted-and-finite contract, if with a meaningless value.
    private static func dipInCounts(_ x: UnsafeBufferPointer<Double>, _ scratch: UnsafeMutableBufferPointer<Int>)
        -> Double
    {
        let n = x.count
        // convexPrevious[j]: the vertex before j on the lower convex hull of points 0...j.
        let convexPrevious = UnsafeMutableBufferPointer(rebasing: scratch[0..<n])
        // concaveNext[j]: the vertex after j on the upper concave hull of points j..<n.
        let concaveNext = UnsafeMutableBufferPointer(rebasing: scratch[n..<(2 * n)])
        // GCM vertices of the current modal interval, from its upper end down to its lower end.
        let minorant = UnsafeMutableBufferPointer(rebasing: scratch[(2 * n)..<(3 * n)])
        // LCM vertices of the current modal interval, from its lower end up to its upper end.
        let majorant = UnsafeMutableBufferPointer(rebasing: scratch[(3 * n)..<(4 * n)])

        // Both hulls for every prefix (suffix) at once: a vertex stays only if the hull turns
        // strictly at it. Cross-multiplied slopes keep ties (zero x-differences) exact.
        convexPrevious[0] = 0
        for j in 1..<n {
            var p = j - 1
            while p > 0 {
                let q = convexPrevious[p]
                if Double(p - q) * (x[j] - x[p]) < Double(j - p) * (x[p] - x[q]) { break }
                p = q
            }
            convexPrevious[j] = p
        }
        concaveNext[n - 1] = n - 1
        for j in stride(from: n - 2, through: 0, by: -1) {
            var p = j + 1
            while p < n - 1 {
                let r = concaveNext[p]
                if Double(r - p) * (x[p] - x[j]) < Double(p - j) * (x[r] - x[p]) { break }
                p = r
            }
            concaveNext[j] = p
        }

        var low = 0
        var high = n - 1
        var dip = 1.0
        while true {
            // The hulls restricted to [low, high]: both ends are vertices of the hulls that contain
            // them, so following the links from one end reaches the other.
            var minorantCount = 1
            minorant[0] = high
            while minorant[minorantCount - 1] > low {
                minorant[minorantCount] = convexPrevious[minorant[minorantCount - 1]]
                minorantCount += 1
            }
            var majorantCount = 1
            majorant[0] = low
            while majorant[majorantCount - 1] < high {
                majorant[majorantCount] = concaveNext[majorant[majorantCount - 1]]
                majorantCount += 1
            }

            // LCM − GCM is concave, so its maximum sits at a vertex of one of the hulls: walk the
            // inner vertices of both in ascending order. The widest place becomes the new modal
            // interval, bounded by the hull segment around that vertex (the later one on ties).
            var widest = 1.0
            var newLowSlot = minorantCount - 1
            var newHighSlot = majorantCount - 1
            var g = minorantCount - 2
            var l = 1
            while g >= 1 || l <= majorantCount - 2 {
                let minorantVertex = g >= 1 ? minorant[g] : high
                let majorantVertex = l <= majorantCount - 2 ? majorant[l] : high
                if minorantVertex <= majorantVertex {
                    // A GCM vertex, under the LCM segment majorant[l - 1] ... majorant[l].
                    let a = majorant[l - 1]
                    let b = majorant[l]
                    let v = minorantVertex
                    let gap = Double(b + 1 - v) - Double(b - a) * (x[b] - x[v]) / (x[b] - x[a])
                    if gap >= widest {
                        widest = gap
                        newLowSlot = g
                        newHighSlot = l
                    }
                    g -= 1
                } else {
                    // An LCM vertex, above the GCM segment minorant[g + 1] ... minorant[g].
                    let a = minorant[g + 1]
                    let b = minorant[g]
                    let v = majorantVertex
                    let gap = Double(v + 1 - a) - Double(b - a) * (x[v] - x[a]) / (x[b] - x[a])
                    if gap >= widest {
                        widest = gap
                        newLowSlot = g + 1
                        newHighSlot = l
                    }
                    l += 1
                }
            }
            // A unimodal fit on [low, high] within the dip so far exists: done.
            if widest <= dip { break }

            // Left of the new interval the fit follows the GCM, right of it the LCM: what they miss
            // of the CDF there is part of the dip.
            var slot = minorantCount - 1
            while slot > newLowSlot {
                let a = minorant[slot]
                let b = minorant[slot - 1]
                if b - a > 1 {
                    let slope = Double(b - a) / (x[b] - x[a])
                    for k in (a + 1)..<b {
                        dip = max(dip, Double(k - a + 1) - (x[k] - x[a]) * slope)
                    }
                }
                slot -= 1
            }
            slot = majorantCount - 1
            while slot > newHighSlot {
                let a = majorant[slot - 1]
                let b = majorant[slot]
                if b - a > 1 {
                    let slope = Double(b - a) / (x[b] - x[a])
                    for k in (a + 1)..<b {
                        dip = max(dip, Double(b - k + 1) - (x[b] - x[k]) * slope)
                    }
                }
                slot -= 1
            }

            let newLow = minorant[newLowSlot]
            let newHigh = majorant[newHighSlot]
            guard low <= newLow, newLow < newHigh, newHigh <= high, newLow != low || newHigh != high else { break }
            low = newLow
            high = newHigh
        }
        return dip
    }
}
