import Foundation
import Logging
import RLWatchCore
import RLWatchStore

/// Runs `actions.command` for one alert: the alert as JSON on stdin, `RLWATCH_*` variables, a timeout.
///
/// The dispatcher calls it for outbox entries of the ``AlertCommand/channel`` channel, so each matching alert is
/// run once: the entry is claimed before the command starts and marked final after it ends, whatever its exit status
/// (a command is never retried: `scancel` twice is not what anyone wants). The program is executed directly, its
/// arguments as written, unless `actions.shell` asks for `/bin/sh -c`. Every run (or dry run) is recorded with the
/// alert's actions (``RLWatchStore/Store/recordAlertAction(_:)``): what, when, why, exit status and output.
public struct AlertCommandRunner: Sendable {
    public let config: ActionsConfig
    let actions: any Store
    let logger: Logger

    public init(config: ActionsConfig, actions: any Store, logger: Logger) {
        self.config = config
        self.actions = actions
        self.logger = logger
    }

    /// The runner for `actions`, or nil when no command is configured.
    public static func configured(
        _ actions: ActionsConfig, store: any Store, logger: Logger
    ) -> AlertCommandRunner? {
        actions.command.isEmpty ? nil : AlertCommandRunner(config: actions, actions: store, logger: logger)
    }

    /// The argv actually executed.
    var argv: [String] {
        config.shell ? ["/bin/sh", "-c", config.command.joined(separator: " ")] : config.command
    }

    /// Runs the command for `record` and records what happened.
    ///
    /// - Returns: the delivery outcome: delivered on exit 0, failed otherwise (never retryable), skipped on a dry run.
    public func run(_ record: AlertRecord, now: Date) async -> AttemptOutcome {
        let alert = record.alert
        let reason = "actions.command (\(alert.severity.rawValue) at or above actions.min_severity \(config.minSeverity))"
        let outcome: AttemptOutcome
        var output = ""
        var result: String
        if config.dryRun {
            result = "dry_run"
            outcome = .skipped(detail: "dry run: would run \(argv)")
            logger.notice("rlwatch dry run: would run \(argv) for \(alert.severity.rawValue) \(alert.detector) at step \(alert.step) of run \(record.runID)")
        } else {
            let ran = await execute(record)
            output = ran.output
            switch ran.status {
            case .exited(0):
                result = "exit 0"
                outcome = .delivered(status: nil)
            case .exited(let code):
                result = "exit \(code)"
                outcome = .failed(status: nil, detail: "exit \(code): \(Self.excerpt(output))")
            case .timedOut:
                result = "timed out after \(config.timeoutSeconds) s"
                outcome = .failed(status: nil, detail: "\(result): \(Self.excerpt(output))")
            case .couldNotStart(let why):
                result = "could not start: \(why)"
                outcome = .configurationError(detail: result)
            }
            if case .delivered = outcome {} else {
                logger.error("rlwatch actions.command for alert \(record.id ?? 0) of run \(record.runID): \(result)")
            }
        }
        do {
            try await actions.recordAlertAction(
                AlertActionRecord(
                    runID: record.runID, time: now.timeIntervalSince1970, action: "command", actor: "server",
                    step: alert.step, detector: alert.detector.rawValue, severity: alert.severity.rawValue,
                    reason: reason + ": " + argv.joined(separator: " "), result: result, output: output))
        } catch {
            logger.error("rlwatch could not record the command run for alert \(record.id ?? 0): \(error)")
        }
        return outcome
    }

    enum Status: Equatable {
        case exited(Int32)
        case timedOut
        case couldNotStart(String)
    }

    /// The `RLWATCH_*` variables the command gets on top of rlwatch's own environment.
    static func environment(for record: AlertRecord) -> [String: String] {
        let alert = record.alert
        var variables = [
            "RLWATCH_RUN_ID": record.runID,
            "RLWATCH_ALERT_ID": record.id.map(String.init) ?? "",
            "RLWATCH_DETECTOR": alert.detector.rawValue,
            "RLWATCH_SEVERITY": alert.severity.rawValue,
            "RLWATCH_STEP": String(alert.step),
            "RLWATCH_ONSET_STEP": String(alert.onsetStep),
            "RLWATCH_MESSAGE": alert.message,
        ]
        if let resume = alert.resumeFrom {
            variables["RLWATCH_RESUME_FROM"] = resume.path
            variables["RLWATCH_RESUME_FROM_STEP"] = String(resume.step)
        }
        return variables
    }

