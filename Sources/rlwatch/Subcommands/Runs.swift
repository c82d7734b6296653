import ArgumentParser
import Foundation
import RLWatch
import RLWatchStore

extension RLWatchCommand {
    struct Runs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List monitored runs, newest first.")

        @OptionGroup var options: StoreOptions

        @Option(help: "The store: postgres://USER@HOST:PORT/DB or sqlite:PATH (default: storage.url, else metrics.db in the log dir).")
        var database: String?

        func run() async throws {
            let context = try CommandContext(options)
            try await context.withExistingStore(database: database) { store in try await list(store) }
        }

        private func list(_ store: any Store) async throws {
            let runs = try await store.runs()
            guard !runs.isEmpty else {
                print("No runs found.")
                return
            }
            var rows: [[String]] = [["Run ID", "Framework", "Started At", "Steps", "Alerts", "Health"]]
            for run in runs {
                let alerts = try await store.alerts(runID: run.runID)
                let health = Diagnosis.health(of: alerts).rawValue
                rows.append([
                    run.runID, run.framework, formatLocalTime(run.startedAt),
                    String(try await store.stepCount(runID: run.runID)),
                    String(alerts.filter { $0.disposition.isDelivered }.count), health,
                ])
            }
            print("Training Runs")
            print(renderTextTable(rows))
        }
    }
}
