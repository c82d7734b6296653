import ArgumentParser
import Foundation
import RLWatch
import RLWatchCore
import RLWatchStore

extension RLWatchCommand {
    struct Diagnose: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Report a run's health, metric summaries, alerts and where to roll back to.")

        enum Format: String, ExpressibleByArgument, CaseIterable { case text, json, markdown, rich }

        @OptionGroup var options: StoreOptions

        @Option(help: "The store: postgres://USER@HOST:PORT/DB or sqlite:PATH (default: storage.url, else metrics.db in the log dir).")
        var database: String?

        @Option(name: .customLong("run-id"), help: "The run to diagnose (default: the latest).")
        var runID: String?

        @Option(help: "Output format: text, json or markdown.")
        var format: Format = .text

        func run() async throws {
            let context = try CommandContext(options)
            try await context.withExistingStore(database: database) { store in try await report(store) }
        }

        private func report(_ store: any Store) async throws {
            let runID: String
            if let chosen = self.runID {
                runID = chosen
            } else if let latest = try await store.latestRun() {
                runID = latest.runID
            } else {
                printError("No runs found in database.")
                throw ExitStatus.failure
            }
            guard let diagnosis = try await Diagnosis.load(from: store, runID: runID) else {
                printError("Run \(runID) not found.")
                throw ExitStatus.failure
            }
            switch format {
            case .json: print(DiagnosisRenderer.json(diagnosis).prettyPrinted())
            case .markdown: print(DiagnosisRenderer.markdown(diagnosis))
            case .text, .rich: print(DiagnosisRenderer.text(diagnosis))
            }
        }
    }
}
