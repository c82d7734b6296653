#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// rlwatch-bench: release-mode measurements of the detector engine, `rlwatch replay` and the SQLite store.
//
//   swift build -c release --product rlwatch-bench && swift build -c release --product rlwatch
//   .build/release/rlwatch-bench                 # everything (about a minute and a half)
//   .build/release/rlwatch-bench analyzer store  # only benchmarks whose name contains a filter
//   .build/release/rlwatch-bench --quick         # 10 % of the iterations, a 100k-line replay file
//   .build/release/rlwatch-bench --list
//
// Inputs and scratch databases live in $RLWATCH_BENCH_DIR (default /tmp/rlwatch-bench); the 1M-line replay
// file is generated once and reused. Progress goes to stderr, the table to stdout.

var filters: [String] = []
var scale = 1.0
var replayLines = 1_000_000
var listOnly = false
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--quick":
        scale = 0.1
        replayLines = 100_000
    case "--lines":
        guard let value = arguments.popFirst().flatMap(Int.init), value > 0 else {
            note("--lines needs a positive number")
            exit(2)
        }
        replayLines = value
    case "--list":
        listOnly = true
    case "-h", "--help":
        print("usage: rlwatch-bench [--quick] [--lines N] [--list] [FILTER...]")
        exit(0)
    default:
        filters.append(argument)
    }
}

let benchmarks =
    DetectorBenchmarks.all(scale: scale) + ReplayBenchmarks.all(lines: replayLines) + TrackerBenchmarks.all()
    + StoreBenchmarks.all(scale: scale, replayLines: replayLines)
let selected = benchmarks.filter { benchmark in filters.isEmpty || filters.contains { benchmark.name.contains($0) } }

if listOnly {
    for benchmark in benchmarks { print("\(benchmark.name)\t\(benchmark.summary)") }
    exit(0)
}
if selected.isEmpty {
    note("no benchmark matches \(filters.joined(separator: " ")); --list shows them")
    exit(2)
}

var results: [BenchmarkResult] = []
for benchmark in selected {
    note("running \(benchmark.name): \(benchmark.summary)")
    do {
        results += try await benchmark.run()
    } catch {
        note("\(benchmark.name) failed: \(error)")
        results.append(
            BenchmarkResult(name: benchmark.name, iterations: 0, meanNanoseconds: .nan, note: "failed: \(error)"))
    }
}
printTable(results)
