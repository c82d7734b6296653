import RLWatch
import RLWatchCore
import RLWatchIngest
import RLWatchStore

/// Durable ingest into a fresh SQLite file (WAL, synchronous=NORMAL), batched and one step per commit.
enum StoreBenchmarks {
    static func all(scale: Double, replayLines: Int) -> [Benchmark] {
        let batchedRows = Int(200_000 * scale)
        let singleCommits = Int(5_000 * scale)
        return [
            Benchmark(name: "store.batch1000.sync", summary: "appendSynchronously, 1000 rows per transaction") {
                let rows = try storedRows(batchedRows, replayLines: replayLines)
                return [try batched("store.batch1000.sync", rows, batch: 1000)]
            },
            Benchmark(name: "store.batch8192.sync", summary: "appendSynchronously, 8192 rows per transaction") {
                let rows = try storedRows(batchedRows, replayLines: replayLines)
                return [try batched("store.batch8192.sync", rows, batch: 8192)]
            },
            Benchmark(name: "store.batch1000.async", summary: "await append, 1000 rows per transaction") {
                let rows = try storedRows(batchedRows, replayLines: replayLines)
                return [try await batchedAsync("store.batch1000.async", rows, batch: 1000)]
            },
            Benchmark(name: "store.commit1.sync", summary: "appendSynchronously, one row per transaction") {
                let rows = try storedRows(singleCommits + 200, replayLines: replayLines)
                return [try single("store.commit1.sync", rows)]
            },
            Benchmark(name: "store.commit1.async", summary: "await append, one row per transaction") {
                let rows = try storedRows(singleCommits + 200, replayLines: replayLines)
                return [try await singleAsync("store.commit1.async", rows)]
            },
            Benchmark(name: "monitor.log.sqlite", summary: "await Monitor.log(step): detectors + one commit per step") {
                let steps = BenchInput.scalarSteps(singleCommits + DetectorBenchmarks.primingSteps)
                return [try await monitorLog("monitor.log.sqlite", steps)]
            },
        ]
    }

    /// The first `count` steps of the replay file (TRL-like, with 6 extras), as the analyzer stores them.
    static func storedRows(_ count: Int, replayLines: Int) throws -> [StoredStep] {
        let file = BenchInput.replayFile(lines: replayLines)
        var rows: [StoredStep] = []
        rows.reserveCapacity(count)
        let analyzer = RunAnalyzer(config: RLWatchConfig())
        struct Done: Error {}
        do {
            try MetricsJSONLReader(path: file).forEachStep { step in
                if rows.count >= count { throw Done() }
                let result = analyzer.process(step)
                rows.append(
                    StoredStep(runID: "bench", segment: result.segment, timestamp: 1.7e9, metrics: result.metrics))
            }
        } catch is Done {}
        return rows
    }

    /// A fresh store in its own directory, with the run registered.
    static func withFreshStore<T>(_ body: (SQLiteStore) async throws -> T) async throws -> T {
        let directory = makeTemporaryDirectory("store")
        defer { removeTree(directory) }
        let store = try SQLiteStore(path: directory + "/metrics.db")
        defer { try? store.close() }
        try await store.registerRun(
            RunRecord(
                runID: "bench", framework: "manual", startedAt: 1.7e9, configJSON: Monitor.configJSON(RLWatchConfig())))
        return try await body(store)
    }

    static func batched(_ name: String, _ rows: [StoredStep], batch: Int) throws -> BenchmarkResult {
        // Synchronous path: a fresh store per measurement, best of 2.
        let best = Times.best(
            try (0..<2).map { _ in
                try syncFreshStore { store in
                    try store.appendSynchronously(steps: Array(rows.prefix(batch)), alerts: [])  // warm-up
                    return try measureTimes {
                        var index = 0
                        while index < rows.count {
                            let end = min(rows.count, index + batch)
                            try store.appendSynchronously(steps: Array(rows[index..<end]), alerts: [])
                            index = end
                        }
                    }
                }
            })
        return rowsResult(name, rows.count, best, note: "best of 2")
    }

