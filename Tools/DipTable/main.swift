// rlwatch-dip-table: regenerates Sources/RLWatchCore/Statistics/DipTable.swift, the null distribution
// behind `DipTest.pValue`.
//
// Usage (from the package root):
//
//     swift run --package-path Tools -c release rlwatch-dip-table Sources/RLWatchCore/Statistics/DipTable.swift
//     swift run --package-path Tools -c release rlwatch-dip-table > Sources/RLWatchCore/Statistics/DipTable.swift
//     swift run --package-path Tools -c release rlwatch-dip-table --bench
//
// What it does: for every sample size n in `Plan.sampleSizes` it draws `Plan.replications` samples of
// n independent Uniform(0, 1) values, sorts each and computes its dip with RLWatchCore's own
// `DipTest.statistic`, then writes the empirical quantiles of those dips at `Plan.probabilities`
// (R's type-7 estimator: linear interpolation between order statistics; level 0 is the smallest dip
// seen, level 1 the largest). The uniform is the least favourable unimodal null, so p-values read from
// the table are conservative for every other unimodal shape.
//
// Random numbers come from xoshiro256** (Blackman & Vigna), one stream per sample size, seeded by
// running `Plan.seed` and n through SplitMix64's finaliser. Every step is plain IEEE arithmetic, so the
// output is bit-identical on every machine and whatever the thread scheduling: regenerating without
// changing the plan or `DipTest` reproduces the committed file exactly. Sizes run in parallel across
// cores; the default plan takes about 150 CPU-seconds in release mode
// (1–2 minutes on 2 idle cores).
//
// `--bench` times `DipTest.statistic` on uniform samples instead (n = 50, 200, 1000; thread CPU time per
// call) and writes nothing.

import RLWatchCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the generated table covers; changing anything here changes the committed table.
enum Plan {
    /// Dense up to 200 (the detectors' buffer size), sparser up to 1000; beyond that `pValue` scales
    /// the last row by √n.
    static let sampleSizes = [
        4, 5, 6, 7, 8, 9, 10, 12, 15, 20, 25, 30, 40, 50, 60, 75, 100, 125, 150, 200, 250, 300, 400, 500,
        750, 1000,
    ]
    /// Probability levels, dense in the upper tail where significance is decided.
    static let probabilities: [Double] = [
        0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.998,
        0.999, 1,
    ]
    /// Samples simulated per size. The Monte Carlo error of a p-value read from the table is about
    /// √(p(1 − p)/replications): 0.0003 at p = 0.05, 0.00004 at p = 0.001 (500 dips lie beyond the
    /// 0.999 quantile).
    static let replications = 500_000
    /// Master seed ("rlwatchD" in ASCII).
    static let seed: UInt64 = 0x726C_7761_7463_6844
}

/// xoshiro256** (Blackman & Vigna, 2018): fast, small state, passes BigCrush.
struct Xoshiro256StarStar: RandomNumberGenerator {
    private var s0: UInt64
    private var s1: UInt64
    private var s2: UInt64
    private var s3: UInt64

    /// Seeds the four state words with successive SplitMix64 outputs, as the authors recommend, so
    /// that nearby seeds give unrelated streams.
    init(seed: UInt64) {
        var words: [UInt64] = []
        var counter = seed
        for _ in 0..<4 {
            counter &+= 0x9E37_79B9_7F4A_7C15
            words.append(Self.mix(counter))
        }
        (s0, s1, s2, s3) = (words[0], words[1], words[2], words[3])
    }

    /// SplitMix64's output finaliser (Stafford's variant 13).
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = s3 << 45 | s3 >> 19
        return result
    }

    /// A uniform double in [0, 1) with 53 random bits.
    mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }
}

enum Generator {
    /// The table's quantile row for samples of `n` uniform values.
    static func quantiles(n: Int) -> [Double] {
        var random = Xoshiro256StarStar(seed: Xoshiro256StarStar.mix(Plan.seed ^ UInt64(n)))
        var sample = [Double](repeating: 0, count: n)
        var scratch = [Int](repeating: 0, count: DipTest.scratchCount(forSampleCount: n))
        var dips: [Double] = []
        dips.reserveCapacity(Plan.replications)
        for _ in 0..<Plan.replications {
            for i in 0..<n { sample[i] = random.unit() }
            sample.sort()
            let dip = sample.withUnsafeBufferPointer { values in
                scratch.withUnsafeMutableBufferPointer { DipTest.statistic(sorted: values, scratch: $0) }
            }
            dips.append(dip)
        }
        dips.sort()
        return Plan.probabilities.map { level in
            let position = level * Double(dips.count - 1)
            let below = Int(position)
            guard below + 1 < dips.count else { return dips[below] }
            return dips[below] + (position - Double(below)) * (dips[below + 1] - dips[below])
        }
    }

    /// All rows, computed in parallel; each size has its own random stream, so the order in which
    /// tasks finish does not matter.
    static func table() async -> [[Double]] {
        await withTaskGroup(of: (Int, [Double]).self) { group in
            // Largest sizes first, so the long tasks do not end up alone at the tail.
            for index in Plan.sampleSizes.indices.reversed() {
                group.addTask { (index, quantiles(n: Plan.sampleSizes[index])) }
            }
            var rows = [[Double]](repeating: [], count: Plan.sampleSizes.count)
            for await (index, row) in group { rows[index] = row }
            return rows
        }
    }