    /// The JSON the command reads on stdin: the alert as the API shows it, with its run and id.
    static func payload(for record: AlertRecord) -> String {
        var members: [(String, JSONValue)] = [
            ("run_id", .string(record.runID)), ("alert_id", record.id.map { .int(Int($0)) } ?? .null),
        ]
        if case .object(let alert) = record.alert.json { members += alert }
        return JSONValue.object(members).serialized() + "\n"
    }

    private func execute(_ record: AlertRecord) async -> (status: Status, output: String) {
        let argv = argv
        guard let program = argv.first, !program.isEmpty else { return (.couldNotStart("actions.command is empty"), "") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.resolve(program))
        process.arguments = Array(argv.dropFirst())
        process.environment = ProcessInfo.processInfo.environment.merging(Self.environment(for: record)) { $1 }
        // Files, not pipes, on both sides: a command that exits without reading its stdin (`scancel`) must not
        // kill rlwatch with SIGPIPE, and one that prints a lot must not block on a full pipe.
        let temporary = FileManager.default.temporaryDirectory
        let tag = UUID().uuidString
        let inputFile = temporary.appendingPathComponent("rlwatch-command-\(tag).in")
        let outputFile = temporary.appendingPathComponent("rlwatch-command-\(tag).out")
        guard FileManager.default.createFile(atPath: inputFile.path, contents: Data(Self.payload(for: record).utf8)),
            FileManager.default.createFile(atPath: outputFile.path, contents: nil),
            let inputHandle = try? FileHandle(forReadingFrom: inputFile),
            let outputHandle = try? FileHandle(forWritingTo: outputFile)
        else { return (.couldNotStart("cannot create the files for its stdin and output in \(temporary.path)"), "") }
        defer {
            try? inputHandle.close()
            try? outputHandle.close()
            try? FileManager.default.removeItem(at: inputFile)
            try? FileManager.default.removeItem(at: outputFile)
        }
        process.standardInput = inputHandle
        process.standardOutput = outputHandle
        process.standardError = outputHandle
        let exited = AsyncStream<Int32>.makeStream()
        process.terminationHandler = { finished in
            exited.continuation.yield(finished.terminationStatus)
            exited.continuation.finish()
        }
        do {
            try process.run()
        } catch {
            return (.couldNotStart("\(program): \(error.localizedDescription)"), "")
        }

        let timeout = Duration.milliseconds(Int64(config.timeoutSeconds * 1000))
        let status: Status = await withTaskGroup(of: Status?.self) { group in
            group.addTask {
                for await code in exited.stream { return .exited(code) }
                return nil  // cancelled: the timeout won
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return Task.isCancelled ? nil : .timedOut
            }
            var first: Status? = nil
            for await value in group {
                if let value {
                    first = value
                    break
                }
            }
            if first == .timedOut {
                process.terminate()
                try? await Task.sleep(for: .seconds(2))
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            }
            group.cancelAll()
            return first ?? .timedOut
        }
        try? outputHandle.synchronize()
        let data = (try? Data(contentsOf: outputFile)) ?? Data()
        return (status, String(decoding: data.prefix(AlertActionRecord.outputLimit), as: UTF8.self))
    }

    /// A program name without a slash is looked up on `PATH`, as a shell would.
    static func resolve(_ program: String) -> String {
        if program.contains("/") { return program }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(program)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return program
    }

    static func excerpt(_ output: String) -> String {
        let line = output.replacingOccurrences(of: "\n", with: " ").trimmingCharacters(in: .whitespaces)
        return line.isEmpty ? "no output" : String(line.prefix(200))
    }
}
