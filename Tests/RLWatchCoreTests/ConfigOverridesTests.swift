import Foundation
import RLWatchCore
import Testing

/// `applying(overrides:)`, environment and flag layers, and auto-enable: the pure parts of resolution.
@Suite struct ConfigOverridesTests {
    @Test func nestedOverridesKeepSiblings() throws {
        let config = try RLWatchConfig().applying(overrides: [
            "kl_explosion": ["sigma_multiplier": 4, "baseline_mode": "frozen"],
            "alerts": ["slack": ["webhook_url": "https://hooks.slack.com/x"]],
        ])
        var expected = RLWatchConfig()
        expected.klExplosion.sigmaMultiplier = 4
        expected.klExplosion.baselineMode = .frozen
        expected.alerts.slack.webhookURL = "https://hooks.slack.com/x"
        #expect(config == expected)
    }

    @Test func dottedKeysAddressNestedKeys() throws {
        let config = try RLWatchConfig().applying(overrides: [
            "kl_explosion.sigma_multiplier": 5,
            "alerts.email.to_addrs": ["x@y.z"],
        ])
        #expect(config.klExplosion.sigmaMultiplier == 5)
        #expect(config.alerts.email.toAddrs == ["x@y.z"])
    }

    @Test func overridesAreValidatedLikeYAML() throws {
        let error = try #require(throws: ConfigError.self) {
            try RLWatchConfig().applying(
                overrides: [
                    "kl_explosion": ["sigma_multiplier": -1.0, "warmup_step": 3],
                    "dashboard": ["port": 8080.5],
                    "framework": "jax",
                ],
                source: .override(label: "POST /api/runs")
            )
        }
        #expect(
            error.issues.map(\.description) == [
                "POST /api/runs: dashboard.port must be an integer (got 8080.5, a float)",
                "POST /api/runs: framework must be one of auto, trl, verl, openrlhf, manual (got \"jax\")",
                "POST /api/runs: kl_explosion.sigma_multiplier must be > 0 (got -1.0)",
                "POST /api/runs: unknown key `warmup_step` in section kl_explosion; did you mean `warmup_steps`?",
            ]
        )
    }

    @Test func overridesDecodeFromJSON() throws {
        let body =
            #"{"kl_explosion": {"sigma_multiplier": 4, "enabled": false}, "alerts": {"email": {"to_addrs": ["a@b.c"]}}, "run_id": null}"#
        let overrides = try #require(try JSONReader.parse(body, mode: .strict).members)
        let config = try RLWatchConfig().applying(overrides: overrides)
        #expect(config.klExplosion.sigmaMultiplier == 4)
        #expect(!config.klExplosion.enabled)
        #expect(config.alerts.email.toAddrs == ["a@b.c"])
        #expect(config.runID == "")
    }

    @Test func jsonBooleansStayBooleans() throws {
        let overrides = try #require(try JSONReader.parse(#"{"loss_nan": {"warmup_steps": true}}"#, mode: .strict).members)
        #expect(overrides == ["loss_nan": ["warmup_steps": true]])
        #expect(throws: ConfigError.self) { try RLWatchConfig().applying(overrides: overrides) }
    }

    @Test func overridesRecordTheirSource() throws {
        let resolved = try ResolvedConfig().applying(.overrides(["run_id": "r1"], source: .override(label: "api")))
        #expect(resolved.sources["run_id"] == .override(label: "api"))
        #expect(resolved.sources["framework"] == .default)
    }

    static let environment: [String: String] = [
        "RLWATCH_SLACK_WEBHOOK_URL": "https://hooks.slack.com/env",
        "RLWATCH_SLACK_CHANNEL": "#env",
        "RLWATCH_SMTP_HOST": "smtp.env",
        "RLWATCH_SMTP_PORT": " 2525 ",
        "RLWATCH_SMTP_USER": "env-user",
        "RLWATCH_SMTP_PASSWORD": "env-pass",
        "RLWATCH_EMAIL_FROM": "from@env",
        "RLWATCH_EMAIL_TO": " a@env , ,b@env,",
        "RLWATCH_RUN_ID": "env-run",
        "RLWATCH_LOG_DIR": "/env/logs",
        "RLWATCH_FRAMEWORK": "openrlhf",
        "RLWATCH_DISCORD_WEBHOOK_URL": "https://discord.com/env",
        "RLWATCH_WEBHOOK_URL": "https://env/hook",
        "RLWATCH_WEBHOOK_TEMPLATE": #"{"env": "${step}"}"#,
        "RLWATCH_PAGERDUTY_ROUTING_KEY": "env-routing-key",
        "RLWATCH_DATABASE_URL": "postgres://env@db.example:5432/rlwatch",
        "PATH": "/usr/bin",
        "RLWATCH_UNKNOWN": "ignored",
    ]

    @Test func allSixteenVariablesMap() throws {
        #expect(ConfigEnvironment.variables.count == 16)
        let resolved = try ResolvedConfig.resolve([.environment(Self.environment)], autoEnableChannels: false)
        let config = resolved.config
        #expect(config.alerts.slack.webhookURL == "https://hooks.slack.com/env")
        #expect(config.alerts.slack.channel == "#env")
        #expect(config.alerts.email.smtpHost == "smtp.env")
        #expect(config.alerts.email.smtpPort == 2525)
        #expect(config.alerts.email.smtpUser == "env-user")
        #expect(config.alerts.email.smtpPassword == "env-pass")
        #expect(config.alerts.email.fromAddr == "from@env")
        #expect(config.alerts.email.toAddrs == ["a@env", "b@env"])
        #expect(config.runID == "env-run")
        #expect(config.storage.logDir == "/env/logs")
        #expect(config.storage.url == "postgres://env@db.example:5432/rlwatch")
        #expect(config.framework == "openrlhf")
        #expect(config.alerts.discord.webhookURL == "https://discord.com/env")
        #expect(config.alerts.webhook.url == "https://env/hook")
        #expect(config.alerts.webhook.templateJSON == #"{"env": "${step}"}"#)
        #expect(config.alerts.pagerduty.routingKey == "env-routing-key")
        for (name, key) in ConfigEnvironment.variables {
            #expect(resolved.sources[key] == .environment(variable: name))
        }
    }

    @Test func emptyEmailToEnablesNothing() throws {
        let resolved = try ResolvedConfig.resolve([.environment(["RLWATCH_EMAIL_TO": " , "])])
        #expect(resolved.config.alerts.email.toAddrs == [])
        #expect(!resolved.config.alerts.email.enabled)
    }

    @Test func emptyVariableStillOverrides() throws {
        let resolved = try ResolvedConfig.resolve([
            .yaml("storage:\n  log_dir: /from/yaml", file: "rlwatch.yaml"),
            .environment(["RLWATCH_LOG_DIR": ""]),
        ])
        #expect(resolved.config.storage.logDir == "")
    }

    @Test(arguments: [
        (
            "abc",
            "environment variable RLWATCH_SMTP_PORT: alerts.email.smtp_port must be an integer (got \"abc\", a string)"
        ),
        ("", "environment variable RLWATCH_SMTP_PORT: alerts.email.smtp_port must be an integer (got \"\", a string)"),
        (
            "25.5",
            "environment variable RLWATCH_SMTP_PORT: alerts.email.smtp_port must be an integer (got \"25.5\", a string)"
        ),
        (
            "0",
            "environment variable RLWATCH_SMTP_PORT: alerts.email.smtp_port must be a port between 1 and 65535 (got 0)"
        ),
    ])
    func invalidSMTPPortNamesTheVariable(value: String, message: String) throws {
        let error = try #require(throws: ConfigError.self) {
            try ResolvedConfig.resolve([.environment(["RLWATCH_SMTP_PORT": value])])
        }
        #expect(error.description == message)
        #expect(error.issues.first?.source == .environment(variable: "RLWATCH_SMTP_PORT"))
    }

    @Test func invalidFrameworkVariableNamesTheVariable() throws {
        let error = try #require(throws: ConfigError.self) {
            try ResolvedConfig.resolve([.environment(["RLWATCH_FRAMEWORK": "Verl"])])
        }
        #expect(
            error.description
                == "environment variable RLWATCH_FRAMEWORK: framework must be one of auto, trl, verl, openrlhf, manual (got \"Verl\"); did you mean `verl`?"
        )
    }

    @Test func layersApplyInOrderAndProblemsOfAllLayersAreReportedTogether() throws {
        let error = try #require(throws: ConfigError.self) {
            try ResolvedConfig.resolve([
                .yaml("dashboard:\n  port: 0", file: "rlwatch.yaml"),
                .environment(["RLWATCH_SMTP_PORT": "x"]),
                .flags([.dashboardPort(70000)]),
            ])
        }
        #expect(
            error.issues.map(\.description) == [
                "rlwatch.yaml:2:3: dashboard.port must be a port between 1 and 65535 (got 0)",
                "environment variable RLWATCH_SMTP_PORT: alerts.email.smtp_port must be an integer (got \"x\", a string)",
                "--port: dashboard.port must be a port between 1 and 65535 (got 70000)",
            ]
        )
    }

    @Test func flagsBeatEnvironmentWhichBeatsYAML() throws {
        let resolved = try ResolvedConfig.resolve([
            .yaml("run_id: yaml\nstorage:\n  log_dir: /yaml\nframework: trl", file: "rlwatch.yaml"),
            .environment(["RLWATCH_RUN_ID": "env", "RLWATCH_LOG_DIR": "/env"]),
            .flags([.logDir("/flag")]),
        ])
        #expect(resolved.config.framework == "trl")
        #expect(resolved.config.runID == "env")
        #expect(resolved.config.storage.logDir == "/flag")
        #expect(resolved.sources["framework"] == .file(path: "rlwatch.yaml", line: 4, column: 1))
        #expect(resolved.sources["run_id"] == .environment(variable: "RLWATCH_RUN_ID"))
        #expect(resolved.sources["storage.log_dir"] == .flag(name: "--log-dir"))
    }

    @Test func flagWithUnknownKeyIsReported() throws {
        let error = try #require(throws: ConfigError.self) {
            try ResolvedConfig.resolve([.flags([ConfigFlag(name: "--db", key: "storage.dbname", value: "x.db")])])
        }
        #expect(error.description == "--db: unknown key `dbname` in section storage; did you mean `db_name`?")
    }

    @Test func channelsAutoEnableWhenTheirDestinationIsSet() throws {
        let resolved = try ResolvedConfig.resolve([
            .overrides(
                [
                    "alerts.slack.webhook_url": "https://s",
                    "alerts.email.to_addrs": ["a@b.c"],
                    "alerts.discord.webhook_url": "https://d",
                    "alerts.webhook.url": "https://w",
                ],
                source: .override(label: "test")
            )
        ])
        let alerts = resolved.config.alerts
        #expect(alerts.slack.enabled && alerts.email.enabled && alerts.discord.enabled && alerts.webhook.enabled)
        #expect(resolved.sources["alerts.slack.enabled"] == .autoEnabled(by: "alerts.slack.webhook_url"))
        #expect(resolved.sources["alerts.email.enabled"] == .autoEnabled(by: "alerts.email.to_addrs"))
        #expect(resolved.sources["alerts.discord.enabled"] == .autoEnabled(by: "alerts.discord.webhook_url"))
        #expect(resolved.sources["alerts.webhook.enabled"] == .autoEnabled(by: "alerts.webhook.url"))
    }

    @Test func explicitEnabledFalseBeatsAutoEnable() throws {
        let yaml = """
            alerts:
              slack:
                enabled: false
                webhook_url: https://s
              webhook:
                enabled: false
            """
        let resolved = try ResolvedConfig.resolve([
            .yaml(yaml, file: "rlwatch.yaml"),
            .environment(["RLWATCH_WEBHOOK_URL": "https://w", "RLWATCH_DISCORD_WEBHOOK_URL": "https://d"]),
        ])
        #expect(!resolved.config.alerts.slack.enabled)
        #expect(!resolved.config.alerts.webhook.enabled)
        #expect(resolved.config.alerts.discord.enabled)
        #expect(resolved.sources["alerts.slack.enabled"] == .file(path: "rlwatch.yaml", line: 3, column: 5))
    }

    @Test func noDestinationNoAutoEnable() throws {
        let resolved = try ResolvedConfig.resolve([])
        #expect(resolved.config == RLWatchConfig())
    }
}
