import ArgumentParser
import Foundation
import RLWatchCore
import RLWatchStore

extension RLWatchCommand {
    /// `rlwatch migrate-store`: copies a whole store into another (SQLite → PostgreSQL when a team outgrows a file).
    struct MigrateStore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "migrate-store",
            abstract: "Copy runs, metric rows and alerts from one store into another, empty one.",
            discussion: """
                Example: rlwatch migrate-store --from sqlite:./rlwatch_logs/metrics.db --to postgres://rlwatch@db:5432/rlwatch
                A PostgreSQL target is migrated to the current schema first. Rows are copied as stored: segments, \
                arrival times, NaN and ±Infinity exactly; each run's rows in transactions of --chunk rows. The target \
                must hold no runs (the copy is refused otherwise, so a second run cannot duplicate anything). Alert \
                deliveries (the outbox) are not copied: what was sent stays sent, and nothing is sent again.
                """)

        @OptionGroup var options: StoreOptions

        @Option(help: "The store to copy from: sqlite:PATH or postgres://…")
        var from: String

        @Option(help: "The store to copy into: postgres://… or sqlite:PATH.")
        var to: String

        @Option(help: "Metric rows per transaction.")
        var chunk = 5_000

        func validate() throws {
            guard chunk >= 1 else { throw ValidationError("--chunk must be >= 1") }
        }

        func run() async throws {
            let context = try CommandContext(options)
            let source = try context.storeLocation(database: from)
            let target = try context.storeLocation(database: to)
            guard source.description != target.description else {
                printError("error: --from and --to are the same store (\(source))")
                throw ExitStatus.badInput
            }
            if case .sqlite(let path) = source, !FileManager.default.fileExists(atPath: path) {
                printError("error: No rlwatch database found at \(path)")
                throw ExitStatus.failure
            }
            let chunk = chunk
            let totals = try await context.withStore(database: from) { input in
                try await context.withStore(database: to, migrate: true) { output in
                    let existing = try await output.runs()
                    guard existing.isEmpty else {
                        printError(
                            "error: \(target) already holds \(existing.count) run(s); migrate-store copies into an empty "
                                + "store only (nothing was copied)")
                        throw ExitStatus.failure
                    }
                    return try await Self.copy(from: input, to: output, chunk: chunk)
                }
            }
            print("Copied \(totals.runs) run(s), \(totals.steps) metric row(s) and \(totals.alerts) alert(s) from \(source) to \(target).")
        }

        /// Copies every run, oldest first, with its rows in arrival order and its alerts.
        static func copy(from input: any Store, to output: any Store, chunk: Int) async throws
            -> (runs: Int, steps: Int, alerts: Int)
        {
            var totals = (runs: 0, steps: 0, alerts: 0)
            for run in try await input.runs().reversed() {
                try await output.registerRun(run)
                let steps = try await input.steps(runID: run.runID)
                var start = 0
                while start < steps.count {
                    let end = min(start + chunk, steps.count)
                    try await output.append(steps: Array(steps[start..<end]), alerts: [])
                    start = end
                }
                var alerts = try await input.alerts(runID: run.runID)
                for index in alerts.indices {
                    alerts[index].id = nil
                    alerts[index].channels = []
                }
                if !alerts.isEmpty { try await output.append(steps: [], alerts: alerts) }
                totals.runs += 1
                totals.steps += steps.count
                totals.alerts += alerts.count
            }
            return totals
        }
    }
}
