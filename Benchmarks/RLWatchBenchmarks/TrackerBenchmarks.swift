#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import Benchmark
import Foundation
import GRDB
import RLWatch
import RLWatchCore
import RLWatchIngest
import RLWatchTesting
import RLWatchTrackers

/// `rlwatch replay` of the trackers' own files, in process (the sources `watch` reads them with + the run pipeline,
/// no store), beside the same number of JSONL steps: a W&B transaction log of 100k steps and an MLflow SQLite store
/// of 100k steps (one row per key and step, as MLflow stores them), each step with the 14 keys of the JSONL input
/// under TRL's `train/` names.
enum TrackerBenchmarks {
    static let steps = 100_000

    static func register() {
        // One iteration replays a whole log: its time a step is the wall clock over `steps`.
        let configuration = Benchmark.Configuration(maxDuration: .seconds(30), maxIterations: 3)
        Benchmark("replay.tracker.jsonl", configuration: configuration) { benchmark in
            let file = BenchInput.replayFile(lines: steps)
            benchmark.startMeasurement()
            try await replayJSONL(file)
        }
        Benchmark("replay.tracker.wandb", configuration: configuration) { benchmark in
            let file = wandbFile()
            benchmark.startMeasurement()
            try await replay(file, format: .wandb, benchmark)
        }
        Benchmark("replay.tracker.mlflow", configuration: configuration) { benchmark in
            let file = try mlflowStore()
            benchmark.startMeasurement()
            try await replay(file, format: .mlflow, benchmark)
        }
    }

    static let keys = [
        "loss", "grad_norm", "learning_rate", "num_tokens", "completions/mean_length", "completions/clipped_ratio",
        "reward", "reward_std", "frac_reward_zero_std", "kl", "entropy", "clip_ratio/region_mean", "step_time", "epoch",
    ].map { "train/" + $0 }

    /// One step's values: smooth, noisy, healthy.
    static func values(_ index: Int, _ rng: inout SeededRandom) -> [(String, Double)] {
        let t = Double(index) / Double(steps)
        return keys.enumerated().map { position, key in
            (key, 1 + Double(position) * 0.1 * (1 + 0.1 * rng.gaussian()) - 0.2 * t)
        }
    }

    static func wandbFile() -> String {
        let path = "\(BenchPaths.root)/tracker-\(steps).wandb"
        if access(path, R_OK) == 0 { return path }
        note("generating \(path) …")
        var rng = SeededRandom(seed: 7)
        var writer = WandbTransactionLogWriter()
        for index in 0..<steps {
            writer.appendHistory(step: index + 1, values: values(index, &rng), timestamp: 1.7e9 + Double(index))
        }
        writer.appendExit(code: 0)
        FileManager.default.createFile(atPath: path, contents: Data(writer.bytes))
        return path
    }

    /// An MLflow SQLite store with MLflow's `runs` and `metrics` columns (its other tables play no part in reading).
    static func mlflowStore() throws -> String {
        let path = "\(BenchPaths.root)/tracker-\(steps)-mlflow.db"
        if access(path, R_OK) == 0 { return path }
        note("generating \(path) …")
        let partial = path + ".partial"
        unlink(partial)
        let queue = try DatabaseQueue(path: partial)
        try queue.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE experiments (experiment_id INTEGER PRIMARY KEY, name VARCHAR(256));
                    CREATE TABLE runs (run_uuid VARCHAR(32) PRIMARY KEY, name VARCHAR(250), status VARCHAR(9),
                        start_time BIGINT, end_time BIGINT, lifecycle_stage VARCHAR(20), experiment_id INTEGER);
                    CREATE TABLE "metrics" ("key" VARCHAR(250) NOT NULL, value FLOAT NOT NULL, timestamp BIGINT NOT NULL,
                        run_uuid VARCHAR(32) NOT NULL, step BIGINT DEFAULT '0' NOT NULL, is_nan BOOLEAN DEFAULT '0' NOT NULL,
                        CONSTRAINT metric_pk PRIMARY KEY ("key", timestamp, step, run_uuid, value, is_nan));
                    INSERT INTO experiments VALUES (0, 'Default');
                    INSERT INTO runs VALUES ('bench', 'bench-run', 'FINISHED', 1700000000000, 1700000100000, 'active', 0);
                    """)
            let insert = try db.makeStatement(sql: "INSERT INTO metrics VALUES (?, ?, ?, 'bench', ?, 0)")
            var rng = SeededRandom(seed: 7)
            for index in 0..<steps {
                for (key, value) in values(index, &rng) {
                    try insert.execute(arguments: [key, value, 1_700_000_000_000 + index, index + 1])
                }
            }
        }
        try queue.close()
        rename(partial, path)
        return path
    }

    /// The JSONL baseline: the same steps through the JSONL reader and the run pipeline, no store.
    static func replayJSONL(_ file: String) async throws {
        try await ReplayBenchmarks.replayInProcess(file, store: nil)
    }

    /// Reads the log through the sources `watch` uses, into the run pipeline without a store.
    static func replay(_ path: String, format: InputFormat, _ benchmark: Benchmark) async throws {
        // Read on the replay's own thread only (the kind holds closures that are not `Sendable`).
        nonisolated(unsafe) let kind = WatchSourceKind.of(format)
        let judged = try await ReplayBenchmarks.replayInProcess(store: nil) { feeder in
            try WatchTarget(path: path, kind: kind).readToEnd(WatchPollOptions(strict: true)) { poll in
                for step in poll.steps { try feeder.consume(step) }
            }
        }
        if judged != steps { benchmark.error("\(path): \(judged) steps read, \(steps) expected") }
    }
}
