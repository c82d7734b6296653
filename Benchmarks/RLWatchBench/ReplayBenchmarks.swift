#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import RLWatch
import RLWatchCore
import RLWatchIngest
import RLWatchStore

/// `rlwatch replay` of a large TRL-like JSONL file: the real binary end to end, and the same engine in
/// process (reader + `ReplayRunner`) to separate process start-up from throughput.
enum ReplayBenchmarks {
    static func all(lines: Int) -> [Benchmark] {
        [
            Benchmark(name: "replay.cli.startup", summary: "rlwatch replay of an empty file (process start-up)") {
                guard let binary = rlwatchBinary() else { return [missingBinary("replay.cli.startup")] }
                let empty = "\(BenchPaths.root)/empty.jsonl"
                close(open(empty, O_WRONLY | O_CREAT | O_TRUNC, 0o644))
                let directory = makeTemporaryDirectory("cwd")
                defer { removeTree(directory) }
                let best = Times.best(
                    (0..<5).map { _ in timeProcess(binary, ["replay", empty, "--no-store"], directory: directory) })
                return [
                    BenchmarkResult(
                        name: "replay.cli.startup", iterations: 5, meanNanoseconds: best.wall, cpuNanoseconds: best.cpu,
                        note: "best of 5; exec + Swift runtime + config")
                ]
            },
            Benchmark(name: "replay.cli.no-store", summary: "rlwatch replay FILE --no-store (best of 3, wall)") {
                guard let binary = rlwatchBinary() else { return [missingBinary("replay.cli.no-store")] }
                let file = BenchInput.replayFile(lines: lines)
                let directory = makeTemporaryDirectory("cwd")
                defer { removeTree(directory) }
                let best = Times.best(
                    (0..<3).map { _ in timeProcess(binary, ["replay", file, "--no-store"], directory: directory) })
                return [
                    throughput(
                        "replay.cli.no-store", lines: lines, total: best, target: 500_000,
                        note: "best of 3, wall, incl. start-up")
                ]
            },
            Benchmark(name: "replay.inprocess.no-store", summary: "MetricsJSONLReader + ReplayRunner, no store") {
                let file = BenchInput.replayFile(lines: lines)
                let best = Times.best(try (0..<3).map { _ in try timeInProcessReplay(file, store: nil) })
                return [
                    throughput(
                        "replay.inprocess.no-store", lines: lines, total: best, target: 500_000, note: "best of 3")
                ]
            },
            Benchmark(name: "replay.inprocess.parse-only", summary: "MetricsJSONLReader alone (no detectors)") {
                let file = BenchInput.replayFile(lines: lines)
                let best = Times.best(
                    try (0..<3).map { _ in
                        var sink = 0
                        let times = try measureTimes {
                            try MetricsJSONLReader(path: file).forEachStep { step in
                                sink &+= step.step &+ step.extras.count
                            }
                        }
                        blackHole(sink)
                        return times
                    })
                return [
                    throughput(
                        "replay.inprocess.parse-only", lines: lines, total: best, target: .none, note: "best of 3")
                ]
            },
            Benchmark(name: "replay.cli.store", summary: "rlwatch replay FILE into a fresh SQLite database (wall)") {
                guard let binary = rlwatchBinary() else { return [missingBinary("replay.cli.store")] }
                let file = BenchInput.replayFile(lines: lines)
                // One run: a million rows into SQLite takes ~10 s, and the number is for the ratio only.
                let directory = makeTemporaryDirectory("cli-store")
                defer { removeTree(directory) }
                let best = timeProcess(
                    binary, ["replay", file, "--log-dir", directory + "/logs"], directory: directory)
                return [
                    throughput(
                        "replay.cli.store", lines: lines, total: best, target: .none,
                        note: "one run, wall, 8192 rows/commit")
                ]
            },
            Benchmark(
                name: "replay.inprocess.store", summary: "reader + ReplayRunner + SQLiteStore.appendSynchronously"
            ) {
                let file = BenchInput.replayFile(lines: lines)
                let directory = makeTemporaryDirectory("inproc-store")
                defer { removeTree(directory) }
                let store = try SQLiteStore(path: directory + "/metrics.db")
                defer { try? store.close() }
                let best = try timeInProcessReplay(file, store: store)
                return [
                    throughput(
                        "replay.inprocess.store", lines: lines, total: best, target: .none,
                        note: "one run, 8192 rows/commit")
                ]
            },
        ]
    }

    /// Wall and CPU time of one run of the binary; NaN when it fails.
    static func timeProcess(_ binary: String, _ arguments: [String], directory: String) -> Times {
        let start = clock.now
        let (status, cpu) = runProcess(binary, arguments, directory: directory)
        let elapsed = (clock.now - start).nanoseconds
        if status != 0 { note("\(binary) \(arguments.joined(separator: " ")) exited with \(status)") }
        return status == 0 ? Times(wall: elapsed, cpu: cpu) : Times(wall: .nan, cpu: .nan)
    }

    /// What `rlwatch replay` does after start-up: read, judge, (store), in this process.
    static func timeInProcessReplay(_ file: String, store: SQLiteStore?) throws -> Times {
        try withStandardOutputSilenced {
            let cpuStart = processCPUTime()
            let start = clock.now
            let persist: (([StoredStep], [AlertRecord]) throws -> Void)? = store.map { store in
                { steps, alerts in try store.appendSynchronously(steps: steps, alerts: alerts) }
            }
            let runner = ReplayRunner(config: RLWatchConfig(), runID: "bench", format: .text, persist: persist)
            try MetricsJSONLReader(path: file).forEachStep { try runner.consume($0) }
            try runner.flush()
            blackHole(runner.stepsProcessed)
            return Times(wall: (clock.now - start).nanoseconds, cpu: processCPUTime() - cpuStart)
        }
    }

    static func throughput(_ name: String, lines: Int, total: Times, target: Target, note: String) -> BenchmarkResult {
        BenchmarkResult(
            name: name, iterations: lines, meanNanoseconds: total.wall / Double(lines),
            cpuNanoseconds: total.cpu / Double(lines), rate: (Double(lines) / (total.wall / 1e9), "steps"),
            target: target, note: "\(note); total \(formatDuration(total.wall)) wall, \(formatDuration(total.cpu)) cpu")
    }

    static func throughput(_ name: String, lines: Int, total: Times, target perSecond: Double, note: String)
        -> BenchmarkResult
    {
        throughput(name, lines: lines, total: total, target: .atLeast(perSecond: perSecond), note: note)
    }

    static func missingBinary(_ name: String) -> BenchmarkResult {
        BenchmarkResult(
            name: name, iterations: 0, meanNanoseconds: .nan,
            note: "skipped: build --product rlwatch into the same scratch path, or set RLWATCH_BIN")
    }
}
