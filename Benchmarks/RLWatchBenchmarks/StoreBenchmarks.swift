import Benchmark
import RLWatch
import RLWatchCore
import RLWatchIngest
import RLWatchSQLite
import RLWatchStore

/// Durable ingest into a fresh SQLite file (WAL, synchronous=NORMAL): batched, and one step per commit.
///
/// Each benchmark appends to one store across its iterations, the rows of the replay input (TRL-like, 6 extras) as
/// the analyzer stores them. Budgets (Thresholds/): 5 µs a row batched (≥ 200k rows/s), 20 µs a lone commit.
enum StoreBenchmarks {
    static func register() {
        batched("store.batch1000.sync", batch: 1_000, scalingFactor: .kilo, iterations: 200, async: false)
        batched("store.batch8192.sync", batch: 8_192, scalingFactor: .one, iterations: 24, async: false)
        batched("store.batch1000.async", batch: 1_000, scalingFactor: .kilo, iterations: 200, async: true)
        batched("store.commit1.sync", batch: 1, scalingFactor: .one, iterations: 5_000, async: false)
        batched("store.commit1.async", batch: 1, scalingFactor: .one, iterations: 5_000, async: true)

        // The detectors and one commit per step, as a live run's `Monitor.log(step)` (rlwatch 0.5.1's log_step ≈ 136 µs).
        let monitor = MonitorFeed()
        Benchmark(
            "monitor.log.sqlite",
            configuration: .init(
                maxIterations: 5_000, setup: { try await monitor.start(steps: 5_100) }, teardown: { await monitor.stop() })
        ) { benchmark async in
            blackHole(await monitor.next())
        }
    }

    /// Registers a benchmark appending `batch` rows per iteration (`scalingFactor` of them count as one
    /// iteration's operations: per row for the batched ones, per commit for the rest).
    static func batched(
        _ name: String, batch: Int, scalingFactor: BenchmarkScalingFactor, iterations: Int, async: Bool
    ) {
        let feed = RowFeed()
        let configuration = Benchmark.Configuration(
            scalingFactor: scalingFactor, maxDuration: .seconds(15), maxIterations: iterations,
            setup: { try await feed.start(rows: batch * (iterations + 2)) }, teardown: { feed.stop() })
        if async {
            Benchmark(name, configuration: configuration) { benchmark async throws in
                try await feed.store?.append(steps: feed.next(batch), alerts: [])
            }
        } else {
            Benchmark(name, configuration: configuration) { benchmark throws in
                try feed.store?.appendSynchronously(steps: feed.next(batch), alerts: [])
            }
        }
    }

    /// The first `count` steps of the replay input, as the analyzer stores them.
    static func storedRows(_ count: Int) throws -> [StoredStep] {
        let file = BenchInput.replayFile(lines: ReplayBenchmarks.lines)
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

    /// A fresh store with the run registered, and the rows appended to it across a benchmark's iterations.
    final class RowFeed {
        private(set) var store: SQLiteStore?
        private var rows: [StoredStep] = []
        private var position = 0
        private var directory: String?

        func start(rows count: Int) async throws {
            rows = try StoreBenchmarks.storedRows(count)
            let directory = makeTemporaryDirectory("store")
            self.directory = directory
            let store = try SQLiteStore(path: directory + "/metrics.db")
            try await store.registerRun(
                RunRecord(
                    runID: "bench", framework: "manual", startedAt: 1.7e9,
                    configJSON: Monitor.configJSON(RLWatchConfig())))
            self.store = store
            position = 0
        }

        /// The next `count` rows (none once the input is used up).
        func next(_ count: Int) -> [StoredStep] {
            let end = min(rows.count, position + count)
            defer { position = end }
            return Array(rows[position..<end])
        }

        func stop() {
            try? store?.close()
            store = nil
            rows = []
            if let directory { removeTree(directory) }
        }
    }

    /// A monitor on a fresh store, and the steps it logs across the benchmark's iterations.
    final class MonitorFeed {
        private var monitor: Monitor?
        private var store: SQLiteStore?
        private var steps: [MetricStep] = []
        private var position = 0
        private var directory: String?

        func start(steps count: Int) async throws {
            steps = BenchInput.scalarSteps(count + DetectorBenchmarks.primingSteps)
            let directory = makeTemporaryDirectory("monitor")
            self.directory = directory
            let store = try SQLiteStore(path: directory + "/metrics.db")
            let monitor = try await Monitor(config: RLWatchConfig(), runID: "bench", framework: "manual", store: store)
            for step in steps.prefix(DetectorBenchmarks.primingSteps) { blackHole(await monitor.log(step)) }
            position = DetectorBenchmarks.primingSteps
            self.store = store
            self.monitor = monitor
        }

        func next() async -> Int {
            guard let monitor, position < steps.count else { return 0 }
            defer { position += 1 }
            return await monitor.log(steps[position]).count
        }

        func stop() async {
            monitor = nil
            try? store?.close()
            store = nil
            if let directory { removeTree(directory) }
        }
    }
}
