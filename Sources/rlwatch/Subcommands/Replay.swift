import ArgumentParser
import Foundation
import RLWatch
import RLWatchCore
import RLWatchIngest
import RLWatchStore

extension RLWatchCommand {
    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replay a finished log through the detectors: audit a run, or gate CI on it.",
            discussion: """
                One JSON object per line with an integer "step" and metric keys at top level, under "metrics" \
                or under "data"; or TensorBoard event files, or a log directory (read as `watch --no-follow` \
                reads it); or a TRL / Hugging Face trainer_state.json, whose log_history entries are \
                replayed (detected from a file name ending in trainer_state.json, or a .json file whose top \
                level has a log_history); or a CSV log or export with a header row and a step column (a .csv \
                file; W&B's "Export CSV" naming understood); or a W&B run's transaction log (run-<id>.wandb) or \
                wandb/ directory (its latest run; an exit record with a non-zero code raises run_crashed); or an \
                MLflow store (mlflow.db, or the mlruns/ file store: its newest run); or a Trackio database \
                (<project>.db). \
                --input-format forces one; --step-key reads the step from another key or column (global_step, \
                _step, iteration), with consecutive rows of the same step merged. Several files are replayed in order \
                as one run; "-" reads standard input. With text output, a note on stderr names the logged \
                key behind each metric, from each file's first step.
                """)

        @Argument(
            help: "Metrics JSONL, trainer_state.json, CSV, TensorBoard, W&B, MLflow or Trackio logs, or log directories, in order ('-' for standard input).")
        var files: [String]

        @Option(
            name: .customLong("input-format"),
            help: "\(InputFormat.names) (default: detected from each path, content first, as `watch` does).")
        var inputFormat: InputFormat?

        @Option(
            name: .customLong("step-key"),
            help: "The key (JSONL) or column (CSV) holding the step number, when it is not \"step\".")
        var stepKey: String?

        @OptionGroup var options: StoreOptions

        @Option(name: .customLong("run-id"), help: "Run id to store the replay under (default: generated).")
        var runID: String?

        @Option(help: "Output: text, or jsonl (one JSON object per delivered alert, nothing else on stdout).")
        var format: AlertOutputFormat = .text

        @Flag(name: .customLong("no-store"), help: "Do not store the replay in the log dir's database.")
        var noStore = false

        @Option(name: .customLong("fail-on"), help: "Exit 1 if an alert of this severity or worse was delivered.")
        var failOn: FailOn = .never

        @Flag(name: .customLong("skip-bad-lines"), help: "Warn about malformed lines on stderr and go on.")
        var skipBadLines = false

        @Flag(help: "Name the logged key behind each metric on stderr, also with --format jsonl (text output always does).")
        var explain = false

        @Option(help: "The store: postgres://USER@HOST:PORT/DB or sqlite:PATH (default: storage.url, else metrics.db in the log dir).")
        var database: String?

        func run() async throws {
            let context = try CommandContext(options, runID: runID)
            let chosenID = context.config.runID.isEmpty ? Monitor.generateRunID() : context.config.runID
            guard !noStore else {
                // Judged and printed only: the steps are not kept (a million-line replay would fill memory).
                return try await replay(context, runID: chosenID, store: (InMemoryStore(keepingSteps: false), nil))
            }
            let location = try context.storeLocation(database: database).description
            try await context.withStore(database: database) { store in
                try await replay(context, runID: chosenID, store: (store, location))
            }
        }

        /// Replays the files as run `runID` through the run pipeline into `store` (at the path or URL `location`; nil
        /// for `--no-store`).
        private func replay(
            _ context: CommandContext, runID chosenID: String, store: (store: any Store, location: String?)
        ) async throws {
            if let location = store.location, try await store.store.run(id: chosenID) != nil {
                let stored = try await store.store.stepCount(runID: chosenID)
                printError(
                    "error: run \(chosenID) already exists in \(location) (\(stored) steps); "
                        + "a replay would mix its steps with the stored ones. Choose another --run-id, or --no-store.")
                throw ExitStatus.badInput
            }
            let printer = BufferedAlertPrinter(format: format)
            let monitor = try await Monitor(
                config: context.config, runID: chosenID, store: store.store, sinks: [printer])
            let pipeline = RunPipeline(monitor: monitor)
            nonisolated(unsafe) let feeder = ReplayFeeder(pipeline: pipeline, printer: printer)
            let keyMap = MetricKeyMap(overrides: context.config.metrics.keys)
            let (format, explain) = (format, explain)
            nonisolated(unsafe) let input = ReplayInput(
                files: files, format: inputFormat, stepKey: stepKey, skipBadLines: skipBadLines,
                describeKeys: { file, keys in
                    guard format == .text || explain else { return }
                    printError("\(file.map { "metrics (\($0))" } ?? "metrics"): \(keyMap.describeSources(forKeys: keys))")
                }, report: { printError($0) })
            // The readers call back per step: they read on a thread of their own, which waits for each batch.
            if let failure = try await ReplayFeeder.runOnOwnThread({ try input.read(into: feeder, keyMap: keyMap) }) {
                printError("error: \(failure)")
                throw ExitStatus.badInput
            }
            // A replayed log is a run that ended: never watched for stalls by a later `serve`.
            try await store.store.finishRun(id: chosenID, at: AnyWallClock.system.now.secondsSince1970)
            let tally = pipeline.tally
            if format == .text { print(tally.line("Replayed", runID: chosenID)) }
            if failOn.isMet(by: tally.worstSeverity) { throw ExitStatus.failure }
        }
    }
}

extension AlertOutputFormat: ExpressibleByArgument {}
extension FailOn: ExpressibleByArgument {}
