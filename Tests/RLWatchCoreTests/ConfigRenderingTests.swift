import Foundation
import RLWatchCore
import Testing

@Suite struct ConfigRenderingTests {
    static func configWithSecrets() -> RLWatchConfig {
        var config = RLWatchConfig()
        config.alerts.email.smtpPassword = "hunter2"
        config.alerts.slack.webhookURL = "https://hooks.slack.com/services/T/B/slack-secret"
        config.alerts.discord.webhookURL = "https://discord.com/api/webhooks/1/discord-secret"
        config.alerts.webhook.url = "https://example.com/hook?token=webhook-secret"
        config.alerts.webhook.headers = ["Authorization": "Bearer header-secret", "X-Empty": ""]
        config.alerts.email.smtpUser = "bot"
        return config
    }

    @Test func redactedReplacesNonEmptySecretsOnly() {
        let redacted = Self.configWithSecrets().redacted()
        #expect(redacted.alerts.email.smtpPassword == "***")
        #expect(redacted.alerts.slack.webhookURL == "***")
        #expect(redacted.alerts.discord.webhookURL == "***")
        #expect(redacted.alerts.webhook.url == "***")
        #expect(redacted.alerts.webhook.headers == ["Authorization": "***", "X-Empty": ""])
        #expect(redacted.alerts.email.smtpUser == "bot")
        #expect(RLWatchConfig().redacted() == RLWatchConfig())
    }

    @Test func jsonNeverHoldsSecretsByDefault() {
        let json = Self.configWithSecrets().toJSON()
        for secret in ["hunter2", "slack-secret", "discord-secret", "webhook-secret", "header-secret"] {
            #expect(!json.contains(secret))
        }
        #expect(json.contains(#""smtp_password":"***""#))
        let pretty = Self.configWithSecrets().toJSON(prettyPrinted: true)
        #expect(!pretty.contains("hunter2"))
    }

    @Test func unredactedJSONIsAvailableOnRequest() {
        #expect(Self.configWithSecrets().toJSON(redactingSecrets: false).contains("hunter2"))
    }

    @Test func jsonIsDeterministicAndInSchemaOrder() throws {
        let json = RLWatchConfig().toJSON()
        #expect(json == RLWatchConfig().toJSON())
        #expect(json.hasPrefix(#"{"run_id":"","framework":"auto","entropy_collapse":{"enabled":true,"threshold":null,"#))
        #expect(
            json.contains(
                #""kl_explosion":{"enabled":true,"sigma_multiplier":3.0,"clip_region":0.2,"rolling_window":100,"warmup_steps":20,"baseline_mode":"rolling","min_relative_increase":2.0,"critical_ratio":10.0,"min_kl":0.1,"warning_kl":1.0,"critical_kl":5.0}"#
            ))
        #expect(
            json.hasSuffix(
                #""storage":{"log_dir":"./rlwatch_logs","db_name":"metrics.db","url":"","retention_days":0},"dashboard":{"port":8501,"host":"127.0.0.1"},"actions":{"on_critical":"none","detectors":{},"min_severity":"critical","command":[],"shell":false,"timeout_seconds":60.0,"dry_run":false}}"#
            ))
        var config = RLWatchConfig()
        config.alerts.webhook.headers = ["b": "2", "a": "1", "c": "3"]
        #expect(config.toJSON(redactingSecrets: false).contains(#""headers":{"a":"1","b":"2","c":"3"}"#))
    }

    @Test func jsonIsValidAndRoundTripsThroughOverrides() throws {
        var config = Self.configWithSecrets()
        config.runID = "quote \" backslash \\ newline \n tab \t bell \u{7} é"
        config.alerts.email.toAddrs = ["a@b.c", "d@e.f"]
        for pretty in [false, true] {
            let json = config.toJSON(redactingSecrets: false, prettyPrinted: pretty)
            let decoded = try #require(try JSONReader.parse(json, mode: .strict).members)
            #expect(try RLWatchConfig().applying(overrides: decoded) == config)
        }
    }

    @Test func jsonValueMirrorsTheJSON() throws {
        let value = RLWatchConfig().json()
        #expect(value["dashboard"]?["port"] == .int(8501))
        #expect(value["framework"] == "auto")
        #expect(value.serialized() == RLWatchConfig().toJSON())
    }
}
