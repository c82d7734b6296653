import ArgumentParser
import Foundation
import RLWatch
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
                    print("database: \(location)")
                    if let (stored, current) = try await store.schemaVersions() {
                        print("schema version: \(stored) (this rlwatch: \(current))")
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
                    hourly when storage.retention_days is set, and so does a following `watch`; this is for cron jobs and one-off clean-ups.
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
                    try await store.pruneSteps(before: RetentionService.cutoff(days: days, now: SystemWallClock().now))
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
                let bench = StoreBenchmark(steps: steps, batch: batch, runs: runs, rewards: rewards)
                let seconds = try await context.withStore(database: target.database, migrate: true) { store in
                    try await bench.run(on: store, clock: AnyWallClock(SystemWallClock()))
                }
                print("wrote \(bench.written) steps (\(runs) runs x \(batch)-step batches, \(rewards) rewards each) in "
                    + String(format: "%.2f", seconds) + " s: " + String(format: "%.0f", Double(bench.written) / seconds) + " steps/s")
            }
        }
}
}
