import ArgumentParser
import Foundation
import Logging
import RLWatchAlerts
import RLWatch
import RLWatchCore
import RLWatchIngest
import RLWatchStore
import ServiceLifecycle

extension RLWatchCommand {
    struct Watch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Watch the logs a trainer already writes: TensorBoard, W&B, MLflow, Trackio, veRL, trainer_state.json, JSONL, CSV.",
            discussion: """
                Zero-code monitoring: point it at the files (or the log directory) the trainer writes. New steps \
                are judged as they appear and alerts print as they fire. The position in each file is stored \
                with the steps it covers, so a restarted watch of the same paths continues the same run (its id \
                is derived from the paths unless --run-id is given) with no step lost or counted twice. \
                Follows by default when a watched file changed in the last \(Self.recentSeconds / 60) minutes; \
                SIGINT or SIGTERM stops it cleanly (exit 0).
                """)

        /// A log changed this recently is taken to be still written: watched with `--follow` by default.
        static let recentSeconds = 300

        @Argument(
            help: "Log files or directories: TensorBoard event files, a wandb/ directory or .wandb file, mlflow.db or mlruns/, a Trackio .db, veRL/rlwatch metrics JSONL, trainer_state.json, CSV.")
        var paths: [String]

        @Option(help: "Input format: \(InputFormat.names) (default: detected from each path, content first).")
        var format: InputFormat?

        @Flag(
            inversion: .prefixedNo,
            help: "Keep polling for new data (default: when a watched file changed in the last 5 minutes).")
        var follow: Bool?

        @Option(name: .customLong("poll-interval"), help: "Seconds between two polls when following.")
        var pollInterval: Double = 1

        @Option(name: .customLong("run-id"), help: "Run id (default: the config's run_id, else derived from the paths).")
        var runID: String?

        @Option(help: "Output: text (alert panels on stderr), or jsonl (one JSON object per alert on stdout).")
        var output: AlertOutputFormat = .text

        @Flag(help: "Stop with exit status 2 at a malformed line instead of skipping it with a warning.")
        var strict = false

        @Flag(help: "Once the first steps are read, say which logged key feeds which metric and which detectors get no input.")
        var explain = false

        @Option(name: .customLong("fail-on"), help: "Exit 1 if an alert of this severity or worse was delivered.")
        var failOn: FailOn = .never

        @Flag(name: .customLong("no-store"), help: "Keep nothing (no resume): judge and print only.")
        var noStore = false

        @OptionGroup var options: StoreOptions

        @Option(help: "The store: postgres://USER@HOST:PORT/DB or sqlite:PATH (default: storage.url, else metrics.db in the log dir).")
        var database: String?

        func validate() throws {
            guard pollInterval > 0, pollInterval <= 3600 else {
                throw ValidationError("--poll-interval must be > 0 and <= 3600 seconds")
            }
        }

        func run() async throws {
            let context = try CommandContext(options, runID: runID)
            // SIGINT/SIGTERM end a wait for the log as well as the watch.
            try await RunEngine.untilSignalled(logger: Logger(label: "rlwatch.watch")) { stop in
                try await watch(context, until: stop)
            }
        }

        private func watch(_ context: CommandContext, until stop: WatchStopSignal) async throws {
            let keyMap = MetricKeyMap(overrides: context.config.metrics.keys)
            var targets: [WatchTarget] = []
            var waited = false
            for path in paths {
                if follow != false {
                    let poll = Duration.milliseconds(Int64((pollInterval * 1000).rounded()))
                    switch await WatchTarget.waitForLog(path, format: format, pollInterval: poll, until: stop, report: printError) {
                    case .ready(let hadToWait): waited = waited || hadToWait
                    case .stopped: return
                    }
                }
                do {
                    guard let chosen = format ?? InputFormat.detect(path: path) else {
                        throw WatchError.cannotWatch(
                            path, "cannot tell its format (no event files, W&B, MLflow or Trackio logs, trainer_state.json, .jsonl or .csv yet); pass --format")
                    }
                    targets.append(try WatchTarget(path: path, kind: .of(chosen, keyMap: keyMap)))
                } catch let error as WatchError {
                    printError("error: \(error.description)")
                    throw ExitStatus.badInput
                }
            }
            let recent = Date(timeIntervalSince1970: AnyWallClock.system.now.secondsSince1970 - Double(Self.recentSeconds))
            let following = follow ?? (waited || targets.contains { $0.changed(since: recent) })
            let location = noStore ? "" : try context.storeLocation(database: database).description
            try await context.withWritingStore(database: database, noStore: noStore) { store in
                let sinks: [any AlertSink] = output == .jsonl ? [JSONLAlertSink()] : [ConsoleAlertPrinter()]
                let watchOptions = Watcher.Options(
                    follow: following, pollInterval: .milliseconds(Int64((pollInterval * 1000).rounded())), strict: strict,
                    explain: explain, describeKeys: output == .text)
                // Alerts go to the configured channels through the store's outbox, sent by a dispatcher beside the watch.
                let dispatcher = AlertDispatcher.configured(
                    for: context.config, store: store, logger: Logger(label: "rlwatch.alerts"), clock: watchOptions.wallClock)
                let watcher: Watcher
                do {
                    watcher = try await Watcher.start(
                        targets: targets, config: context.config, store: store, sinks: sinks, options: watchOptions,
                        queueDeliveries: dispatcher != nil, report: { printError($0.description) })
                } catch let error as WatchError {
                    printError("error: \(error.description)")
                    throw ExitStatus.badInput
                }
                let described = targets.map { "\($0.path) (\($0.kind.format.rawValue))" }.joined(separator: ", ")
                let resumed = watcher.summary.restoredThroughStep.map {
                    "; resuming after step \($0) (\(watcher.summary.restoredSteps) stored steps)"
                }
                printError(
                    "rlwatch watch: run \(watcher.runID), \(following ? "following" : "reading") \(described)"
                        + (resumed ?? "") + (noStore ? "" : "; database \(location)"))

                // A following watch prunes old rows like serve (`storage.retention_days`); its outbox is drained at the end.
                let retention =
                    following && !noStore
                    ? RetentionService.configured(
                        for: context.config, store: store, clock: watchOptions.wallClock, logger: Logger(label: "rlwatch.retention"))
                    : nil
                let services: [any Service] = [dispatcher as (any Service)?, retention].compactMap { $0 }
                let outcome = await RunEngine.withServices(
                    services, draining: dispatcher == nil ? nil : store, clock: watchOptions.wallClock,
                    logger: Logger(label: "rlwatch.alerts")
                ) { await watcher.runAndFinish(until: stop) }
                switch outcome {
                case .success(let summary):
                    if output == .text { print(summary.line(runID: watcher.runID)) }
                    if failOn.isMet(by: summary.worstSeverity) { throw ExitStatus.failure }
                case .failure(let error):
                    printError("error: \(error)")
                    throw error is WatchError ? ExitStatus.badInput : ExitStatus.failure
                }
            }
        }
    }
}

extension InputFormat: ExpressibleByArgument {}
