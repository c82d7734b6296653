import RLWatchCore
import Testing

@Suite struct ConfigParsingTests {
    @Test func defaultsMatchRLWatch051() {
        let config = RLWatchConfig()
        #expect(config.runID == "")
        #expect(config.framework == "auto")
        // Changed from 0.5.1: no absolute entropy threshold unless one is set; the floor is relative (issue 8).
        #expect(config.entropyCollapse.threshold == nil && config.entropyCollapse.consecutiveSteps == 50)
        #expect(config.entropyCollapse.relativeThreshold == 0.3 && config.entropyCollapse.baselineWindow == 10)
        #expect(config.klExplosion.baselineMode == .rolling && config.klExplosion.rollingWindow == 100)
        #expect(config.advantageVariance.baselineMode == .rolling)
        // Changed from 0.5.1: a rolling robust baseline (spikes and zeros left out) follows a long healthy run's
        // drift that a frozen one reported as a spike (issue 14).
        #expect(config.gradientNormSpike.baselineMode == .rolling)
        #expect(config.rewardMeanDrift.consecutiveSteps == 50 && config.rewardMeanDrift.warmupSteps == 50)
        #expect(config.rewardMeanDrift.minDriftMagnitude == 0.1)
        #expect(config.alerts.email.smtpHost == "smtp.gmail.com" && config.alerts.email.smtpPort == 587)
        #expect(config.alerts.discord.username == "rlwatch")
        #expect(config.alerts.webhook.method == "POST" && config.alerts.webhook.timeoutSeconds == 10)
        #expect(config.storage.logDir == "./rlwatch_logs" && config.storage.dbName == "metrics.db")
    }

    @Test(arguments: ["", "\n\n", "# only a comment\n", "---\n", "~\n", "null"])
    func emptyDocumentMeansDefaults(yaml: String) throws {
        let resolved = try RLWatchConfig.parse(yaml: yaml)
        #expect(resolved.config == RLWatchConfig())
        #expect(resolved.sources.nonDefaultKeys.isEmpty)
    }

    @Test func emptySectionMeansDefaults() throws {
        let yaml = """
            entropy_collapse:
            kl_explosion:
            alerts:
              slack:
              email: {}
            dashboard:
              port: 9000
            """
        let config = try RLWatchConfig.parse(yaml: yaml).config
        var expected = RLWatchConfig()
        expected.dashboard.port = 9000
        #expect(config == expected)
    }

    @Test func partialSectionKeepsSiblingsAtDefaults() throws {
        let yaml = """
            kl_explosion:
              sigma_multiplier: 4.5
            alerts:
              email:
                smtp_host: mail.example.com
            """
        let config = try RLWatchConfig.parse(yaml: yaml).config
        var expected = RLWatchConfig()
        expected.klExplosion.sigmaMultiplier = 4.5
        expected.alerts.email.smtpHost = "mail.example.com"
        #expect(config == expected)
    }

