import Foundation
import RLWatchCore

/// Slack incoming webhook: Block Kit blocks in 0.5.1's layout, plus the `text` fallback that 0.5.1 left out
/// (notifications and screen readers show it) and `mention_users` on critical alerts.
public struct SlackChannel: AlertChannel {
    public let config: SlackConfig
    public let timeout: Duration

    public var name: AlertChannelName { .slack }
    public var secrets: [String] { [config.webhookURL] }

    /// - Parameters:
    ///   - config: `alerts.slack`.
    ///   - timeout: per request.
    public init(config: SlackConfig, timeout: Duration = .seconds(10)) {
        self.config = config
        self.timeout = timeout
    }

    public func request(for alert: Alert, runID: String, now: Date) throws(AlertChannelError) -> ChannelRequest? {
        try AlertFormatting.checkURL(config.webhookURL, key: "alerts.slack.webhook_url", channel: name)
        return .http(.json(url: config.webhookURL, body: body(for: alert, runID: runID), timeout: timeout))
    }

    /// The JSON body: `text`, optional `channel`, then 0.5.1's blocks (a mention section on critical alerts).
    public func body(for alert: Alert, runID: String) -> JSONValue {
        let emoji = alert.severity == .critical ? ":rotating_light:" : ":warning:"
        let title = "\(emoji) rlwatch \(AlertFormatting.upper(alert.severity)): \(alert.detector)"
        let mentions =
            alert.severity == .critical
            ? config.mentionUsers.filter { !$0.isEmpty }.map { "<@\(Self.escape($0))>" }.joined(separator: " ") : ""

        var blocks: [JSONValue] = [
            .object([
                ("type", "header"),
                ("text", .object([("type", "plain_text"), ("text", .string(AlertFormatting.truncated(title, 150)))])),
            ]),
            .object([
                ("type", "section"),
                (
                    "fields",
                    .array([
                        Self.mrkdwn("*Run:* `\(Self.escape(runID))`"), Self.mrkdwn("*Step:* \(alert.step)"),
                    ])
                ),
            ]),
            .object([("type", "section"), ("text", Self.mrkdwn(Self.escape(alert.message)))]),
            .object([
                ("type", "section"),
                ("text", Self.mrkdwn("*Recommended action:* \(Self.escape(alert.recommendation))")),
            ]),
        ]
        if let resume = AlertFormatting.resumeLine(alert) {
            blocks.append(.object([("type", "section"), ("text", Self.mrkdwn("*\(Self.escape(resume))*"))]))
        }
        let fields = AlertFormatting.metricFields(alert)
        if !fields.isEmpty {
            blocks.append(
                .object([
                    ("type", "section"),
                    ("fields", .array(fields.map { Self.mrkdwn("`\(Self.escape($0.name))`: \(Self.escape($0.value))") })),
                ]))
        }
        if !mentions.isEmpty {
            blocks.append(.object([("type", "section"), ("text", Self.mrkdwn(mentions))]))
        }
        var fallback = "\(title) | Run \(Self.escape(runID)) | Step \(alert.step): \(Self.escape(alert.message))"
        if !mentions.isEmpty { fallback = mentions + " " + fallback }
        var members: [(String, JSONValue)] = [("text", .string(AlertFormatting.truncated(fallback, 3000)))]
        if !config.channel.isEmpty { members.append(("channel", .string(config.channel))) }
        members.append(("blocks", .array(blocks)))
        return .object(members)
    }

    private static func mrkdwn(_ text: String) -> JSONValue {
        .object([("type", "mrkdwn"), ("text", .string(AlertFormatting.truncated(text, 3000)))])
    }

    /// Slack's three control characters in mrkdwn: `&`, `<`, `>` (so a message cannot inject a mention or link).
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }
}
