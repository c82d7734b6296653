import Foundation
import RLWatch
import RLWatchCore
import Testing

/// A fresh directory under the system temporary directory, removed by `remove()`.
struct ConfigTestDirectory {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("rlwatch-config-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func write(_ name: String, _ text: String) throws {
        let url = URL(fileURLWithPath: path).appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

@Suite struct ConfigLoaderTests {
    static let allFileNames = ["rlwatch.yaml", "rlwatch.yml", ".rlwatch.yaml"]

    @Test(arguments: 0..<3)
    func discoveryTakesTheFirstExistingName(firstPresent: Int) throws {
        let directory = try ConfigTestDirectory()
        defer { directory.remove() }
        for name in Self.allFileNames[firstPresent...] {
            try directory.write(name, "run_id: from-\(name)\n")
        }
        let loader = ConfigLoader(environment: [:], workingDirectory: directory.path)
        let resolved = try loader.load()
        let expected = Self.allFileNames[firstPresent]
        #expect(resolved.config.runID == "from-\(expected)")
        #expect(resolved.configFile == expected)
        #expect(resolved.sources["run_id"] == .file(path: expected, line: 1, column: 1))
        #expect(ConfigLoader.discoveredFileNames == Self.allFileNames)
    }

    @Test func noFileMeansDefaults() throws {
        let directory = try ConfigTestDirectory()
        defer { directory.remove() }
        let resolved = try ConfigLoader(environment: [:], workingDirectory: directory.path).load()
        #expect(resolved.config == RLWatchConfig())
        #expect(resolved.configFile == nil)
        #expect(
            try ConfigLoader(environment: [:], workingDirectory: directory.path).locateConfigFile(explicitPath: nil)
                == nil)
    }

    @Test func discoverySkipsADirectoryWithTheName() throws {
        let directory = try ConfigTestDirectory()
        defer { directory.remove() }
        try directory.write("rlwatch.yaml/keep", "")
        try directory.write("rlwatch.yml", "run_id: yml\n")
        let resolved = try ConfigLoader(environment: [:], workingDirectory: directory.path).load()
        #expect(resolved.config.runID == "yml")
    }

    @Test func explicitPathWinsOverDiscoveryAndIsRelativeToTheWorkingDirectory() throws {
        let directory = try ConfigTestDirectory()
        defer { directory.remove() }
        try directory.write("rlwatch.yaml", "run_id: discovered\n")
        try directory.write("configs/exp.yaml", "run_id: explicit\nkl_explosion:\n  sigma_multiplier: -1\n")
        let loader = ConfigLoader(environment: [:], workingDirectory: directory.path)
        let error = try #require(throws: ConfigError.self) { try loader.load(configPath: "configs/exp.yaml") }
        #expect(error.description == "configs/exp.yaml:3:3: kl_explosion.sigma_multiplier must be > 0 (got -1)")

        try directory.write("configs/exp.yaml", "run_id: explicit\n")
        #expect(try loader.load(configPath: "configs/exp.yaml").config.runID == "explicit")
        #expect(try loader.load(configPath: directory.path + "/configs/exp.yaml").config.runID == "explicit")
    }

    @Test func explicitPathMayStartWithTilde() throws {
        let directory = try ConfigTestDirectory()
        defer { directory.remove() }
        try directory.write("home.yaml", "run_id: home\n")
        let loader = ConfigLoader(environment: ["HOME": directory.path], workingDirectory: "/nonexistent")
        #expect(try loader.load(configPath: "~/home.yaml").config.runID == "home")
    }

    @Test func missingExplicitPathIsAnError() throws {
        let directory = try ConfigTestDirectory()
        defer { directory.remove() }
        try directory.write("rlwatch.yaml", "run_id: discovered\n")
        let loader = ConfigLoader(environment: [:], workingDirectory: directory.path)
        let error = try #require(throws: ConfigError.self) { try loader.load(configPath: "missing.yaml") }
        #expect(error.issues.map(\.kind) == [.fileNotFound])
        #expect(
            error.description
                == "config file not found: missing.yaml (given with --config; run `rlwatch init` to create one)"
        )
    }