    @Test func everyKeyCanBeSet() throws {
        let yaml = """
            run_id: exp-7
            framework: verl
            entropy_collapse: {enabled: false, threshold: 0.5, consecutive_steps: 10, warmup_steps: 5}
            kl_explosion:
              enabled: false
              sigma_multiplier: 2.5
              clip_region: 0.3
              rolling_window: 50
              warmup_steps: 7
              baseline_mode: frozen
              min_relative_increase: 0.5
            reward_hacking: {enabled: false, variance_multiplier: 4, dip_test_significance: 0.01, baseline_window: 64, warmup_steps: 8}
            advantage_variance: {enabled: false, std_multiplier: 5, rolling_window: 20, warmup_steps: 9, baseline_mode: frozen}
            loss_nan: {enabled: false, warmup_steps: 3}
            gradient_norm_spike:
              enabled: false
              sigma_multiplier: 6
              rolling_window: 30
              warmup_steps: 11
              baseline_mode: rolling
              min_relative_increase: 2
            reward_mean_drift: {enabled: false, consecutive_steps: 25, warmup_steps: 12, min_drift_magnitude: 0.2}
            alerts:
              slack: {enabled: true, webhook_url: "https://hooks.slack.com/x", channel: "#rl", mention_users: [U1, U2]}
              email:
                enabled: true
                smtp_host: smtp.example.com
                smtp_port: 2525
                smtp_user: bot
                smtp_password: hunter2
                from_addr: bot@example.com
                to_addrs: [a@example.com, b@example.com]
              discord:
                enabled: true
                webhook_url: https://discord.com/api/webhooks/1/abc
                username: watcher
                avatar_url: https://example.com/a.png
                mention_role_ids: [111, "222"]
              webhook:
                enabled: true
                url: https://example.com/hook
                method: PUT
                headers: {Authorization: Bearer t0ken, X-Retries: 3}
                template_json: '{"d": "${detector}"}'
                timeout_seconds: 2
              cooldown_steps: 10
              max_alerts_per_run: 5
            storage: {log_dir: /tmp/logs, db_name: runs.db}
            dashboard: {port: 8080, host: 0.0.0.0}
            """
        let config = try RLWatchConfig.parse(yaml: yaml).config
        var expected = RLWatchConfig()
        expected.runID = "exp-7"
        expected.framework = "verl"
        expected.entropyCollapse.enabled = false
        expected.entropyCollapse.threshold = 0.5
        expected.entropyCollapse.consecutiveSteps = 10
        expected.entropyCollapse.warmupSteps = 5
        expected.klExplosion.enabled = false
        expected.klExplosion.sigmaMultiplier = 2.5
        expected.klExplosion.clipRegion = 0.3
        expected.klExplosion.rollingWindow = 50
        expected.klExplosion.warmupSteps = 7
        expected.klExplosion.baselineMode = .frozen
        expected.klExplosion.minRelativeIncrease = 0.5
        expected.rewardHacking.enabled = false
        expected.rewardHacking.varianceMultiplier = 4
        expected.rewardHacking.dipTestSignificance = 0.01
        expected.rewardHacking.baselineWindow = 64
        expected.rewardHacking.warmupSteps = 8
        expected.advantageVariance.enabled = false
        expected.advantageVariance.stdMultiplier = 5
        expected.advantageVariance.rollingWindow = 20
        expected.advantageVariance.warmupSteps = 9
        expected.advantageVariance.baselineMode = .frozen
        expected.lossNaN.enabled = false
        expected.lossNaN.warmupSteps = 3
        expected.gradientNormSpike.enabled = false
        expected.gradientNormSpike.sigmaMultiplier = 6
        expected.gradientNormSpike.rollingWindow = 30
        expected.gradientNormSpike.warmupSteps = 11
        expected.gradientNormSpike.baselineMode = .rolling
        expected.gradientNormSpike.minRelativeIncrease = 2
        expected.rewardMeanDrift.enabled = false
        expected.rewardMeanDrift.consecutiveSteps = 25
        expected.rewardMeanDrift.warmupSteps = 12
        expected.rewardMeanDrift.minDriftMagnitude = 0.2
        expected.alerts.slack = SlackConfig()
        expected.alerts.slack.enabled = true
        expected.alerts.slack.webhookURL = "https://hooks.slack.com/x"
        expected.alerts.slack.channel = "#rl"
        expected.alerts.slack.mentionUsers = ["U1", "U2"]
        expected.alerts.email.enabled = true
        expected.alerts.email.smtpHost = "smtp.example.com"
        expected.alerts.email.smtpPort = 2525
        expected.alerts.email.smtpUser = "bot"
        expected.alerts.email.smtpPassword = "hunter2"
        expected.alerts.email.fromAddr = "bot@example.com"
        expected.alerts.email.toAddrs = ["a@example.com", "b@example.com"]
        expected.alerts.discord.enabled = true
        expected.alerts.discord.webhookURL = "https://discord.com/api/webhooks/1/abc"
        expected.alerts.discord.username = "watcher"
        expected.alerts.discord.avatarURL = "https://example.com/a.png"
        expected.alerts.discord.mentionRoleIDs = ["111", "222"]
        expected.alerts.webhook.enabled = true
        expected.alerts.webhook.url = "https://example.com/hook"
        expected.alerts.webhook.method = "PUT"
        expected.alerts.webhook.headers = ["Authorization": "Bearer t0ken", "X-Retries": "3"]
        expected.alerts.webhook.templateJSON = #"{"d": "${detector}"}"#
        expected.alerts.webhook.timeoutSeconds = 2
        expected.alerts.cooldownSteps = 10
        expected.alerts.maxAlertsPerRun = 5
        expected.storage.logDir = "/tmp/logs"
        expected.storage.dbName = "runs.db"
        expected.dashboard.port = 8080
        expected.dashboard.host = "0.0.0.0"
        #expect(config == expected)
    }

