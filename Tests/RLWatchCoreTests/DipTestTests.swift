import RLWatchTesting
import Testing

@testable import RLWatchCore

@Suite struct DipTestTests {
    // MARK: - Exact values

    /// Two point masses with weights w ≤ 1 − w: a unimodal fit has its only jump at the mode, so the
    /// other atom's jump must be straddled by a continuous curve, which misses it by at least half its
    /// height; putting the mode at the heavier atom, the fit misses the lighter one by exactly w/2. With
    /// k of n values at one point, the dip is min(k, n − k) / (2n): equal halves give 1/4.
    @Test(arguments: [(2, 2), (50, 50), (3, 7), (7, 3), (1, 9), (20, 80), (33, 67)])
    func twoPointMassesHaveHalfTheLighterWeight(zeros: Int, ones: Int) {
        let samples = [Double](repeating: 0, count: zeros) + [Double](repeating: 1, count: ones)
        let n = zeros + ones
        #expect(DipTest.statistic(samples) == Double(min(zeros, ones)) / Double(2 * n))
        #expect(DipTest.statistic(samples.map { -3 * $0 + 10 }) == Double(min(zeros, ones)) / Double(2 * n))
    }

    @Test func equalHalvesOfTwoValuesDipByAQuarter() {
        #expect(DipTest.statistic([0, 0, 1, 1]) == 0.25)
        #expect(DipTest.statistic([5, -2, 5, -2, -2, 5]) == 0.25)
    }

    @Test func allEqualValuesHaveNoDip() {
        #expect(DipTest.statistic([Double](repeating: 2.5, count: 10)) == 0)
        #expect(DipTest.statistic([Double](repeating: -1, count: 200)) == 0)
    }

    @Test(arguments: [[], [1], [1, 2], [3, 1, 2], [0, 0, 1]] as [[Double]])
    func fewerThanFourValuesHaveNoDip(samples: [Double]) {
        #expect(DipTest.statistic(samples) == 0)
        #expect(DipTest.test(samples) == (0, 1))
    }

    /// n evenly spaced values: away from the mode a unimodal fit is continuous, so at each value it
    /// must sit within d of both the CDF's left limit (i − 1)/n and its value i/n, hence d ≥ 1/(2n);
    /// the uniform distribution over [x₁ − h/2, xₙ + h/2] (h the spacing) passes through every jump's
    /// midpoint and attains it. The dip is exactly 1/(2n), the smallest any non-constant sample has.
    @Test(arguments: [4, 5, 10, 37, 200, 1000])
    func evenlySpacedValuesHaveTheSmallestPossibleDip(n: Int) {
        let grid = (0..<n).map(Double.init)
        #expect(DipTest.statistic(grid) == 1 / Double(2 * n))
        // A spacing that is not a binary fraction rounds the points off the line by an ulp or so.
        let decimals = (0..<n).map { Double($0) * 0.1 }
        #expect(abs(DipTest.statistic(decimals) - 1 / Double(2 * n)) < 1e-12)
    }

    @Test func theDipLiesBetweenItsBounds() {
        var random = SeededRandom(seed: 11)
        for n in [4, 5, 9, 50, 200] {
            for _ in 0..<50 {
                let dip = DipTest.statistic((0..<n).map { _ in random.gaussian() })
                #expect(dip >= 1 / Double(2 * n) && dip <= 0.25)
            }
        }
    }

    // MARK: - Invariances

    /// The map rounds each value by up to half an ulp of its result, which moves the dip by about
    /// n · ulp(offset) / (scale · spread): ~1e-12 for the worst case here.
    @Test(arguments: [(3.7, -12.5), (0.001, 40), (250, 1000)])
    func theDipIgnoresIncreasingAffineMaps(scale: Double, offset: Double) {
        var random = SeededRandom(seed: 21)
        for sample in Self.mixedSamples(using: &random) {
            let dip = DipTest.statistic(sample)
            #expect(abs(DipTest.statistic(sample.map { scale * $0 + offset }) - dip) < 1e-9)
        }
    }

    /// Scaling by a power of two is exact (no value here under- or overflows), and so is the dip.
    @Test func exactAffineMapsLeaveTheDipBitForBit() {
        var random = SeededRandom(seed: 21)
        for sample in Self.mixedSamples(using: &random) {
            let dip = DipTest.statistic(sample)
            #expect(DipTest.statistic(sample.map { 4 * $0 }) == dip)
            #expect(DipTest.statistic(sample.map { 0.125 * $0 }) == dip)
        }
    }

