import Foundation
import Synchronization
import RLWatchAlerts
import RLWatchCore
import Testing

/// Retries against a real server on loopback that fails on purpose.
@Suite struct DeliveryRetryTests {
    func webhook(_ url: String, timeout: Double = 30) -> WebhookChannel {
        var config = WebhookConfig()
        config.url = url
        config.timeoutSeconds = timeout
        return WebhookChannel(config: config)
    }

    @Test func serverErrorThenSuccessIsDeliveredOnceInTwoAttempts() async throws {
        try await withFakeEndpoint([ScriptedResponse(status: 500, body: "boom"), .ok]) { base, log in
            let reports = try await withTransport { transport in
                await AlertDeliverer(transport: transport, policy: Fixtures.quickRetry, clock: ContinuousClock())
                    .deliver(Fixtures.critical, runID: "r", via: webhook(base + "/hook"), now: Fixtures.now)
            }
            #expect(reports.map(\.outcome.code) == ["retryable", "delivered"])
            #expect(reports.first?.outcome.status == 500)
            #expect(log.requests.count == 2)
        }
    }

    @Test func tooManyRequestsHonoursRetryAfter() async throws {
        try await withFakeEndpoint([ScriptedResponse(status: 429, headers: ["Retry-After": "1"], body: "slow down"), .ok]) {
            base, log in
            // maxBackoff above 1 s: the server's 1 s is waited as given.
            let policy = RetryPolicy(maxAttempts: 3, initialBackoff: .milliseconds(10), maxBackoff: .seconds(2))
            let clock = RecordingClock()
            let start = clock.now
            let reports = try await withTransport { transport in
                await AlertDeliverer(transport: transport, policy: policy, clock: clock)
                    .deliver(Fixtures.critical, runID: "r", via: webhook(base + "/hook"), now: Fixtures.now)
            }
            let elapsed = start.duration(to: clock.now)
            #expect(reports.first?.outcome == .retryable(status: 429, detail: "HTTP 429: slow down", retryAfter: .seconds(1)))
            #expect(reports.last?.outcome == .delivered(status: 200))
            #expect(elapsed >= .milliseconds(950))
            // The wait asked for is the server's, not a backoff (checked on the clock, not by wall time, which a
            // loaded 2-core machine stretches).
            let waits = clock.waits
            #expect(waits.count == 1 && waits.allSatisfy { $0 > .milliseconds(950) && $0 <= .seconds(1) }, "\(waits)")
            #expect(log.requests.count == 2)
        }
    }

    @Test func clientErrorFailsWithoutRetry() async throws {
        try await withFakeEndpoint([ScriptedResponse(status: 400, body: "invalid_payload")]) { base, log in
            let reports = try await withTransport { transport in
                await AlertDeliverer(transport: transport, policy: Fixtures.quickRetry, clock: ContinuousClock())
                    .deliver(Fixtures.critical, runID: "r", via: webhook(base + "/hook"), now: Fixtures.now)
            }
            #expect(reports.map(\.outcome) == [.failed(status: 400, detail: "HTTP 400: invalid_payload")])
            #expect(log.requests.count == 1)
        }
    }

