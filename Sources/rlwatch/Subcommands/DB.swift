import ArgumentParser
import Foundation
import RLWatchCore
import RLWatchPostgres
import RLWatchStore

extension RLWatchCommand {
    /// `rlwatch db`: the store's schema and housekeeping.
    struct DB: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "db",
            abstract: "Migrate, inspect and prune the store (SQLite or PostgreSQL).",
            subcommands: [Migrate.self, Status.self, Prune.self, Bench.self])

        /// `--database`, shared by the `db` subcommands.
        struct DatabaseOption: ParsableArguments {
            @Option(
                name: .customLong("database"),
                help: ArgumentHelp(
                    "postgres://USER@HOST:PORT/DB[?sslmode=...] or sqlite:PATH (default: storage.url, "
                        + "$RLWATCH_DATABASE_URL, else metrics.db in --log-dir)."))
            var database: String?
        }

        struct Migrate: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Create or upgrade the store's tables to this rlwatch's schema.",
                discussion: """
                    PostgreSQL: applies the missing numbered migrations, each in its own transaction, under an advisory \
                    lock (safe to run from several hosts at once). Every other command refuses a database that is not \
                    at this rlwatch's schema. SQLite files are upgraded in place when opened; this makes it explicit.
                    """)

            @OptionGroup var options: StoreOptions
            @OptionGroup var target: DatabaseOption

            func run() async throws {
                let context = try CommandContext(options)
                let location = try context.storeLocation(database: target.database)
                switch location {
                case .sqlite(let path):
                    try await context.withStore(database: target.database) { _ in }
                    print("SQLite database \(path) is at the current schema.")
                case .postgres(let url):
                    let outcome: (from: Int, applied: [Int])
                    do {
                        outcome = try await PostgresStore.migrate(url: url)
                    } catch {
                        printError("error: \(error)")
                        throw ExitStatus.failure
                    }
                    if outcome.applied.isEmpty {
                        print("PostgreSQL database \(url) is at schema version \(outcome.from): nothing to do.")
                    } else {
                        print(
                            "PostgreSQL database \(url) migrated from schema version \(outcome.from) to "
                                + "\(outcome.applied.last ?? outcome.from) (applied \(outcome.applied.map(String.init).joined(separator: ", "))).")
                    }
                }
            }
        }

        struct Status: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Print the store's schema version and what it holds.")

            @OptionGroup var options: StoreOptions
            @OptionGroup var target: DatabaseOption

            func run() async throws {
                let context = try CommandContext(options)
                let location = try context.storeLocation(database: target.database)
                try await context.withStore(database: target.database) { store in
                    if let postgres = store as? PostgresStore {
                        let version = try await postgres.storedSchemaVersion()
                        print("database: \(location)")
                        print("schema version: \(version) (this rlwatch: \(PostgresStore.schemaVersion))")
                    } else {
                        print("database: \(location)")
                    }
                    let runs = try await store.runs()
                    var steps = 0
                    for run in runs { steps += try await store.stepCount(runID: run.runID) }
                    print("runs: \(runs.count)")
                    print("metric rows: \(steps)")
                    print("pending deliveries: \(try await store.deliveries(runID: nil, filter: .pending).count)")
                }
            }
        }

        struct Prune: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Delete metric rows older than the retention period, keeping runs and alerts.",
                discussion: """
                    Uses storage.retention_days unless --days is given. `rlwatch serve` also prunes at start and \
                    hourly when storage.retention_days is set; this is for cron jobs and one-off clean-ups.
                    """)

            @OptionGroup var options: StoreOptions
            @OptionGroup var target: DatabaseOption

            @Option(help: "Keep this many days of metric rows (default: storage.retention_days).")
            var days: Int?

            func run() async throws {
                let context = try CommandContext(options)
                let days = days ?? context.config.storage.retentionDays
                guard days > 0 else {
                    printError("error: nothing to prune: set storage.retention_days or pass --days N (N >= 1)")
                    throw ExitStatus.badInput
                }
                let deleted = try await context.withStore(database: target.database) { store -> Int in
                    guard let prunable = store as? any RetentionStore else { return 0 }
                    return try await prunable.pruneSteps(before: RetentionPruner.cutoff(days: days))
                }
                print("Deleted \(deleted) metric row(s) older than \(days) day(s).")
            }
        }
    
        struct Bench: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Measure batched ingest into the store (steps/s), without HTTP or detectors.",
                discussion: """
                    Writes --steps synthetic steps (--rewards per-sample rewards each) for --runs new runs in parallel, \
                    --batch steps per append (one transaction each), and prints steps/s. Run it on a scratch database: \
                    the rows stay. A PostgreSQL database is migrated first.
                    """)

            @OptionGroup var options: StoreOptions
            @OptionGroup var target: DatabaseOption

            @Option(help: "Steps to write in all.")
            var steps = 200_000
            @Option(help: "Steps per append (one transaction).")
            var batch = 1_000
            @Option(help: "Runs written in parallel.")
            var runs = 4
            @Option(help: "Per-sample rewards per step.")
            var rewards = 64

            func validate() throws {
                guard steps >= 1, batch >= 1, runs >= 1, rewards >= 0 else {
                    throw ValidationError("--steps, --batch and --runs must be >= 1, --rewards >= 0")
                }
            }

            func run() async throws {
                let context = try CommandContext(options)
                let (steps, batch, runs, rewards) = (steps, batch, runs, rewards)
                let prefix = "bench-\(UUID().uuidString.prefix(8))"
                let batches = Self.batches(steps: steps / runs, batch: batch, rewards: rewards)
                let seconds = try await context.withStore(database: target.database, migrate: true) { store in
                    for index in 0..<runs {
                        try await store.registerRun(
                            RunRecord(runID: "\(prefix)-\(index)", framework: "manual", startedAt: Date().timeIntervalSince1970, configJSON: "{}"))
                    }
                    let clock = ContinuousClock()
                    let start = clock.now
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for index in 0..<runs {
                            group.addTask {
                                let runID = "\(prefix)-\(index)"
                                for rows in batches {
                                    let now = Date().timeIntervalSince1970
                                    try await store.append(
                                        steps: rows.map { StoredStep(runID: runID, segment: 0, timestamp: now, metrics: $0) },
                                        alerts: [])
                                }
                            }
                        }
                        try await group.waitForAll()
                    }
                    let elapsed = clock.now - start
                    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
                }
                let written = batches.reduce(0) { $0 + $1.count } * runs
                print("wrote \(written) steps (\(runs) runs x \(batch)-step batches, \(rewards) rewards each) in "
                    + String(format: "%.2f", seconds) + " s: " + String(format: "%.0f", Double(written) / seconds) + " steps/s")
            }

            /// The steps of one run, cut into batches: the monitored metrics with a little noise, `rewards` samples.
            static func batches(steps: Int, batch: Int, rewards: Int) -> [[MetricStep]] {
                var generator = SystemRandomNumberGenerator()
                let all = (0..<steps).map { step in
                    MetricStep(
                        step: step, entropy: 1.2 - Double(step) * 1e-6, klDivergence: 0.01 + Double.random(in: 0..<1e-3, using: &generator),
                        rewardMean: 0.5, rewardStd: 0.1, rewards: (0..<rewards).map { _ in Double.random(in: 0..<1, using: &generator) },
                        loss: 0.3, gradNorm: 1.0, learningRate: 1e-6, extras: ["clip_ratio/region_mean": 0.01])
                }
                return stride(from: 0, to: all.count, by: batch).map { Array(all[$0..<min($0 + batch, all.count)]) }
            }
        }
}
}
