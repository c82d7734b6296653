import Foundation
import RLWatchAlerts
import RLWatchCore
import Testing

/// Every channel names the checkpoint to resume from when the alert carries one, and says nothing of it otherwise.
@Suite struct ResumeFromPayloadTests {
    static let checkpoint = TrainingCheckpoint(step: 1200, path: "/runs/out/checkpoint-1200", savedAt: 0)
    static let alert = Fixtures.critical.withResumeFrom(checkpoint)

    @Test func chatChannelsShowTheCheckpoint() throws {
        var slack = SlackConfig()
        slack.webhookURL = "https://hooks.slack.com/services/T/B/X"
        let slackBody = SlackChannel(config: slack).body(for: Self.alert, runID: "r").serialized()
        #expect(slackBody.contains("*Resume from checkpoint-1200 (step 1200): /runs/out/checkpoint-1200*"))
        #expect(!SlackChannel(config: slack).body(for: Fixtures.critical, runID: "r").serialized().contains("Resume from"))

        var discord = DiscordConfig()
        discord.webhookURL = "https://discord.com/api/webhooks/1/x"
        let discordBody = DiscordChannel(config: discord).body(for: Self.alert, runID: "r").serialized()
        #expect(discordBody.contains(#"{"name":"Checkpoint","value":"resume from checkpoint-1200 (step 1200): `/runs/out/checkpoint-1200`","inline":false}"#))
    }

    @Test func emailPagerDutyAndWebhookCarryIt() throws {
        let email = EmailChannel(config: EmailConfig())
        #expect(email.plainText(for: Self.alert, runID: "r").contains("Resume from checkpoint-1200 (step 1200): /runs/out/checkpoint-1200\n"))
        #expect(email.html(for: Self.alert, runID: "r").contains("<p><b>Resume from checkpoint-1200 (step 1200): /runs/out/checkpoint-1200</b></p>"))

        var pagerduty = PagerDutyConfig()
        pagerduty.routingKey = "key"
        let event = PagerDutyChannel(config: pagerduty).body(for: Self.alert, runID: "r", now: Fixtures.now).serialized()
        #expect(event.contains(#""resume_from":{"path":"/runs/out/checkpoint-1200","step":1200}"#))

        var webhook = WebhookConfig()
        webhook.url = "https://example.com/hook"
        let standard = try WebhookChannel(config: webhook).body(for: Self.alert, runID: "r", now: Fixtures.now)
        #expect(standard.contains(#""resume_from":"/runs/out/checkpoint-1200","resume_from_step":1200"#))
        webhook.templateJSON = #"{"resume": "${resume_from}", "at": ${resume_from_step}}"#
        #expect(try WebhookChannel(config: webhook).body(for: Self.alert, runID: "r", now: Fixtures.now)
            == #"{"resume": "/runs/out/checkpoint-1200", "at": 1200}"#)
        #expect(try WebhookChannel(config: webhook).body(for: Fixtures.critical, runID: "r", now: Fixtures.now)
            == #"{"resume": "", "at": null}"#)
    }
}
