import ArgumentParser
import Foundation
import RLWatch
import RLWatchCore
import RLWatchStore

extension RLWatchCommand {
    struct Demo: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Simulate a GRPO run that collapses, watch rlwatch catch it, then diagnose it.")

        @OptionGroup var options: StoreOptions

        @Option(help: "Steps to simulate.")
        var steps = 500

        @Option(name: .customLong("collapse-at"), help: "Step where entropy starts to collapse.")
        var collapseAt = 280

        @Option(help: "Random seed of the simulation.")
        var seed: UInt64 = 0

        @Option(name: .customLong("run-id"), help: "Run id (default: a generated one).")
        var runID: String?

        @Option(name: .customLong("delay-ms"), help: "Pause between steps, to watch it live (milliseconds).")
        var delayMilliseconds = 0

        @Flag(name: .customLong("no-store"), help: "Keep everything in memory instead of the log dir's database.")
        var noStore = false

        @Option(help: "The store: postgres://USER@HOST:PORT/DB or sqlite:PATH (default: storage.url, else metrics.db in the log dir).")
        var database: String?

        func validate() throws {
            guard steps > 0 else { throw ValidationError("--steps must be > 0") }
            guard collapseAt >= 0 else { throw ValidationError("--collapse-at must be >= 0") }
        }

        func run() async throws {
            let context = try CommandContext(options)
            let location = noStore ? "" : try context.storeLocation(database: database).description
            try await context.withWritingStore(database: database, noStore: noStore) { store in
                let console = ConsoleAlertPrinter()
                let monitor = try await Monitor(
                    config: context.config, runID: runID ?? "demo_\(Monitor.generateRunID().dropFirst(4))",
                    framework: "manual", store: store, sinks: [console])
                printError("rlwatch demo: simulating a \(steps)-step GRPO run (entropy collapses at step \(collapseAt))")
                printError("run id: \(monitor.runID)\(noStore ? "" : "  database: \(location)")")
                let run = DemoRun.entropyCollapseWithKLRunaway(steps: steps, collapseAt: collapseAt, seed: seed)
                var progress = ProgressBar(total: run.count)
                let pipeline = RunPipeline(monitor: monitor)
                for step in run {
                    let raised = try await pipeline.judge([step]).contains { $0.disposition.isDelivered }
                    let delivered = pipeline.tally.delivered.count
                    progress.update(step.step + 1, note: "\(delivered) alert\(delivered == 1 ? "" : "s")", force: raised)
                    if delayMilliseconds > 0 { try await Task.sleep(for: .milliseconds(delayMilliseconds)) }
                }
                progress.finish()
                // The simulated run is over: a later `serve` must not report it stalled.
                try await store.finishRun(id: monitor.runID, at: monitor.clock.now.secondsSince1970)
                guard let diagnosis = try await Diagnosis.load(from: store, runID: monitor.runID) else { return }
                print(DiagnosisRenderer.text(diagnosis))
                if !noStore {
                    print("")
                    print("Stored in \(location). Try: rlwatch diagnose --run-id \(monitor.runID) --format json")
                }
            }
        }
    }
}

/// A one-line progress bar on stderr when it is a terminal; a line every 10 % otherwise.
struct ProgressBar {
    let total: Int
    let interactive = isatty(STDERR_FILENO) == 1
    private var lastDecile = -1

    init(total: Int) { self.total = max(1, total) }

    mutating func update(_ done: Int, note: String, force: Bool = false) {
        let fraction = Double(done) / Double(total)
        if interactive {
            let width = 30
            let filled = Int(fraction * Double(width))
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
            FileHandle.standardError.write(Data("\r\(bar) \(done)/\(total)  \(note)   ".utf8))
        } else {
            let decile = Int(fraction * 10)
            if decile != lastDecile || force {
                lastDecile = decile
                printError("[\(done)/\(total)] \(note)")
            }
        }
    }

    func finish() {
        if interactive { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
