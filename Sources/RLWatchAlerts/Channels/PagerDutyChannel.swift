import Foundation
import RLWatchCore

/// PagerDuty Events API v2: a critical alert triggers an incident whose `dedup_key` is the run and detector,
/// so repeated criticals of one detector in one run update one incident instead of opening many.
///
/// Warnings are not paged: ``request(for:runID:now:)`` returns nil for them (paging someone at night for a
/// warning trains them to ignore pages); they still reach the chat and email channels.
public struct PagerDutyChannel: AlertChannel {
    public let config: PagerDutyConfig
    public let timeout: Duration

    public var name: AlertChannelName { .pagerduty }
    public var secrets: [String] { [config.routingKey] }

    /// - Parameters:
    ///   - config: `alerts.pagerduty`.
    ///   - timeout: per request.
    public init(config: PagerDutyConfig, timeout: Duration = .seconds(10)) {
        self.config = config
        self.timeout = timeout
    }

    public func request(for alert: Alert, runID: String, now: Date) throws(AlertChannelError) -> ChannelRequest? {
        guard alert.severity == .critical else { return nil }
        try AlertFormatting.checkURL(config.url, key: "alerts.pagerduty.url", channel: name)
        guard !config.routingKey.isEmpty else {
            throw AlertChannelError(channel: name, message: "alerts.pagerduty.routing_key is not set")
        }
        return .http(.json(url: config.url, body: body(for: alert, runID: runID, now: now), timeout: timeout))
    }

    /// `rlwatch/<run>/<detector>`: one incident per run and detector.
    public static func dedupKey(runID: String, detector: DetectorID) -> String {
        AlertFormatting.truncated("rlwatch/\(runID)/\(detector)", 255)
    }

    /// The event.
    public func body(for alert: Alert, runID: String, now: Date) -> JSONValue {
        let summary = "rlwatch \(AlertFormatting.upper(alert.severity)): \(alert.detector) — run \(runID), step \(alert.step): \(alert.message)"
        var details: [(String, JSONValue)] = [
            ("run_id", .string(runID)),
            ("step", .int(alert.step)),
            ("message", .string(alert.message)),
            ("recommendation", .string(alert.recommendation)),
            ("metrics", AlertFormatting.metricsJSON(alert)),
        ]
        if let resume = alert.resumeFrom {
            details.append(("resume_from", .object([("path", .string(resume.path)), ("step", .int(resume.step))])))
        }
        return .object([
            ("routing_key", .string(config.routingKey)),
            ("event_action", "trigger"),
            ("dedup_key", .string(Self.dedupKey(runID: runID, detector: alert.detector))),
            (
                "payload",
                .object([
                    ("summary", .string(AlertFormatting.truncated(summary, 1024))),
                    ("source", .string("rlwatch/\(runID)")),
                    ("severity", .string(alert.severity == .critical ? "critical" : "warning")),
                    ("timestamp", .string(AlertFormatting.isoTimestamp(now))),
                    ("component", .string(alert.detector.rawValue)),
                    ("group", .string(runID)),
                    ("class", .string(alert.detector.rawValue)),
                    ("custom_details", .object(details)),
                ])
            ),
            ("client", "rlwatch"),
        ])
    }
}
