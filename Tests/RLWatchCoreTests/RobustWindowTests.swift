import RLWatchCore
import RLWatchTesting
import Testing

@Suite struct RobustWindowTests {
    /// The statistics by brute force: sort, take the middle, sort the deviations, take their middle.
    static func reference(_ values: [Double]) -> (median: Double, mad: Double, upper: Double) {
        func median(_ v: [Double]) -> Double {
            let s = v.sorted()
            return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
        }
        let m = median(values)
        let sorted = values.sorted()
        return (m, median(values.map { abs($0 - m) }), sorted[min(sorted.count - 1, sorted.count * 9 / 10)])
    }

    @Test(arguments: [1, 2, 3, 7, 20, 100])
    func matchesABruteForceComputationAsTheWindowSlides(capacity: Int) throws {
        var rng = SeededRandom(seed: UInt64(capacity))
        var window = RobustWindow(capacity: capacity)
        var kept: [Double] = []
        for i in 0..<500 {
            // Ties, spikes and negative values included.
            let value = i % 17 == 0 ? 1e6 : (i % 5 == 0 ? 0.25 : rng.gaussian(mean: 0, std: 1))
            window.append(value)
            kept.append(value)
            if kept.count > capacity { kept.removeFirst() }
            let current = window.stats()
            let stats = try #require(current)
            let expected = Self.reference(kept)
            #expect(stats.count == kept.count)
            #expect(stats.median == expected.median, "after \(i)")
            #expect(abs(stats.scale - 1.4826 * expected.mad) <= 1e-12 * max(1, expected.mad), "after \(i)")
            #expect(stats.upper == expected.upper, "after \(i)")
        }
    }

    @Test func oneSpikeDoesNotMoveTheBaseline() throws {
        var window = RobustWindow(capacity: 100)
        for i in 0..<99 { window.append(0.05 + 0.001 * Double(i % 7)) }
        let beforeStats = window.stats()
        let before = try #require(beforeStats)
        window.append(36_108)
        let afterStats = window.stats()
        let after = try #require(afterStats)
        #expect(abs(after.median - before.median) < 0.002)
        #expect(after.scale < 0.01)
    }
}
