import Foundation
import RLWatchCore

/// Discord webhook: one embed in 0.5.1's layout, red (0xFF0000) for critical and orange (0xFFA500) for warning;
/// `mention_role_ids` become `<@&id>` mentions on critical alerts only.
///
/// Unlike 0.5.1, missing metric values are dropped before the 10-field cap (so up to 10 are shown), and
/// `allowed_mentions` limits pings to the configured roles: an alert message cannot ping `@everyone`.
public struct DiscordChannel: AlertChannel {
    public let config: DiscordConfig
    public let timeout: Duration

    public var name: AlertChannelName { .discord }
    public var secrets: [String] { [config.webhookURL] }

    /// Embed colours.
    public static let criticalColor = 0xFF0000
    public static let warningColor = 0xFFA500

    /// - Parameters:
    ///   - config: `alerts.discord`.
    ///   - timeout: per request (0.5.1: 10 s).
    public init(config: DiscordConfig, timeout: Duration = .seconds(10)) {
        self.config = config
        self.timeout = timeout
    }

    public func request(for alert: Alert, runID: String, now: Date) throws(AlertChannelError) -> ChannelRequest? {
        try AlertFormatting.checkURL(config.webhookURL, key: "alerts.discord.webhook_url", channel: name)
        return .http(.json(url: config.webhookURL, body: body(for: alert, runID: runID), timeout: timeout))
    }

    /// The JSON body.
    public func body(for alert: Alert, runID: String) -> JSONValue {
        let critical = alert.severity == .critical
        let emoji = critical ? "🚨" : "⚠️"
        var fields: [JSONValue] = [
            Self.field("Run", "`\(runID)`", inline: true),
            Self.field("Step", String(alert.step), inline: true),
            Self.field("Recommended action", alert.recommendation, inline: false),
        ]
        if let resume = alert.resumeFrom, let advice = alert.resumeAdvice {
            fields.append(Self.field("Checkpoint", "\(advice): `\(resume.path)`", inline: false))
        }
        fields += AlertFormatting.metricFields(alert).map { Self.field("`\($0.name)`", $0.value, inline: true) }
        let embed: JSONValue = .object([
            ("title", .string(AlertFormatting.truncated("\(emoji) rlwatch \(AlertFormatting.upper(alert.severity)): \(alert.detector)", 256))),
            ("description", .string(AlertFormatting.truncated(alert.message, 4096))),
            ("color", .int(critical ? Self.criticalColor : Self.warningColor)),
            ("fields", .array(fields)),
        ])
        var members: [(String, JSONValue)] = [("username", .string(config.username)), ("embeds", .array([embed]))]
        if !config.avatarURL.isEmpty { members.append(("avatar_url", .string(config.avatarURL))) }
        let roles = critical ? config.mentionRoleIDs.filter { !$0.isEmpty } : []
        if !roles.isEmpty {
            members.append(("content", .string(roles.map { "<@&\($0)>" }.joined(separator: " "))))
        }
        members.append(
            ("allowed_mentions", .object([("parse", .array([])), ("roles", .array(roles.map { .string($0) }))])))
        return .object(members)
    }

    private static func field(_ name: String, _ value: String, inline: Bool) -> JSONValue {
        .object([
            ("name", .string(AlertFormatting.truncated(name, 256))),
            ("value", .string(AlertFormatting.truncated(value.isEmpty ? "-" : value, 1024))),
            ("inline", .bool(inline)),
        ])
    }
}
