/// The alert channels rlwatch can deliver to, by the name they have in `alerts.<name>` and in the delivery log.
public enum AlertChannelName: String, Sendable, Hashable, CaseIterable, Comparable, CustomStringConvertible {
    case slack
    case email
    case discord
    case webhook
    case pagerduty

    public var description: String { rawValue }

    public static func < (lhs: AlertChannelName, rhs: AlertChannelName) -> Bool {
        allCases.firstIndex(of: lhs) ?? 0 < allCases.firstIndex(of: rhs) ?? 0
    }
}

extension AlertsConfig {
    /// The channels that deliver: enabled and with a destination set (0.5.1 builds a client under the same
    /// condition), in `AlertChannelName` order.
    public var activeChannels: [AlertChannelName] {
        AlertChannelName.allCases.filter { name in
            switch name {
            case .slack: slack.enabled && !slack.webhookURL.isEmpty
            case .email: email.enabled && !email.toAddrs.isEmpty
            case .discord: discord.enabled && !discord.webhookURL.isEmpty
            case .webhook: webhook.enabled && !webhook.url.isEmpty
            case .pagerduty: pagerduty.enabled && !pagerduty.routingKey.isEmpty
            }
        }
    }

    /// The active channels an alert of `severity` goes to: PagerDuty pages on critical alerts only, every
    /// other channel takes both severities.
    public func channels(for severity: Severity) -> [AlertChannelName] {
        activeChannels.filter { $0 != .pagerduty || severity == .critical }
    }
}