    @Test func explicitDirectoryIsUnreadable() throws {
        let directory = try ConfigTestDirectory()
        defer { directory.remove() }
        try directory.write("conf/x", "")
        let error = try #require(throws: ConfigError.self) {
            try ConfigLoader(environment: [:], workingDirectory: directory.path).load(configPath: "conf")
        }
        #expect(error.issues.map(\.kind) == [.unreadableFile])
        #expect(error.description == "cannot read config file conf: it is a directory")
    }

    @Test func partialFileKeepsSiblingsAtDefaults() throws {
        let directory = try ConfigTestDirectory()
        defer { directory.remove() }
        try directory.write("rlwatch.yaml", "entropy_collapse:\n  threshold: 0.25\nloss_nan:\n")
        let config = try ConfigLoader(environment: [:], workingDirectory: directory.path).load().config
        var expected = RLWatchConfig()
        expected.entropyCollapse.threshold = 0.25
        #expect(config == expected)
    }

    @Test func emptyFileMeansDefaults() throws {
        let directory = try ConfigTestDirectory()
        defer { directory.remove() }
        try directory.write("rlwatch.yaml", "")
        let resolved = try ConfigLoader(environment: [:], workingDirectory: directory.path).load()
        #expect(resolved.config == RLWatchConfig())
        #expect(resolved.configFile == "rlwatch.yaml")
    }

    static let yamlSettingEveryEnvironmentKey = """
        run_id: yaml-run
        framework: trl
        alerts:
          slack: {webhook_url: "https://yaml/slack", channel: "#yaml"}
          email:
            smtp_host: smtp.yaml
            smtp_port: 25
            smtp_user: yaml-user
            smtp_password: yaml-pass
            from_addr: from@yaml
            to_addrs: [to@yaml]
          discord: {webhook_url: "https://yaml/discord"}
          webhook: {url: "https://yaml/hook", template_json: "{}"}
          pagerduty: {routing_key: yaml-key}
        storage: {log_dir: /yaml/logs, url: "postgres://yaml@db/yaml"}
        """

    static let everyVariable: [String: (value: String, check: @Sendable (RLWatchConfig) -> Bool)] = [
        "RLWATCH_SLACK_WEBHOOK_URL": ("https://env/slack", { $0.alerts.slack.webhookURL == "https://env/slack" }),
        "RLWATCH_SLACK_CHANNEL": ("#env", { $0.alerts.slack.channel == "#env" }),
        "RLWATCH_SMTP_HOST": ("smtp.env", { $0.alerts.email.smtpHost == "smtp.env" }),
        "RLWATCH_SMTP_PORT": ("2525", { $0.alerts.email.smtpPort == 2525 }),
        "RLWATCH_SMTP_USER": ("env-user", { $0.alerts.email.smtpUser == "env-user" }),
        "RLWATCH_SMTP_PASSWORD": ("env-pass", { $0.alerts.email.smtpPassword == "env-pass" }),
        "RLWATCH_EMAIL_FROM": ("from@env", { $0.alerts.email.fromAddr == "from@env" }),
        "RLWATCH_EMAIL_TO": ("a@env, b@env ,", { $0.alerts.email.toAddrs == ["a@env", "b@env"] }),
        "RLWATCH_RUN_ID": ("env-run", { $0.runID == "env-run" }),
        "RLWATCH_LOG_DIR": ("/env/logs", { $0.storage.logDir == "/env/logs" }),
        "RLWATCH_FRAMEWORK": ("verl", { $0.framework == "verl" }),
        "RLWATCH_DISCORD_WEBHOOK_URL": (
            "https://env/discord", { $0.alerts.discord.webhookURL == "https://env/discord" }
        ),
        "RLWATCH_WEBHOOK_URL": ("https://env/hook", { $0.alerts.webhook.url == "https://env/hook" }),
        "RLWATCH_WEBHOOK_TEMPLATE": (#"{"s": ${step}}"#, { $0.alerts.webhook.templateJSON == #"{"s": ${step}}"# }),
        "RLWATCH_PAGERDUTY_ROUTING_KEY": ("env-key", { $0.alerts.pagerduty.routingKey == "env-key" }),
        "RLWATCH_DATABASE_URL": ("postgres://env@db/env", { $0.storage.url == "postgres://env@db/env" }),
    ]

    @Test(arguments: everyVariable.keys.sorted())
    func environmentVariableBeatsYAML(name: String) throws {
        let directory = try ConfigTestDirectory()
        defer { directory.remove() }
        try directory.write("rlwatch.yaml", Self.yamlSettingEveryEnvironmentKey)
        let entry = try #require(Self.everyVariable[name])
        let loader = ConfigLoader(environment: [name: entry.value], workingDirectory: directory.path)
        let resolved = try loader.load()
        #expect(entry.check(resolved.config))
        let key = try #require(ConfigEnvironment.variables.first { $0.name == name }?.key)
        #expect(resolved.sources[key] == .environment(variable: name))
        // Without the variable, the YAML value stands.
        let fromYAML = try ConfigLoader(environment: [:], workingDirectory: directory.path).load()
        #expect(!entry.check(fromYAML.config))
        #expect(fromYAML.sources[key] != .default)
    }

    @Test func everyMappedVariableIsCovered() {
        #expect(Set(Self.everyVariable.keys) == Set(ConfigEnvironment.variables.map(\.name)))
    }

    @Test func invalidSMTPPortVariableIsReportedWithFileProblems() throws {
        let directory = try ConfigTestDirectory()
        defer { directory.remove() }
        try directory.write("rlwatch.yml", "dashboard:\n  port: 0\n")
        let loader = ConfigLoader(environment: ["RLWATCH_SMTP_PORT": "smtp"], workingDirectory: directory.path)
        let error = try #require(throws: ConfigError.self) { try loader.load() }
        #expect(
            error.description == """
                rlwatch.yml:2:3: dashboard.port must be a port between 1 and 65535 (got 0)
                environment variable RLWATCH_SMTP_PORT: alerts.email.smtp_port must be an integer (got "smtp", a string)
                """
        )
    }

    @Test func flagsBeatEnvironment() throws {
        let directory = try ConfigTestDirectory()
        defer { directory.remove() }
        try directory.write("rlwatch.yaml", "run_id: yaml\nstorage:\n  log_dir: /yaml\n")
        let loader = ConfigLoader(
            environment: ["RLWATCH_RUN_ID": "env", "RLWATCH_LOG_DIR": "/env"],
            workingDirectory: directory.path
        )
        let resolved = try loader.load(flags: [.runID("flag"), .logDir("/flag")])
        #expect(resolved.config.runID == "flag")
        #expect(resolved.config.storage.logDir == "/flag")
        #expect(resolved.sources["run_id"] == .flag(name: "--run-id"))
        #expect(resolved.sources["storage.log_dir"] == .flag(name: "--log-dir"))
    }

    @Test func channelsAutoEnableUnlessTheFileSaysFalse() throws {
        let directory = try ConfigTestDirectory()
        defer { directory.remove() }
        try directory.write(
            "rlwatch.yaml",
            """
            alerts:
              slack:
                webhook_url: https://hooks.slack.com/x
              discord:
                enabled: false
                webhook_url: https://discord.com/x
              email:
                enabled: false
            """
        )
        let loader = ConfigLoader(
            environment: ["RLWATCH_EMAIL_TO": "a@b.c", "RLWATCH_WEBHOOK_URL": "https://w"],
            workingDirectory: directory.path
        )
        let resolved = try loader.load()
        let alerts = resolved.config.alerts
        #expect(alerts.slack.enabled)
        #expect(!alerts.discord.enabled)
        #expect(!alerts.email.enabled)
        #expect(alerts.webhook.enabled)
        #expect(resolved.sources["alerts.slack.enabled"] == .autoEnabled(by: "alerts.slack.webhook_url"))
        #expect(resolved.sources["alerts.discord.enabled"] == .file(path: "rlwatch.yaml", line: 5, column: 5))
        #expect(resolved.sources["alerts.webhook.enabled"] == .autoEnabled(by: "alerts.webhook.url"))
    }

    @Test func showListsEverySource() throws {
        let directory = try ConfigTestDirectory()
        defer { directory.remove() }
        try directory.write(".rlwatch.yaml", "alerts:\n  email:\n    smtp_password: hunter2\n")
        let loader = ConfigLoader(
            environment: ["RLWATCH_SLACK_WEBHOOK_URL": "https://secret"], workingDirectory: directory.path)
        let text = ConfigTemplate.show(try loader.load(flags: [.dashboardPort(9000)]))
        #expect(text.contains("# config file: .rlwatch.yaml"))
        #expect(!text.contains("hunter2") && !text.contains("https://secret"))
        #expect(text.contains("# from: .rlwatch.yaml:3:5"))
        #expect(text.contains("# from: env RLWATCH_SLACK_WEBHOOK_URL"))
        #expect(text.contains("# from: flag --port"))
    }
}
