import Foundation
import Testing

/// Configuration end to end: discovery, validation errors, environment and flags, `init`, `config show`.
@Suite struct ConfigCLITests {
    struct InvalidConfig: Sendable, CustomTestStringConvertible {
        var yaml: String
        /// What stderr must contain: `rlwatch.yaml:LINE` and the key.
        var location: String
        var key: String
        var testDescription: String { "\(key) at \(location)" }
    }

    static let invalidConfigs: [InvalidConfig] = [
        InvalidConfig(
            yaml: "kl_explosion:\n  sigma_multiplier: 3.0\n  sigma_multiplyer: 2\n",
            location: "rlwatch.yaml:3", key: "sigma_multiplyer"),
        InvalidConfig(
            yaml: "# tuned\nkl_explosion:\n  sigma_multiplier: -1\n",
            location: "rlwatch.yaml:3", key: "kl_explosion.sigma_multiplier"),
        InvalidConfig(
            yaml: "entropy_collapse:\n  threshold: abc\n",
            location: "rlwatch.yaml:2", key: "entropy_collapse.threshold"),
        InvalidConfig(yaml: "entropy_colapse:\n  threshold: 1.0\n", location: "rlwatch.yaml:1", key: "entropy_colapse"),
    ]

    static let commands: [[String]] = [
        ["config", "show"], ["replay", "--no-store", "metrics.jsonl"], ["runs"], ["diagnose"],
        ["demo", "--steps", "10", "--no-store"],
    ]

    @Test(arguments: invalidConfigs)
    func invalidConfigIsBadInputNamingFileLineAndKey(_ invalid: InvalidConfig) async throws {
        let sandbox = try CLISandbox()
        try sandbox.write("rlwatch.yaml", invalid.yaml)
        try sandbox.write("metrics.jsonl", MetricsFiles.healthy)
        for command in Self.commands {
            let result = try await sandbox.run(command)
            #expect(result.exited && result.status == 2, "\(result)")
            #expect(result.stderr.contains(invalid.location), "\(result)")
            #expect(result.stderr.contains(invalid.key), "\(result)")
        }
        #expect(!sandbox.exists("rlwatch_logs"), "a command went ahead with an invalid config")
    }

    /// Issue 20: a 300-byte file of nested aliases (9^9 values expanded) took `config show` to 8 GB.
    @Test func aliasBombIsRefusedQuicklyNamingTheFile() async throws {
        let sandbox = try CLISandbox()
        var lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
        for level in 1..<9 {
            lines.append("a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 9).joined(separator: ",") + "]")
        }
        try sandbox.write("bomb.yaml", lines.joined(separator: "\n") + "\n")
        // Expanded, the document is 9^9 nodes (8 GB, minutes of CPU); refused before expansion it costs well under a
        // CPU second. A CPU-time limit bounds the work whatever the machine's load: past it SIGXCPU ends the command,
        // which fails the exit check below.
        let result = try await sandbox.run(
            ["config", "show", "--config", "bomb.yaml"], timeout: .seconds(300), cpuSeconds: 10)
        #expect(result.exited && result.status == 2, "\(result)")
        #expect(result.stderr.contains("bomb.yaml:"), "\(result)")
        #expect(result.stderr.contains("aliases"), "\(result)")
    }

    @Test func unknownKeyGetsASuggestion() async throws {
        let sandbox = try CLISandbox()
        try sandbox.write("rlwatch.yaml", "kl_explosion:\n  sigma_multiplyer: 2\n")
        let result = try await sandbox.run(["config", "show"])
        #expect(result.status == 2, "\(result)")
        #expect(result.stderr.contains("sigma_multiplier"), "no suggestion: \(result)")
    }

    @Test func missingExplicitConfigIsBadInput() async throws {
        let sandbox = try CLISandbox()
        try sandbox.write("metrics.jsonl", MetricsFiles.healthy)
        for command in [["config", "show"], ["replay", "--no-store", "metrics.jsonl"]] {
            let result = try await sandbox.run(command + ["--config", "missing.yaml"])
            #expect(result.exited && result.status == 2, "\(result)")
            #expect(result.stderr.contains("missing.yaml"), "\(result)")
        }
    }

    @Test func explicitConfigPathIsUsedInsteadOfDiscovery() async throws {
        let sandbox = try CLISandbox()
        try sandbox.write("rlwatch.yaml", "alerts:\n  cooldown_steps: 7\n")
        try sandbox.write("conf/other.yaml", "alerts:\n  cooldown_steps: 9\n")
        let discovered = try await sandbox.run(["config", "show"])
        let explicit = try await sandbox.run(["config", "show", "--config", "conf/other.yaml"])
        #expect(discovered.stdout.contains("cooldown_steps: 7"), "\(discovered)")
        #expect(explicit.status == 0, "\(explicit)")
        #expect(explicit.stdout.contains("cooldown_steps: 9"), "\(explicit)")
    }