    @Test func theDipIgnoresReflection() {
        var random = SeededRandom(seed: 22)
        for sample in Self.mixedSamples(using: &random) {
            #expect(abs(DipTest.statistic(sample.map { -$0 }) - DipTest.statistic(sample)) < 1e-12)
        }
    }

    @Test func nonFiniteValuesAreDropped() {
        var random = SeededRandom(seed: 23)
        let finite = (0..<100).map { _ in random.gaussian() }
        let polluted = [.nan] + finite + [.infinity, -.infinity]
        #expect(DipTest.statistic(polluted) == DipTest.statistic(finite))
        #expect(DipTest.test(polluted) == DipTest.test(finite))
    }

    @Test func callerScratchGivesTheSameDip() {
        var random = SeededRandom(seed: 24)
        var scratch = [Int](repeating: -7, count: DipTest.scratchCount(forSampleCount: 300))
        for sample in Self.mixedSamples(using: &random) {
            let sorted = sample.sorted()
            let withScratch = sorted.withUnsafeBufferPointer { values in
                scratch.withUnsafeMutableBufferPointer { DipTest.statistic(sorted: values, scratch: $0) }
            }
            #expect(withScratch == sorted.withUnsafeBufferPointer { DipTest.statistic(sorted: $0) })
        }
    }

    // MARK: - Cross-checks against an independent implementation

    /// Expected dips came from the GPL `diptest` 0.12.0 Python package (`dipstat(x, allow_zero=False)`),
    /// used only as an oracle while developing: nothing of it is in this repository and these tests do
    /// not need it. The samples are built with exact integer arithmetic and correctly rounded division,
    /// so they are the same doubles here and in Python. Over 26,000 further random samples (n = 4…260,
    /// continuous, heavily tied, bimodal, heavy-tailed) agreed to within 7e-17.
    @Test(arguments: [
        ("hand-picked", 0.20833333333333334),
        ("unequal masses", 0.15),
        ("integer ties", 0.05),
        ("two blocks", 0.15231721933679584),
        ("cubed Weyl", 0.004364378927155261),
        ("Weyl integers", 0.008153637198897456),
        ("sum of three", 0.03992876123118252),
    ])
    func matchesTheReferenceImplementation(name: String, expected: Double) throws {
        let sample = try #require(Self.oracleSample(name))
        #expect(abs(DipTest.statistic(sample) - expected) < 1e-9)
    }

    /// The oracle's samples, by name.
    static func oracleSample(_ name: String) -> [Double]? {
        switch name {
        case "hand-picked":
            return [1.0, 1.5, 2.0, 7.0, 7.25, 8.0]
        case "unequal masses":
            return [0, 0, 0, 1, 1, 1, 1, 1, 1, 1]
        case "integer ties":
            return (0..<60).map { k -> Double in Double((k * 7) % 11 + (k * 3) % 5) }
        case "two blocks":
            return (0..<100).map { k -> Double in
                let u = Double((k * 7919) % 1000) / 1000
                return k.isMultiple(of: 2) ? u : u + 2.5
            }
        case "cubed Weyl":
            return (0..<200).map { k -> Double in
                let u = Double((k * 40503 + 17) % 65536) / 65536
                return u * u * u
            }
        case "Weyl integers":
            return (0..<150).map { k -> Double in Double((k * 40503) % 65536) }
        case "sum of three":
            return (0..<120).map { k -> Double in
                let a = Double((k * 40503) % 65536) / 65536
                let b = Double((k * 12345 + 7) % 65521) / 65521
                let c = Double((k * 9973 + 3) % 32749) / 32749
                return a + b + c
            }
        default:
            return nil
        }
    }

    // MARK: - p-values

    @Test func pValueEdgeCases() {
        #expect(DipTest.pValue(dip: 0.2, n: 3) == 1)
        #expect(DipTest.pValue(dip: 0.2, n: 0) == 1)
        #expect(DipTest.pValue(dip: .nan, n: 100) == 1)
        #expect(DipTest.pValue(dip: 0, n: 100) == 1)
        for n in [4, 7, 10, 50, 200] {
            #expect(DipTest.pValue(dip: 1 / Double(2 * n), n: n) == 1)
            #expect(DipTest.pValue(dip: 0.25, n: n) == 0)
        }
        #expect(DipTest.pValue(dip: .infinity, n: 50) == 0)
        #expect(DipTest.test([0, 0, 0, 0, 1, 1, 1, 1]) == (0.25, 0))
    }

