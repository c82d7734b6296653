import Foundation
import RLWatchAlerts
import RLWatchCore
import Testing

/// Payloads byte for byte, as the real endpoint receives them.
@Suite struct ChannelPayloadTests {
    @Test func slackCriticalWithMentionsAndTextFallback() async throws {
        try await withFakeEndpoint { base, log in
            var config = SlackConfig()
            config.webhookURL = base + "/services/T000/B000/XXXX"
            config.mentionUsers = ["U123"]
            try await withTransport { transport in
                let deliverer = AlertDeliverer(transport: transport, policy: Fixtures.quickRetry, clock: ContinuousClock())
                let reports = await deliverer.deliver(Fixtures.critical, runID: Fixtures.runID, via: SlackChannel(config: config), now: Fixtures.now)
                #expect(reports.map(\.outcome) == [.delivered(status: 200)])
            }
            let request = try #require(log.requests.first)
            #expect(request.method == "POST")
            #expect(request.path == "/services/T000/B000/XXXX")
            #expect(request.headers["content-type"] == "application/json")
            #expect(
                request.body
                    == #"{"text":"<@U123> :rotating_light: rlwatch CRITICAL: entropy_collapse | Run run-1 | Step 42: Entropy fell to 0.1000.","blocks":[{"type":"header","text":{"type":"plain_text","text":":rotating_light: rlwatch CRITICAL: entropy_collapse"}},{"type":"section","fields":[{"type":"mrkdwn","text":"*Run:* `run-1`"},{"type":"mrkdwn","text":"*Step:* 42"}]},{"type":"section","text":{"type":"mrkdwn","text":"Entropy fell to 0.1000."}},{"type":"section","text":{"type":"mrkdwn","text":"*Recommended action:* Lower the LR."}},{"type":"section","fields":[{"type":"mrkdwn","text":"`current_entropy`: 0.1000"},{"type":"mrkdwn","text":"`steps`: 50"}]},{"type":"section","text":{"type":"mrkdwn","text":"<@U123>"}}]}"#
            )
        }
    }

    @Test func slackWarningHasNoMentionAndCapsMetricsAtTen() throws {
        var config = SlackConfig()
        config.webhookURL = "https://hooks.slack.com/services/T/B/X"
        config.mentionUsers = ["U123"]
        var alert = Fixtures.warning
        alert.metricValues = MetricValues((0..<14).map { ("m\($0)", $0 == 0 ? MetricValue.null : .int($0)) })
        alert.message = "a <b> & c"
        let body = SlackChannel(config: config).body(for: alert, runID: "r").serialized()
        #expect(!body.contains("<@U123>"))
        #expect(body.contains("`m10`: 10"))
        #expect(!body.contains("`m11`"))
        #expect(body.contains("a &lt;b&gt; &amp; c"))
        #expect(JSONReader.problem(in: body) == nil)
    }

    @Test func discordCriticalAndWarning() async throws {
        try await withFakeEndpoint { base, log in
            var config = DiscordConfig()
            config.webhookURL = base + "/api/webhooks/1/secret-token"
            config.mentionRoleIDs = ["111", "222"]
            try await withTransport { transport in
                let deliverer = AlertDeliverer(transport: transport, policy: Fixtures.quickRetry, clock: ContinuousClock())
                let channel = DiscordChannel(config: config)
                _ = await deliverer.deliver(Fixtures.critical, runID: Fixtures.runID, via: channel, now: Fixtures.now)
                _ = await deliverer.deliver(Fixtures.warning, runID: Fixtures.runID, via: channel, now: Fixtures.now)
            }
            let requests = log.requests
            try #require(requests.count == 2)
            #expect(requests[0].headers["content-type"] == "application/json")
            #expect(
                requests[0].body
                    == #"{"username":"rlwatch","embeds":[{"title":"🚨 rlwatch CRITICAL: entropy_collapse","description":"Entropy fell to 0.1000.","color":16711680,"fields":[{"name":"Run","value":"`run-1`","inline":true},{"name":"Step","value":"42","inline":true},{"name":"Recommended action","value":"Lower the LR.","inline":false},{"name":"`current_entropy`","value":"0.1000","inline":true},{"name":"`steps`","value":"50","inline":true}]}],"content":"<@&111> <@&222>","allowed_mentions":{"parse":[],"roles":["111","222"]}}"#
            )
            #expect(
                requests[1].body
                    == #"{"username":"rlwatch","embeds":[{"title":"⚠️ rlwatch WARNING: entropy_collapse","description":"Entropy fell to 0.1000.","color":16753920,"fields":[{"name":"Run","value":"`run-1`","inline":true},{"name":"Step","value":"42","inline":true},{"name":"Recommended action","value":"Lower the LR.","inline":false},{"name":"`current_entropy`","value":"0.1000","inline":true},{"name":"`steps`","value":"50","inline":true}]}],"allowed_mentions":{"parse":[],"roles":[]}}"#
            )
        }
    }

    @Test func pagerDutyTriggersCriticalAndSkipsWarning() async throws {
        try await withFakeEndpoint([ScriptedResponse(status: 202, body: #"{"status":"success"}"#)]) { base, log in
            var config = PagerDutyConfig()
            config.routingKey = "R0UTINGKEY"
            config.url = base + "/v2/enqueue"
            let channel = PagerDutyChannel(config: config)
            try await withTransport { transport in
                let deliverer = AlertDeliverer(transport: transport, policy: Fixtures.quickRetry, clock: ContinuousClock())
                #expect(
                    await deliverer.attempt(Fixtures.critical, runID: Fixtures.runID, via: channel, now: Fixtures.now)
                        == .delivered(status: 202))
                let skipped = await deliverer.attempt(Fixtures.warning, runID: Fixtures.runID, via: channel, now: Fixtures.now)
                #expect(skipped.code == "skipped")
            }
            let requests = log.requests
            try #require(requests.count == 1)
            #expect(requests[0].path == "/v2/enqueue")
            #expect(
                requests[0].body
                    == #"{"routing_key":"R0UTINGKEY","event_action":"trigger","dedup_key":"rlwatch/run-1/entropy_collapse","payload":{"summary":"rlwatch CRITICAL: entropy_collapse — run run-1, step 42: Entropy fell to 0.1000.","source":"rlwatch/run-1","severity":"critical","timestamp":"2023-11-14T22:13:20.500000+00:00","component":"entropy_collapse","group":"run-1","class":"entropy_collapse","custom_details":{"run_id":"run-1","step":42,"message":"Entropy fell to 0.1000.","recommendation":"Lower the LR.","metrics":{"current_entropy":0.1,"baseline":null,"steps":50}}},"client":"rlwatch"}"#
            )
        }
    }

    @Test func webhookDefaultBodyMethodAndHeaders() async throws {
        try await withFakeEndpoint { base, log in
            var config = WebhookConfig()
            config.url = base + "/hook"
            config.method = "put"
            config.headers = ["Authorization": "Bearer s3cret", "content-type": "text/plain", "X-Team": "rl"]
            let channel = WebhookChannel(config: config)
            try await withTransport { transport in
                let deliverer = AlertDeliverer(transport: transport, policy: Fixtures.quickRetry, clock: ContinuousClock())
                #expect(
                    await deliverer.attempt(Fixtures.critical, runID: Fixtures.runID, via: channel, now: Fixtures.now)
                        == .delivered(status: 200))
            }
            let request = try #require(log.requests.first)
            #expect(request.method == "PUT")
            #expect(request.headers["content-type"] == "application/json")
            #expect(request.headers["authorization"] == "Bearer s3cret")
            #expect(request.headers["x-team"] == "rl")
            #expect(
                request.body == """
                    {
                      "detector": "entropy_collapse",
                      "severity": "critical",
                      "step": 42,
                      "run_id": "run-1",
                      "message": "Entropy fell to 0.1000.",
                      "recommendation": "Lower the LR.",
                      "metrics": {"current_entropy":0.1,"baseline":null,"steps":50},
                      "timestamp": "2023-11-14T22:13:20.500000+00:00"
                    }
                    """)
        }
    }

    @Test func webhookEscapesEveryValueAndWritesNonFiniteAsStrings() throws {
        var config = WebhookConfig()
        config.url = "https://example.com/hook"
        var alert = Fixtures.critical
        alert.message = "KL \"exploded\"\n\\ back"
        alert.recommendation = "Check \"it\""
        alert.metricValues = ["loss": .double(.nan), "kl": .double(.infinity), "low": .double(-.infinity)]
        let body = try WebhookChannel(config: config).body(for: alert, runID: "a\"b", now: Fixtures.now)
        #expect(JSONReader.problem(in: body) == nil)
        #expect(body.contains(#""message": "KL \"exploded\"\n\\ back""#))
        #expect(body.contains(#""run_id": "a\"b""#))
        #expect(body.contains(#""metrics": {"loss":"NaN","kl":"Infinity","low":"-Infinity"}"#))
    }

    @Test func webhookTemplatePlaceholders() throws {
        var config = WebhookConfig()
        config.url = "https://example.com/hook"
        config.templateJSON = #"{"t": "$severity_upper ${detector} $$5 $unknown ${nope} $", "s": $step}"#
        let body = try WebhookChannel(config: config).body(for: Fixtures.critical, runID: "r", now: Fixtures.now)
        #expect(body == #"{"t": "CRITICAL entropy_collapse $5 $unknown ${nope} $", "s": 42}"#)
    }

    @Test func webhookInvalidTemplateIsAConfigurationErrorAndNothingIsSent() async throws {
        try await withFakeEndpoint { base, log in
            var config = WebhookConfig()
            config.url = base + "/hook"
            config.templateJSON = #"{"metrics": ${metrics_json}, "x": NaN,}"#
            try await withTransport { transport in
                let deliverer = AlertDeliverer(transport: transport, policy: Fixtures.quickRetry, clock: ContinuousClock())
                let reports = await deliverer.deliver(Fixtures.critical, runID: "r", via: WebhookChannel(config: config), now: Fixtures.now)
                #expect(reports.count == 1)
                #expect(reports.first?.outcome.code == "config_error")
                #expect(reports.first?.outcome.detail.contains("template_json produced invalid JSON") == true)
            }
            #expect(log.requests.isEmpty)
        }
    }

    @Test func emailBodiesAreEscaped() throws {
        var config = EmailConfig()
        config.toAddrs = ["a@example.com"]
        config.fromAddr = "rlwatch@example.com"
        var alert = Fixtures.critical
        alert.message = "<script>alert(1)</script> & more"
        let channel = EmailChannel(config: config)
        let html = channel.html(for: alert, runID: "<run>")
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; more"))
        #expect(html.contains("<code>&lt;run&gt;</code>"))
        #expect(!html.contains("<script>"))
        #expect(channel.subject(for: alert, runID: "r") == "[rlwatch CRITICAL] entropy_collapse — Run r Step 42")
    }
}