    /// The Swift source of `DipTable.swift`.
    static func source(rows: [[Double]]) -> String {
        var text = """
            // Generated by rlwatch-dip-table (Tools/DipTable/main.swift). Do not edit by hand.
            //
            // Regenerate from the package root with:
            //     swift run --package-path Tools -c release rlwatch-dip-table Sources/RLWatchCore/Statistics/DipTable.swift
            //
            // Null distribution of Hartigan's dip, by Monte Carlo: for each sample size n, \(Plan.replications)
            // samples of n independent Uniform(0, 1) values (xoshiro256**, one stream per n, master seed
            // 0x\(String(Plan.seed, radix: 16, uppercase: true))), each sorted and passed to `DipTest.statistic`.
            // Quantiles use R's type-7 estimator; level 0 is the smallest dip seen, level 1 the largest.

            /// Monte Carlo quantiles of the dip statistic for uniform samples, read by `DipTest.pValue`.
            ///
            /// A table instead of an asymptotic formula because the dip's distribution is far from its
            /// limit at the sample sizes the detectors use, and made by us rather than taken from the R
            /// package so that it matches our `DipTest.statistic` exactly and carries no licence.
            enum DipTable {
                /// The tabulated sample sizes, ascending.
                static let sampleSizes: [Int] = [
            """
        text += "\n" + wrapped(Plan.sampleSizes.map(String.init), indent: 8) + "\n    ]\n"
        text += """
                /// The tabulated probability levels, ascending from 0 to 1.
                static let probabilities: [Double] = [

            """
        text += wrapped(Plan.probabilities.map { "\($0)" }, indent: 8) + "\n    ]\n"
        text += """
                /// Row-major quantiles: `quantiles[i * probabilities.count + j]` is the dip that a
                /// fraction `probabilities[j]` of uniform samples of size `sampleSizes[i]` do not exceed.
                static let quantiles: [Double] = [

            """
        for (size, row) in zip(Plan.sampleSizes, rows) {
            text += "        // n = \(size)\n"
            text += wrapped(row.map { "\($0)" }, indent: 8) + "\n"
        }
        text += "    ]\n}\n"
        return text
    }

    /// Comma-separated items, wrapped before 120 columns, each line ending with a comma.
    static func wrapped(_ items: [String], indent: Int) -> String {
        let pad = String(repeating: " ", count: indent)
        var lines: [String] = []
        var line = pad
        for item in items {
            if line.count + item.count + 2 > 120 && line != pad {
                lines.append(line.trimmingSuffixSpaces())
                line = pad
            }
            line += item + ", "
        }
        lines.append(line.trimmingSuffixSpaces())
        return lines.joined(separator: "\n")
    }

    /// Nanoseconds per `DipTest.statistic` call on sorted uniform samples, with and without scratch.
    static func bench() {
        var random = Xoshiro256StarStar(seed: 1)
        for n in [50, 200, 1000] {
            // Enough distinct samples that the branch predictor cannot learn them (it does learn a
            // few dozen small ones, which flatters the timing several-fold), few enough to stay in cache.
            let count = 200_000 / n
            let samples = (0..<count).map { _ in (0..<n).map { _ in random.unit() }.sorted() }
            var scratch = [Int](repeating: 0, count: DipTest.scratchCount(forSampleCount: n))
            let rounds = 4 * count
            var sink = 0.0
            let plain = cpuNanoseconds {
                for round in 0..<rounds {
                    sink += samples[round % count].withUnsafeBufferPointer { DipTest.statistic(sorted: $0) }
                }
            }
            let reused = cpuNanoseconds {
                for round in 0..<rounds {
                    sink += samples[round % count].withUnsafeBufferPointer { values in
                        scratch.withUnsafeMutableBufferPointer { DipTest.statistic(sorted: values, scratch: $0) }
                    }
                }
            }
            print(
                "n = \(n): \(Int(plain / Double(rounds))) ns/call, "
                    + "\(Int(reused / Double(rounds))) ns/call with caller scratch (checksum \(sink))")
        }
    }

    /// The CPU time `body` takes on this thread, in nanoseconds: unlike wall-clock time it does not
    /// grow while other processes hold the cores, so the figures hold on a busy machine too.
    static func cpuNanoseconds(_ body: () -> Void) -> Double {
        func now() -> Double {
            var time = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
            return Double(time.tv_sec) * 1e9 + Double(time.tv_nsec)
        }
        let start = now()
        body()
        return now() - start
    }
}

extension String {
    fileprivate func trimmingSuffixSpaces() -> String {
        var result = self
        while result.last == " " { result.removeLast() }
        return result
    }
}

/// Progress and errors go to file descriptor 2, keeping stdout for the generated source.
func writeToStandardError(_ message: String) {
    var message = message
    message.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
}

let arguments = CommandLine.arguments.dropFirst()
if arguments.contains("--bench") {
    Generator.bench()
} else {
    let clock = ContinuousClock()
    let start = clock.now
    let source = Generator.source(rows: await Generator.table())
    let elapsed = clock.now - start
    if let path = arguments.first {
        guard let file = fopen(path, "w") else {
            writeToStandardError("rlwatch-dip-table: cannot open \(path) for writing\n")
            exit(1)
        }
        fputs(source, file)
        fclose(file)
    } else {
        print(source, terminator: "")
    }
    writeToStandardError(
        "rlwatch-dip-table: \(Plan.sampleSizes.count) sizes × \(Plan.replications) replications in \(elapsed)\n")
}
