/// Chooses which points of a long series to draw, so that a 100k-step run costs a few thousand points per chart.
///
/// Min/max buckets rather than LTTB: the series is cut into `buckets` runs of consecutive rows, and each bucket
/// keeps its first and last point and its smallest and largest finite value. A one-step spike is therefore always
/// drawn at its true height (LTTB keeps it only when it happens to win the triangle-area test), and the line never
/// looks smoother than the data. On top of that the sampler keeps every point it is told to (the steps where an
/// alert fired, so each marker sits on a drawn point) and the first non-finite point of each bucket (drawn as a
/// NaN/Inf marker).
public enum Downsampler {
    /// The indices of the points to draw, ascending.
    ///
    /// - Parameters:
    ///   - count: the number of points in the series.
    ///   - buckets: about half the number of points to return; series of up to `4 × buckets` points are kept whole.
    ///   - keep: indices that must be kept whatever their value.
    ///   - value: the value at an index; nil for a row where the metric was not logged (never drawn).
    /// - Returns: ascending indices of points that have a value, plus every index in `keep`.
    public static func indices(
        count: Int, buckets: Int, keep: Set<Int> = [], value: (Int) -> Double?
    ) -> [Int] {
        guard count > 0 else { return [] }
        if count <= max(1, buckets) * 4 {
            return (0..<count).filter { value($0) != nil || keep.contains($0) }
        }
        var chosen = Set<Int>(keep.filter { $0 >= 0 && $0 < count })
        let size = (count + buckets - 1) / buckets
        var start = 0
        while start < count {
            let end = min(count, start + size)
            var first: Int?
            var last: Int?
            var low: (index: Int, value: Double)?
            var high: (index: Int, value: Double)?
            var nonFinite: Int?
            for index in start..<end {
                guard let v = value(index) else { continue }
                if first == nil { first = index }
                last = index
                if v.isFinite {
                    if low.map({ v < $0.value }) ?? true { low = (index, v) }
                    if high.map({ v > $0.value }) ?? true { high = (index, v) }
                } else if nonFinite == nil {
                    nonFinite = index
                }
            }
            for index in [first, last, low?.index, high?.index, nonFinite] {
                if let index { chosen.insert(index) }
            }
            start = end
        }
        return chosen.sorted()
    }
}
