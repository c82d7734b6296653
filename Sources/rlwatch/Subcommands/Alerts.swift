import ArgumentParser
import Foundation
import RLWatch
import RLWatchStore

extension RLWatchCommand {
    struct Alerts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "alerts",
            abstract: "Show where each alert's delivery to each channel stands (the outbox and its log).",
            discussion: """
                One row per alert and channel: delivered, pending (with the next attempt's time) or failed (with \
                the last error). Secrets never appear: errors are stored scrubbed.
                """)

        @OptionGroup var options: StoreOptions

        @Option(help: "The store: postgres://USER@HOST:PORT/DB or sqlite:PATH (default: storage.url, else metrics.db in the log dir).")
        var database: String?

        @Option(name: .customLong("run-id"), help: "Only this run (default: every run).")
        var runID: String?

        @Flag(name: .customLong("pending"), help: "Only deliveries still to be made.")
        var pending = false

        @Flag(name: .customLong("failed"), help: "Only deliveries given up.")
        var failed = false

        @Flag(name: .customLong("attempts"), help: "List every attempt under its delivery.")
        var attempts = false

        func validate() throws {
            if pending && failed { throw ValidationError("--pending and --failed cannot be combined") }
        }

        func run() async throws {
            let context = try CommandContext(options)
            try await context.withExistingStore(database: database) { store in try await show(store) }
        }

        private func show(_ store: any Store) async throws {
            let filter: DeliveryFilter = pending ? .pending : failed ? .failed : .all
            let deliveries = try await store.deliveries(runID: runID, filter: filter)
            guard !deliveries.isEmpty else {
                print(pending ? "No pending deliveries." : failed ? "No failed deliveries." : "No alert deliveries recorded.")
                return
            }
            var alertsByID: [Int64: AlertRecord] = [:]
            for run in Set(deliveries.map(\.runID)) {
                for alert in try await store.alerts(runID: run, filter: .delivered) {
                    if let id = alert.id { alertsByID[id] = alert }
                }
            }
            var rows: [[String]] = [["Alert", "Run", "Step", "Detector", "Severity", "Channel", "Status", "Attempts", "Detail"]]
            var attemptLines: [String] = []
            for delivery in deliveries {
                let alert = alertsByID[delivery.alertID]?.alert
                var detail = delivery.lastDetail ?? ""
                if delivery.status == .pending {
                    detail = "next attempt \(formatLocalTime(delivery.nextAttemptAt))" + (detail.isEmpty ? "" : "; last: \(detail)")
                }
                rows.append([
                    String(delivery.alertID), delivery.runID, alert.map { String($0.step) } ?? "?",
                    alert?.detector.rawValue ?? "?", alert?.severity.rawValue ?? "?", delivery.channel,
                    delivery.status.rawValue, String(delivery.attempts), String(detail.prefix(120)),
                ])
                if attempts {
                    for attempt in try await store.deliveryAttempts(deliveryID: delivery.id) {
                        let status = attempt.httpStatus.map { " HTTP \($0)" } ?? ""
                        attemptLines.append(
                            "alert \(delivery.alertID) \(delivery.channel) #\(attempt.attempt) "
                                + "\(formatLocalTime(attempt.time)) \(attempt.outcome)\(status): \(attempt.detail)")
                    }
                }
            }
            print("Alert deliveries")
            print(renderTextTable(rows))
            if !attemptLines.isEmpty {
                print("\nAttempts")
                for line in attemptLines { print(line) }
            }
        }
    }
}
