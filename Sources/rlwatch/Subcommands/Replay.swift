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

        enum FailOn: String, ExpressibleByArgument, CaseIterable { case warning, critical, never }

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
        var format: ReplayRunner.OutputFormat = .text

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
                return try await replay(context, runID: chosenID, store: nil, persist: nil)
            }
            switch try context.storeLocation(database: database) {
            case .sqlite(let path):
                let store = try SQLiteStore(path: path)
                defer { try? store.close() }
                try await replay(
                    context, runID: chosenID, store: (store, path),
                    persist: { steps, alerts in try store.appendSynchronously(steps: steps, alerts: alerts) })
            case .postgres(let url):
                // PostgreSQL writes asynchronously: the replay runs on a thread of its own and waits for each batch.
                try await context.withStore(database: database) { store in
                    let writer = BlockingStoreWriter(store: store)
                    try await replay(
                        context, runID: chosenID, store: (store, url.description), onOwnThread: true,
                        persist: { steps, alerts in try writer.append(steps: steps, alerts: alerts) })
                }
            }
        }

        /// Replays the files as run `runID`, storing into `store` (at the path or URL `location`) through `persist`.
        ///
        /// - Parameter onOwnThread: read on a thread of its own, where `persist` may wait for an asynchronous store.
        private func replay(
            _ context: CommandContext, runID chosenID: String, store: (store: any Store, location: String)?,
            onOwnThread: Bool = false, persist: (([StoredStep], [AlertRecord]) throws -> Void)?
        ) async throws {
            if let (store, location) = store {
                if try await store.run(id: chosenID) != nil {
                    let stored = try await store.stepCount(runID: chosenID)
                    printError(
                        "error: run \(chosenID) already exists in \(location) (\(stored) steps); "
                            + "a replay would mix its steps with the stored ones. Choose another --run-id, or --no-store.")
                    throw ExitStatus.badInput
                }
                try await store.registerRun(
                    RunRecord(
                        runID: chosenID, framework: context.config.framework,
                        startedAt: Date().timeIntervalSince1970, configJSON: Monitor.configJSON(context.config)))
            }
            let runner = ReplayRunner(config: context.config, runID: chosenID, format: format, persist: persist)
            let keyMap = MetricKeyMap(overrides: context.config.metrics.keys)
            let failure: String?
            if onOwnThread {
                nonisolated(unsafe) let runner = runner
                failure = try await BlockingStoreWriter.runOnOwnThread { [self] in try readAll(into: runner, keyMap: keyMap) }
            } else {
                failure = try readAll(into: runner, keyMap: keyMap)
            }
            if let failure {
                printError("error: \(failure)")
                throw ExitStatus.badInput
            }
            // A replayed log is a run that ended: never watched for stalls by a later `serve`.
            try await store?.store.finishRun(id: chosenID, at: Date().timeIntervalSince1970)
            if format == .text { print(runner.summary) }
            switch (failOn, runner.worstSeverity) {
            case (.warning, .some), (.critical, .critical?): throw ExitStatus.failure
            default: break
            }
        }

        /// Reads every file into the runner and stores what it judged.
        ///
        /// - Returns: what was wrong with the input that stopped the replay (everything before it is stored), or nil.
        /// - Throws: the store's errors.
        private func readAll(into runner: ReplayRunner, keyMap: MetricKeyMap) throws -> String? {
            let policy: MetricsJSONLReader.BadLinePolicy =
                skipBadLines ? .skip(report: { printError("warning: skipped \($0.description)") }) : .stop
            do {
                for file in files {
                    let describeKeys: ([String]) -> Void = { [format, explain, files] keys in
                        guard format == .text || explain else { return }
                        let prefix = files.count > 1 ? "metrics (\(file))" : "metrics"
                        printError("\(prefix): \(keyMap.describeSources(forKeys: keys))")
                    }
                    let noteKeys: (RawMetricsLine) -> Void = { describeKeys(Array($0.values.keys)) }
                    let chosen = format(of: file)
                    // A log directory is read as `watch` reads it: every log file of its format, in the same order.
                    if Self.isDirectory(file), let kind = WatchSourceKind.of(chosen, keyMap: keyMap) {
                        try readToEnd(WatchTarget(path: file, kind: kind), into: runner, noteKeys: describeKeys)
                        continue
                    }
                    switch chosen {
                    case .jsonl where stepKey != nil, .verl where stepKey != nil, .csv:
                        let reader = SelectedRowsReader(
                            path: file, format: chosen == .csv ? .csv : .jsonl,
                            selection: RowSelection(stepKey: stepKey ?? "step"), keyMap: keyMap)
                        var first = true
                        try reader.forEachLine { line in
                            if first { noteKeys(line) }
                            first = false
                            try runner.consume(keyMap.makeStep(step: line.step, values: line.values, rewards: line.rewards))
                        }
                    case .jsonl, .verl:
                        try MetricsJSONLReader(path: file, keyMap: keyMap).forEachStep(onBadLine: policy, firstLine: noteKeys) {
                            try runner.consume($0)
                        }
                    case .trainerState:
                        try TrainerStateReader(path: file, keyMap: keyMap).forEachStep(firstEntry: noteKeys) { try runner.consume($0) }
                    case .tensorboard, .wandb, .mlflow, .trackio:
                        guard let kind = WatchSourceKind.of(chosen, keyMap: keyMap) else { continue }
                        try readToEnd(WatchTarget(path: file, kind: kind), into: runner, noteKeys: describeKeys)
                    }
                }
                try runner.flush()
                return nil
            } catch let error as MetricsFileError {
                try runner.flush()
                return error.description
            } catch let error as TrainerStateError {
                try runner.flush()
                return error.description
            } catch let error as WatchError {
                try runner.flush()
                return error.description
            } catch let error as SelectedRowsError {
                try runner.flush()
                return error.description
            }
        }
    }
}

extension RLWatchCommand.Replay {
    /// The explicit `--input-format`, or the one the path looks like (as `watch` detects it); JSONL for a path
    /// that does not tell, so that the reader says what is wrong with it.
    func format(of file: String) -> InputFormat {
        inputFormat ?? InputFormat.detect(path: file) ?? InputFormat.named(file) ?? .jsonl
    }
}

extension RLWatchCommand.Replay {
    /// Reads a log directory or a TensorBoard log through the sources `watch` reads it with, to its end.
    ///
    /// - Parameters:
    ///   - noteKeys: receives the logged keys of the first step.
    /// - Throws: ``WatchError`` for a malformed record (unless `--skip-bad-lines`: then a warning) or a log that
    ///   cannot be read; the runner's errors.
    func readToEnd(_ target: WatchTarget, into runner: ReplayRunner, noteKeys: ([String]) -> Void) throws {
        var noted = false
        try target.readToEnd(WatchPollOptions(strict: !skipBadLines, keysWanted: 1)) { poll in
            for note in poll.notes {
                printError(note.kind == .info ? "rlwatch replay: \(note.text)" : note.description)
            }
            if !noted, !poll.keys.isEmpty {
                noted = true
                noteKeys(poll.keys)
            }
            for step in poll.steps { try runner.consume(step) }
            if let crash = poll.crashed {
                printError("rlwatch replay: the tracker recorded that the run crashed")
                try runner.crashed(crash)
            }
        }
    }

    static func isDirectory(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }
}

extension ReplayRunner.OutputFormat: ExpressibleByArgument {}
