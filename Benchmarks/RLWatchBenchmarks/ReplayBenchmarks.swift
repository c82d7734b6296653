#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import Benchmark
import RLWatch
import RLWatchCore
import RLWatchIngest
import RLWatchSQLite
import RLWatchStore

/// `rlwatch replay` of a TRL-like JSONL file of a million lines: the release binary end to end, and the same
/// pipeline in process (reader + `RunPipeline`) to separate process start-up from throughput.
///
/// Budgets (Thresholds/), on wall clock: `replay` reads on one thread while the batch before is judged and stored on
/// another, so CPU time is no longer the time a user waits. 4 µs a step without a store (≥ 250k steps/s; 2 µs while
/// the hand-written decimal parser existed, removed by issue 16, whose floor is 100k), 10 µs a step into SQLite
/// (≥ 100k steps/s).
enum ReplayBenchmarks {
    static let lines = 1_000_000

    static func register() {
        let once = Benchmark.Configuration(scalingFactor: .mega, maxDuration: .seconds(30), maxIterations: 3)
        // The child's time is not this process's: wall clock only.
        let cli = Benchmark.Configuration(metrics: [.wallClock, .throughput], scalingFactor: .mega, maxDuration: .seconds(30), maxIterations: 3)
        Benchmark("replay.cli.startup", configuration: .init(metrics: [.wallClock], maxIterations: 20)) { benchmark in
            let empty = "\(BenchPaths.root)/empty.jsonl"
            close(open(empty, O_WRONLY | O_CREAT | O_TRUNC, 0o644))
            runCLI(benchmark, ["replay", empty, "--no-store"])
        }
        Benchmark("replay.cli.no-store", configuration: cli) { benchmark in
            let file = BenchInput.replayFile(lines: lines)
            runCLI(benchmark, ["replay", file, "--no-store"])
        }
        Benchmark("replay.cli.store", configuration: cli) { benchmark in
            let file = BenchInput.replayFile(lines: lines)
            let directory = makeTemporaryDirectory("cli-store")
            defer { removeTree(directory) }
            runCLI(benchmark, ["replay", file, "--log-dir", directory + "/logs"], in: directory)
        }
        Benchmark("replay.inprocess.no-store", configuration: once) { benchmark in
            let file = BenchInput.replayFile(lines: lines)
            benchmark.startMeasurement()
            try await replayInProcess(file, store: nil)
        }
        Benchmark("replay.inprocess.store", configuration: once) { benchmark in
            let file = BenchInput.replayFile(lines: lines)
            let directory = makeTemporaryDirectory("inproc-store")
            defer { removeTree(directory) }
            let store = try SQLiteStore(path: directory + "/metrics.db")
            defer { try? store.close() }
            benchmark.startMeasurement()
            try await replayInProcess(file, store: store)
            benchmark.stopMeasurement()
        }
        Benchmark("replay.inprocess.parse-only", configuration: once) { benchmark in
            let file = BenchInput.replayFile(lines: lines)
            var sink = 0
            benchmark.startMeasurement()
            try MetricsJSONLReader(path: file).forEachStep { step in sink &+= step.step &+ step.extras.count }
            blackHole(sink)
        }
    }

    /// Runs the `rlwatch` binary once (in a fresh directory: no `rlwatch.yaml`); a failure fails the benchmark.
    static func runCLI(_ benchmark: Benchmark, _ arguments: [String], in directory: String? = nil) {
        guard let binary = rlwatchBinary() else {
            benchmark.error("no release rlwatch binary: `swift build -c release --product rlwatch`, or set RLWATCH_BIN")
            return
        }
        let scratch = directory ?? makeTemporaryDirectory("cwd")
        defer { if directory == nil { removeTree(scratch) } }
        benchmark.startMeasurement()
        let status = runProcess(binary, arguments, directory: scratch).status
        benchmark.stopMeasurement()
        if status != 0 { benchmark.error("\(binary) \(arguments.joined(separator: " ")) exited with \(status)") }
    }

    /// What `rlwatch replay` does after start-up: read, judge, print, store (nothing kept without a store), in this
    /// process, through the run pipeline as the command does.
    static func replayInProcess(_ file: String, store: (any Store)?) async throws {
        try await replayInProcess(store: store) { feeder in
            try MetricsJSONLReader(path: file).forEachStep { try feeder.consume($0) }
        }
    }

    /// Runs `read` (the source side of a replay, on a thread of its own) into a fresh run pipeline; returns the steps
    /// judged.
    @discardableResult
    static func replayInProcess(
        store: (any Store)?, _ read: @escaping @Sendable (ReplayFeeder) throws -> Void
    ) async throws -> Int {
        let printer = BufferedAlertPrinter(format: .text)
        let monitor = try await Monitor(
            config: RLWatchConfig(), runID: "bench-\(UInt32.random(in: 0...UInt32.max))",
            store: store ?? InMemoryStore(keepingSteps: false), sinks: [printer])
        let pipeline = RunPipeline(monitor: monitor)
        nonisolated(unsafe) let feeder = ReplayFeeder(pipeline: pipeline, printer: printer)
        try await ReplayFeeder.runOnOwnThread {
            try withStandardOutputSilenced {
                try read(feeder)
                try feeder.flush()
            }
        }
        return pipeline.tally.steps
    }
}