    @Test(arguments: [4, 5, 11, 50, 64, 100, 137, 200, 999, 1000, 5000])
    func pValueNeverRisesWithTheDip(n: Int) {
        var previous = 1.0
        for step in 0...600 {
            let p = DipTest.pValue(dip: Double(step) * 0.0005, n: n)
            #expect(p >= 0 && p <= previous)
            previous = p
        }
    }

    @Test func tableRowsAreOrdered() {
        let levels = DipTable.probabilities
        #expect(levels.first == 0 && levels.last == 1 && zip(levels, levels.dropFirst()).allSatisfy(<))
        #expect(zip(DipTable.sampleSizes, DipTable.sampleSizes.dropFirst()).allSatisfy(<))
        #expect(DipTable.quantiles.count == DipTable.sampleSizes.count * levels.count)
        for (row, n) in DipTable.sampleSizes.enumerated() {
            let quantiles = DipTable.quantiles[(row * levels.count)..<((row + 1) * levels.count)]
            #expect(zip(quantiles, quantiles.dropFirst()).allSatisfy(<=))
            #expect(quantiles.first.map { $0 >= 1 / Double(2 * n) } == true)
            #expect(quantiles.last.map { $0 <= 0.25 } == true)
        }
    }

    /// Under the uniform null the p-value is uniform, so about 5% fall below 0.05.
    @Test(arguments: [50, 200])
    func uniformSamplesAreRarelySignificant(n: Int) {
        var random = SeededRandom(seed: 31)
        var significant = 0
        for _ in 0..<200 where DipTest.test((0..<n).map { _ in random.uniform() }).pValue < 0.05 {
            significant += 1
        }
        #expect(significant <= 20)
    }

    /// The uniform is the least favourable unimodal null, so Gaussian samples pass even more often.
    @Test func gaussianSamplesAreUnimodal() {
        var random = SeededRandom(seed: 32)
        var unimodal = 0
        for _ in 0..<200 where DipTest.test((0..<200).map { _ in random.gaussian() }).pValue > 0.05 {
            unimodal += 1
        }
        #expect(unimodal >= 190)
    }

    @Test(arguments: [41, 42, 43, 44, 45] as [UInt64])
    func wellSeparatedClustersAreBimodal(seed: UInt64) {
        var random = SeededRandom(seed: seed)
        let sample = (0..<200).map { i in random.gaussian(mean: i.isMultiple(of: 2) ? 0 : 6) }
        #expect(DipTest.test(sample).pValue < 0.01)
    }

    /// A loose sanity check, not a dependency: p-values of the GPL `diptest` 0.12.0 package (its own
    /// table, interpolated the same way) for the same (dip, n), noted down while developing. Our table
    /// is an independent simulation, so only agreement within Monte Carlo and interpolation error is
    /// expected.
    @Test(arguments: [
        (0.06, 50, 0.1807), (0.07, 50, 0.0526), (0.045, 100, 0.1487), (0.05, 100, 0.0642),
        (0.03, 200, 0.2380), (0.035, 200, 0.0824), (0.04, 200, 0.0224), (0.1, 20, 0.0825),
        (0.12, 20, 0.0110), (0.2, 6, 0.0060), (0.15, 10, 0.0225), (0.03, 150, 0.4546), (0.02, 500, 0.1911),
    ])
    func pValuesAgreeWithTheReferenceTable(dip: Double, n: Int, reference: Double) {
        #expect(abs(DipTest.pValue(dip: dip, n: n) - reference) < 0.02)
    }

    // MARK: - Helpers

    /// Continuous, bimodal, tied and small samples, the shapes where a hull computation can go wrong.
    static func mixedSamples(using random: inout SeededRandom) -> [[Double]] {
        var samples: [[Double]] = []
        for n in [4, 5, 7, 30, 150, 300] {
            samples.append((0..<n).map { _ in random.uniform() })
            samples.append((0..<n).map { i in random.gaussian(mean: i.isMultiple(of: 3) ? 0 : 4) })
            samples.append((0..<n).map { _ in Double(Int(random.uniform() * 5)) })
        }
        return samples
    }
}