    @Test func logDirFromEnvironmentAndFlag() async throws {
        let sandbox = try CLISandbox()
        try sandbox.write("metrics.jsonl", MetricsFiles.healthy)

        let fromEnv = try await sandbox.run(
            ["replay", "--run-id", "env-run", "metrics.jsonl"], environment: ["RLWATCH_LOG_DIR": "envlogs"])
        #expect(fromEnv.status == 0, "\(fromEnv)")
        #expect(sandbox.exists("envlogs/metrics.db"))
        #expect(!sandbox.exists("rlwatch_logs"))
        let runs = try await sandbox.run(["runs"], environment: ["RLWATCH_LOG_DIR": "envlogs"])
        #expect(runs.status == 0 && runs.stdout.contains("env-run"), "\(runs)")

        let flagWins = try await sandbox.run(
            ["replay", "--run-id", "flag-run", "--log-dir", "flaglogs", "metrics.jsonl"],
            environment: ["RLWATCH_LOG_DIR": "envlogs2"])
        #expect(flagWins.status == 0, "\(flagWins)")
        #expect(sandbox.exists("flaglogs/metrics.db"))
        #expect(!sandbox.exists("envlogs2"))
        let flagRuns = try await sandbox.run(["runs", "--log-dir", "flaglogs"])
        #expect(flagRuns.stdout.contains("flag-run") && !flagRuns.stdout.contains("env-run"), "\(flagRuns)")
    }

    @Test func initWritesAFileThatParsesAndRefusesToOverwrite() async throws {
        let sandbox = try CLISandbox()
        let first = try await sandbox.run(["init"])
        #expect(first.status == 0, "\(first)")
        let template = try sandbox.read("rlwatch.yaml")
        #expect(template.contains("kl_explosion:"))

        let show = try await sandbox.run(["config", "show"])
        #expect(show.status == 0, "\(show)")
        #expect(show.stdout.contains("kl_explosion"), "\(show)")
        #expect(show.stdout.contains("config file: rlwatch.yaml"), "\(show)")

        let mine = "# my settings\nalerts:\n  cooldown_steps: 5\n"
        try sandbox.write("rlwatch.yaml", mine)
        let again = try await sandbox.run(["init"])
        #expect(again.exited && again.status != 0, "\(again)")
        #expect(again.stderr.contains("--force"), "\(again)")
        #expect(try sandbox.read("rlwatch.yaml") == mine)

        let forced = try await sandbox.run(["init", "--force"])
        #expect(forced.status == 0, "\(forced)")
        #expect(try sandbox.read("rlwatch.yaml") == template)
    }

    @Test func configShowRedactsSecretsAndNamesSources() async throws {
        let sandbox = try CLISandbox()
        let secret = "https://hooks.slack.com/services/T000/B000/SECRETTOKEN42"
        try sandbox.write("rlwatch.yaml", "alerts:\n  cooldown_steps: 7\n")
        let result = try await sandbox.run(
            ["config", "show", "--log-dir", "flaglogs"], environment: ["RLWATCH_SLACK_WEBHOOK_URL": secret])
        #expect(result.status == 0, "\(result)")
        #expect(!result.stdout.contains("SECRETTOKEN42") && !result.stderr.contains("SECRETTOKEN42"), "\(result)")
        #expect(!result.stdout.contains("hooks.slack.com"), "\(result)")

        func line(_ key: String) -> Substring? {
            result.stdoutLines.first { $0.trimmingCharacters(in: .whitespaces).hasPrefix(key + ":") }
        }
        let webhook = try #require(line("webhook_url"), "\(result)")
        #expect(webhook.contains("RLWATCH_SLACK_WEBHOOK_URL"), "\(webhook)")
        #expect(webhook.contains("from:"), "\(webhook)")
        let cooldown = try #require(line("cooldown_steps"), "\(result)")
        #expect(cooldown.contains("7") && cooldown.contains("from: rlwatch.yaml:"), "\(cooldown)")
        let logDir = try #require(line("log_dir"), "\(result)")
        #expect(logDir.contains("flaglogs") && logDir.contains("--log-dir"), "\(logDir)")
        let dbName = try #require(line("db_name"), "\(result)")
        #expect(dbName.contains("from: default"), "\(dbName)")
    }

    @Test func storedRunDoesNotContainTheSecret() async throws {
        let sandbox = try CLISandbox()
        try sandbox.write("metrics.jsonl", MetricsFiles.healthy)
        let result = try await sandbox.run(
            ["replay", "metrics.jsonl"],
            environment: ["RLWATCH_SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T000/B000/SECRETTOKEN42"])
        #expect(result.status == 0, "\(result)")
        let files = try FileManager.default.contentsOfDirectory(atPath: sandbox.url("rlwatch_logs").path)
        #expect(files.contains("metrics.db"))
        for file in files {
            let bytes = try Data(contentsOf: sandbox.url("rlwatch_logs/\(file)"))
            #expect(bytes.range(of: Data("SECRETTOKEN42".utf8)) == nil, "the secret is stored in \(file)")
        }
    }
}