    @Test func connectionRefusedIsRetriedThenGivenUpWithoutLeakingTheURL() async throws {
        // Port 1 on loopback: nothing listens there, the connection is refused at once.
        let secretURL = "http://127.0.0.1:1/services/T000/B000/SECRETTOKEN"
        let policy = RetryPolicy(maxAttempts: 2, initialBackoff: .milliseconds(10), maxBackoff: .milliseconds(20))
        let reports = try await withTransport { transport in
            await AlertDeliverer(transport: transport, policy: policy, clock: ContinuousClock())
                .deliver(Fixtures.critical, runID: "r", via: webhook(secretURL), now: Fixtures.now)
        }
        #expect(reports.map(\.outcome.code) == ["retryable", "retryable"])
        // Reported as the refusal it is, not as a timeout after the pool's silent reconnects.
        #expect(reports.first?.outcome.detail.hasPrefix("connection failed") == true, "\(reports)")
        for report in reports { #expect(!report.outcome.detail.contains("SECRETTOKEN")) }
    }

    /// Issue 20: a receiver whose error page echoes the request put the URL's secret path into stderr, the
    /// delivery-attempt log and `rlwatch alerts --attempts`. Every channel's secret, whole or in parts, is hidden.
    @Test func secretsEchoedByTheReceiverAreRedacted() async throws {
        try await withFakeEndpoint([ScriptedResponse(status: 404, body: "not found:", echo: true)]) { base, log in
            var webhookConfig = WebhookConfig()
            webhookConfig.url = base + "/hooks/Zq81secretPATH?token=tok3nValue77&team=ml"
            webhookConfig.headers = ["Authorization": "Bearer hdrSecret123"]
            var slackConfig = SlackConfig()
            slackConfig.webhookURL = base + "/services/T0123ABCD/B0456EFGH/xoxbSlackTokenValue123"
            var discordConfig = DiscordConfig()
            discordConfig.webhookURL = base + "/api/webhooks/112233445566778899/DiscordTok-en_value%2Fabc"
            let channels: [(any AlertChannel, [String])] = [
                (WebhookChannel(config: webhookConfig), ["Zq81secretPATH", "tok3nValue77", "hdrSecret123"]),
                (SlackChannel(config: slackConfig), ["T0123ABCD", "B0456EFGH", "xoxbSlackTokenValue123"]),
                (DiscordChannel(config: discordConfig), ["112233445566778899", "DiscordTok-en_value"]),
            ]
            for (channel, secrets) in channels {
                let reports = try await withTransport { transport in
                    await AlertDeliverer(transport: transport, policy: Fixtures.quickRetry, clock: ContinuousClock())
                        .deliver(Fixtures.critical, runID: "r", via: channel, now: Fixtures.now)
                }
                let detail = try #require(reports.first?.outcome.detail)
                #expect(detail.hasPrefix("HTTP 404: not found: Cannot POST"), "\(detail)")
                #expect(detail.contains("****"), "\(detail)")
                for secret in secrets { #expect(!detail.contains(secret), "\(channel.name) leaked \(secret): \(detail)") }
            }
            // The receiver did see the secrets (so the echo carried them).
            #expect(log.requests.contains { $0.path.contains("xoxbSlackTokenValue123") })
        }
    }

    @Test func scrubberHidesAURLsPartsButNotItsWords() {
        let scrubber = SecretScrubber(["https://hooks.slack.com/services/T0123ABCD/B0456EFGH/xoxbSlackTokenValue123?x=secretQ1"])
        #expect(
            scrubber.scrub("POST https://hooks.slack.com/services/T0123ABCD/B0456EFGH/xoxbSlackTokenValue123?x=secretQ1 failed")
                == "POST https://hooks.slack.com/…/**** failed")
        #expect(scrubber.scrub("no route /services/T0123ABCD/B0456EFGH/xoxbSlackTokenValue123") == "no route ****")
        #expect(scrubber.scrub(#"{"path":"\/services\/T0123ABCD\/B0456EFGH\/xoxbSlackTokenValue123"}"#) == #"{"path":"****"}"#)
        #expect(scrubber.scrub("unknown team T0123ABCD in services, query secretQ1") == "unknown team **** in services, query ****")
    }

    @Test func slowServerTimesOut() async throws {
        try await withFakeEndpoint([ScriptedResponse(status: 200, delay: .milliseconds(1500))]) { base, _ in
            let policy = RetryPolicy(maxAttempts: 1, initialBackoff: .milliseconds(10), maxBackoff: .milliseconds(20))
            let reports = try await withTransport { transport in
                await AlertDeliverer(transport: transport, policy: policy, clock: ContinuousClock())
                    .deliver(Fixtures.critical, runID: "r", via: webhook(base + "/hook", timeout: 0.3), now: Fixtures.now)
            }
            // "timed out" rather than delivered: the 0.3 s timeout fired before the 1.5 s answer (no wall-clock bound,
            // which a loaded 2-core machine stretches).
            #expect(reports.map(\.outcome) == [.retryable(status: nil, detail: "timed out", retryAfter: nil)])
        }
    }

    @Test func backoffDoublesWithJitterAndIsCapped() {
        let policy = RetryPolicy(maxAttempts: 5, initialBackoff: .seconds(1), maxBackoff: .seconds(3))
        #expect(policy.delay(afterAttempt: 1, unit: 0) == .milliseconds(500))
        #expect(policy.delay(afterAttempt: 1, unit: 1) == .seconds(1))
        #expect(policy.delay(afterAttempt: 2, unit: 1) == .seconds(2))
        #expect(policy.delay(afterAttempt: 4, unit: 1) == .seconds(3))
        #expect(policy.delay(afterAttempt: 2, retryAfter: .seconds(10)) == .seconds(3))
        #expect(policy.delay(afterAttempt: 5) == nil)
    }

    @Test func retryAfterAsSecondsOrDate() {
        // 1_700_000_000 s since 1970, the response's Date header.
        let sent = "Tue, 14 Nov 2023 22:13:20 GMT"
        #expect(HTTPOutcomeRules.parseRetryAfter("7", date: sent) == .seconds(7))
        #expect(HTTPOutcomeRules.parseRetryAfter("7", date: nil) == .seconds(7))
        #expect(HTTPOutcomeRules.parseRetryAfter("Tue, 14 Nov 2023 22:13:30 GMT", date: sent) == .seconds(10))
        // Measured from the server's own Date, whatever the local clock says; without one, no wait is made up.
        #expect(HTTPOutcomeRules.parseRetryAfter("Tue, 14 Nov 2023 22:13:30 GMT", date: nil) == nil)
        #expect(HTTPOutcomeRules.parseRetryAfter("Tue, 14 Nov 2023 22:13:10 GMT", date: sent) == .zero)
        #expect(HTTPOutcomeRules.parseRetryAfter("soon", date: sent) == nil)
    }
}

/// A continuous clock that records how long each sleep asked for.
final class RecordingClock: Clock, Sendable {
    typealias Instant = ContinuousClock.Instant
    private let base = ContinuousClock()
    private let recorded = Mutex<[Duration]>([])

    var now: Instant { base.now }
    var minimumResolution: Duration { base.minimumResolution }

    var waits: [Duration] { recorded.withLock { $0 } }

    func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        let wait = base.now.duration(to: deadline)
        recorded.withLock { $0.append(wait) }
        try await base.sleep(until: deadline, tolerance: tolerance)
    }
}