    static func batchedAsync(_ name: String, _ rows: [StoredStep], batch: Int) async throws -> BenchmarkResult {
        var runs: [Times] = []
        for _ in 0..<2 {
            runs.append(
                try await withFreshStore { store in
                    try await store.append(steps: Array(rows.prefix(batch)), alerts: [])
                    return try await measureTimesAsync {
                        var index = 0
                        while index < rows.count {
                            let end = min(rows.count, index + batch)
                            try await store.append(steps: Array(rows[index..<end]), alerts: [])
                            index = end
                        }
                    }
                })
        }
        return rowsResult(name, rows.count, Times.best(runs), note: "best of 2")
    }

    static func single(_ name: String, _ rows: [StoredStep]) throws -> BenchmarkResult {
        try syncFreshStore { store in
            for row in rows.prefix(200) { try store.appendSynchronously(steps: [row], alerts: []) }  // warm-up
            let measured = Array(rows.dropFirst(200))
            let batches = measured.map { [$0] }
            let cpuStart = processCPUTime()
            let samples = try sampleEach(batches.count) { i in
                try store.appendSynchronously(steps: batches[i], alerts: [])
            }
            return perCommit(name, samples, cpu: processCPUTime() - cpuStart)
        }
    }

    static func singleAsync(_ name: String, _ rows: [StoredStep]) async throws -> BenchmarkResult {
        try await withFreshStore { store in
            for row in rows.prefix(200) { try await store.append(steps: [row], alerts: []) }
            let batches = rows.dropFirst(200).map { [$0] }
            let cpuStart = processCPUTime()
            let samples = try await sampleEachAsync(batches.count) { i in
                try await store.append(steps: batches[i], alerts: [])
            }
            return perCommit(name, samples, cpu: processCPUTime() - cpuStart)
        }
    }

    static func monitorLog(_ name: String, _ steps: [MetricStep]) async throws -> BenchmarkResult {
        let directory = makeTemporaryDirectory("monitor")
        defer { removeTree(directory) }
        let store = try SQLiteStore(path: directory + "/metrics.db")
        defer { try? store.close() }
        let monitor = try await Monitor(config: RLWatchConfig(), runID: "bench", framework: "manual", store: store)
        for step in steps.prefix(DetectorBenchmarks.primingSteps) { blackHole(await monitor.log(step)) }
        let measured = Array(steps.dropFirst(DetectorBenchmarks.primingSteps))
        let cpuStart = processCPUTime()
        let samples = await sampleEachAsync(measured.count) { i in blackHole(await monitor.log(measured[i])) }
        var result = perCommit(name, samples, cpu: processCPUTime() - cpuStart)
        result.note = "0.5.1 log_step ≈ 136 µs"
        result.rate = (1e9 / result.meanNanoseconds, "steps")
        return result
    }

    /// Runs `body` on a fresh store without an async context (the replay loop's situation).
    static func syncFreshStore<T>(_ body: (SQLiteStore) throws -> T) throws -> T {
        let directory = makeTemporaryDirectory("store")
        defer { removeTree(directory) }
        let store = try SQLiteStore(path: directory + "/metrics.db")
        defer { try? store.close() }
        return try body(store)
    }

    static func rowsResult(_ name: String, _ count: Int, _ total: Times, note: String) -> BenchmarkResult {
        BenchmarkResult(
            name: name, iterations: count, meanNanoseconds: total.wall / Double(count),
            cpuNanoseconds: total.cpu / Double(count), rate: (Double(count) / (total.wall / 1e9), "rows"),
            target: .atLeast(perSecond: 200_000),
            note: "\(note); total \(formatDuration(total.wall)) wall, \(formatDuration(total.cpu)) cpu")
    }

    static func perCommit(_ name: String, _ samples: [Double], cpu: Double) -> BenchmarkResult {
        let mean = samples.reduce(0, +) / Double(samples.count)
        let percentiles = Percentiles(samples)
        return BenchmarkResult(
            name: name, iterations: samples.count, meanNanoseconds: mean, cpuNanoseconds: cpu / Double(samples.count),
            p50Nanoseconds: percentiles.p50,
            p99Nanoseconds: percentiles.p99, rate: (1e9 / mean, "commits"), target: .atMost(nanoseconds: 20_000),
            note: "WAL, synchronous=NORMAL")
    }
}
