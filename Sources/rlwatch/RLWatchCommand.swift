import ArgumentParser
import Foundation
import Logging
import RLWatch

/// `rlwatch`: watches GRPO/PPO training runs and says, early and without spam, when they go wrong.
@main
struct RLWatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rlwatch",
        abstract: "Watch GRPO/PPO training runs for entropy collapse, KL explosion, reward hacking and more.",
        version: "rlwatch, version \(RLWatchVersion.current)",
        subcommands: [Demo.self, Replay.self, Watch.self, Serve.self, Dashboard.self, Diagnose.self, Runs.self, Alerts.self, TestAlert.self, Init.self, ConfigCommand.self, DB.self, MigrateStore.self, Eval.self]
    )
}

extension RLWatchCommand {
    /// Runs the command; usage errors exit 2 like every other bad input (ArgumentParser's default is 64).
    ///
    /// The libraries log to the task's `Logger.current` unless given a logger: bound here, once.
    static func main() async {
        do {
            try await withLogger(Logger(label: "rlwatch")) { _ in
                var command = try parseAsRoot()
                if var asyncCommand = command as? any AsyncParsableCommand {
                    try await asyncCommand.run()
                } else {
                    try command.run()
                }
            }
        } catch {
            if exitCode(for: error) == .validationFailure {
                printError(fullMessage(for: error))
                Foundation.exit(ExitStatus.badInput.rawValue)
            }
            exit(withError: error)
        }
    }
}

/// Exit codes shared by the subcommands.
enum ExitStatus {
    /// An alert at or above `--fail-on` was delivered, or the database/run was not found.
    static let failure = ExitCode(1)
    /// Bad input: a malformed line, an invalid config.
    static let badInput = ExitCode(2)
}

/// Writes a line to standard error.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// Options every command that touches the store accepts.
struct StoreOptions: ParsableArguments {
    @Option(name: .customLong("log-dir"), help: "Directory holding metrics.db (default: storage.log_dir, ./rlwatch_logs).")
    var logDir: String?

    @Option(name: .customLong("config"), help: "Path to rlwatch.yaml (default: ./rlwatch.yaml, ./rlwatch.yml, ./.rlwatch.yaml).")
    var configPath: String?
}