    @Test func integerIsAcceptedWhereAFloatIsExpected() throws {
        let config = try RLWatchConfig.parse(
            yaml: "entropy_collapse:\n  threshold: 2\nalerts:\n  webhook:\n    timeout_seconds: 30"
        ).config
        #expect(config.entropyCollapse.threshold == 2.0)
        #expect(config.alerts.webhook.timeoutSeconds == 30.0)
    }

    @Test(arguments: [("yes", true), ("no", false), ("on", true), ("Off", false), ("TRUE", true), ("false", false)])
    func yaml11BooleansAreBooleans(text: String, value: Bool) throws {
        // PyYAML's safe_load (rlwatch 0.5.1) reads these as booleans too.
        let config = try RLWatchConfig.parse(yaml: "loss_nan:\n  enabled: \(text)").config
        #expect(config.lossNaN.enabled == value)
    }

    @Test func numbersAreAcceptedForStringKeysAsWritten() throws {
        let config = try RLWatchConfig.parse(yaml: "run_id: 0042\nalerts:\n  slack:\n    channel: 12.50").config
        #expect(config.runID == "0042")
        #expect(config.alerts.slack.channel == "12.50")
    }

    @Test func nullStringListAndMapMeanEmpty() throws {
        let yaml = "run_id:\nalerts:\n  email:\n    to_addrs:\n  webhook:\n    headers:\n"
        let config = try RLWatchConfig.parse(yaml: yaml).config
        #expect(config == RLWatchConfig())
    }

    @Test func anchorsAndAliasesAreResolved() throws {
        let yaml = """
            kl_explosion: &detector
              warmup_steps: 30
            advantage_variance: *detector
            """
        let config = try RLWatchConfig.parse(yaml: yaml).config
        #expect(config.klExplosion.warmupSteps == 30)
        #expect(config.advantageVariance.warmupSteps == 30)
    }

    @Test func parsingDoesNotAutoEnableChannels() throws {
        let config = try RLWatchConfig.parse(yaml: "alerts:\n  slack:\n    webhook_url: https://x").config
        #expect(!config.alerts.slack.enabled)
    }

    @Test func sourcesRecordFileLineAndColumnOfEachKey() throws {
        let yaml = """
            # comment
            run_id: exp

            kl_explosion:
              sigma_multiplier: 4
            alerts:
              email:
                to_addrs: [a@b.c]
            """
        let resolved = try RLWatchConfig.parse(yaml: yaml, file: "cfg/rl.yaml")
        #expect(resolved.sources["run_id"] == .file(path: "cfg/rl.yaml", line: 2, column: 1))
        #expect(resolved.sources["kl_explosion.sigma_multiplier"] == .file(path: "cfg/rl.yaml", line: 5, column: 3))
        #expect(resolved.sources["alerts.email.to_addrs"] == .file(path: "cfg/rl.yaml", line: 8, column: 5))
        #expect(resolved.sources["kl_explosion.warmup_steps"] == .default)
        #expect(
            resolved.sources.nonDefaultKeys == ["alerts.email.to_addrs", "kl_explosion.sigma_multiplier", "run_id"])
        #expect(resolved.configFile == "cfg/rl.yaml")
        #expect(resolved.sources["run_id"].description == "cfg/rl.yaml:2:1")
    }
}

extension ConfigParsingTests {
    @Test func mergeKeysContributeKeysTheMappingDoesNotSet() throws {
        let yaml = """
            kl_explosion: &zscore
              warmup_steps: 30
              rolling_window: 64
            gradient_norm_spike:
              <<: *zscore
              warmup_steps: 5
            """
        let resolved = try RLWatchConfig.parse(yaml: yaml)
        #expect(resolved.config.gradientNormSpike.warmupSteps == 5)
        #expect(resolved.config.gradientNormSpike.rollingWindow == 64)
        #expect(resolved.sources["gradient_norm_spike.warmup_steps"] == .file(path: "rlwatch.yaml", line: 6, column: 3))
    }

    @Test func mergeOfAScalarIsReported() throws {
        let error = try #require(throws: ConfigError.self) { try RLWatchConfig.parse(yaml: "loss_nan:\n  <<: 5") }
        #expect(error.description == "rlwatch.yaml:2:3: invalid YAML: `<<` must merge a mapping or a list of mappings")
    }
}
