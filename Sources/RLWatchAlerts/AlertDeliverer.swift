import Foundation
import RLWatchCore

/// One attempt as the deliverer saw it.
public struct AttemptReport: Sendable, Hashable {
    /// 1-based.
    public var attempt: Int
    public var outcome: AttemptOutcome
    /// How long the attempt took.
    public var duration: Duration

    public init(attempt: Int, outcome: AttemptOutcome, duration: Duration) {
        self.attempt = attempt
        self.outcome = outcome
        self.duration = duration
    }
}

/// Delivers one alert to one channel in-process, retrying by a ``RetryPolicy`` and waiting on a clock.
///
/// `rlwatch test-alert` and the tests use it directly; the ``AlertDispatcher`` takes single attempts from it and
/// keeps the retry schedule in the store instead, so that a restart resumes where it left off.
public struct AlertDeliverer<C: Clock>: Sendable where C.Duration == Duration {
    public let transport: any AlertTransport
    public let policy: RetryPolicy
    public let clock: C

    /// - Parameters:
    ///   - transport: sends the requests.
    ///   - policy: how often and when to retry.
    ///   - clock: what the waits between attempts sleep on.
    public init(transport: any AlertTransport, policy: RetryPolicy, clock: C) {
        self.transport = transport
        self.policy = policy
        self.clock = clock
    }

    /// One attempt: builds the request (a configuration error or a skip ends here) and sends it.
    ///
    /// - Returns: the outcome.
    public func attempt(_ alert: Alert, runID: String, via channel: any AlertChannel, now: Date) async
        -> AttemptOutcome
    {
        let request: ChannelRequest?
        do {
            request = try channel.request(for: alert, runID: runID, now: now)
        } catch {
            return .configurationError(detail: SecretScrubber(channel.secrets).scrub(error.description))
        }
        guard let request else { return .skipped(detail: "\(channel.name) does not take \(alert.severity) alerts") }
        return await transport.send(request, via: channel)
    }

    /// Attempts until the alert is delivered, refused for good, or the attempts run out.
    ///
    /// - Parameter now: when the alert is sent, on the caller's wall clock (the messages' timestamps).
    /// - Returns: every attempt, in order; the last one's outcome is the result. Cancellation stops the waits.
    public func deliver(_ alert: Alert, runID: String, via channel: any AlertChannel, now: Date) async
        -> [AttemptReport]
    {
        var reports: [AttemptReport] = []
        var number = 1
        while true {
            let start = clock.now
            let outcome = await attempt(alert, runID: runID, via: channel, now: now)
            reports.append(AttemptReport(attempt: number, outcome: outcome, duration: start.duration(to: clock.now)))
            guard case .retryable(_, _, let retryAfter) = outcome,
                let wait = policy.delay(afterAttempt: number, retryAfter: retryAfter)
            else { return reports }
            do {
                try await clock.sleep(for: wait)
            } catch {
                return reports
            }
            number += 1
        }
    }
}

/// Builds the channels a configuration enables.
public enum AlertChannels {
    /// The channel for `name` under `config`, whether or not it is enabled.
    public static func channel(_ name: AlertChannelName, config: AlertsConfig) -> any AlertChannel {
        switch name {
        case .slack: SlackChannel(config: config.slack)
        case .discord: DiscordChannel(config: config.discord)
        case .webhook: WebhookChannel(config: config.webhook)
        case .pagerduty: PagerDutyChannel(config: config.pagerduty)
        case .email: EmailChannel(config: config.email)
        }
    }

    /// The enabled channels (``AlertsConfig/activeChannels``).
    public static func active(_ config: AlertsConfig) -> [any AlertChannel] {
        config.activeChannels.map { channel($0, config: config) }
    }
}
