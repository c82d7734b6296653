import Foundation
import RLWatchCore

/// Text shared by the channel payloads, in rlwatch 0.5.1's formats.
enum AlertFormatting {
    /// How many metric fields a chat message shows (Slack allows 10 fields per section).
    static let maxMetricFields = 10

    /// `CRITICAL` or `WARNING`.
    static func upper(_ severity: Severity) -> String { severity.rawValue.uppercased() }

    /// A metric value as 0.5.1 prints it: floats with `%.4f`, the rest as they are; nil for a missing value.
    static func value(_ value: MetricValue) -> String? {
        switch value {
        case .double(let number): number.isFinite ? fixed(number, decimals: 4) : formatNumber(number)
        case .int(let number): String(number)
        case .string(let text): text
        case .null: nil
        }
    }

    /// The alert's metrics as (name, formatted value): missing values dropped first, then at most `limit` kept
    /// (0.5.1's Discord capped before dropping and could show fewer).
    static func metricFields(_ alert: Alert, limit: Int = maxMetricFields) -> [(name: String, value: String)] {
        Array(alert.metricValues.compactMap { entry in value(entry.value).map { (entry.key, $0) } }.prefix(limit))
    }

    /// The metrics as a JSON object; non-finite numbers become the strings `NaN`, `Infinity`, `-Infinity`.
    static func metricsJSON(_ alert: Alert) -> JSONValue {
        .object(
            alert.metricValues.map { entry in
                let value: JSONValue =
                    switch entry.value {
                    case .double(let number): number.isFinite ? .double(number) : .string(formatNumber(number))
                    case .int(let number): .int(number)
                    case .string(let text): .string(text)
                    case .null: .null
                    }
                return (entry.key, value)
            })
    }

    /// "Resume from checkpoint-1200 (step 1200): /runs/out/checkpoint-1200", or nil when the alert names no checkpoint.
    static func resumeLine(_ alert: Alert) -> String? {
        guard let resume = alert.resumeFrom, let advice = alert.resumeAdvice else { return nil }
        return "R" + advice.dropFirst() + ": " + resume.path
    }

    /// `text` cut to at most `limit` characters, ending in `…` when cut (chat APIs reject longer fields).
    static func truncated(_ text: String, _ limit: Int) -> String {
        text.count <= limit ? text : String(text.prefix(max(0, limit - 1))) + "…"
    }

    /// ISO 8601 in UTC with microseconds and `+00:00`, like Python's `datetime.now(timezone.utc).isoformat()`.
    static func isoTimestamp(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970
        let whole = seconds.rounded(.down)
        let micros = min(999_999, Int(((seconds - whole) * 1_000_000).rounded()))
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: Date(timeIntervalSince1970: whole))
        func pad(_ value: Int?, _ width: Int) -> String {
            let text = String(value ?? 0)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.year, 4))-\(pad(parts.month, 2))-\(pad(parts.day, 2))T\(pad(parts.hour, 2)):"
            + "\(pad(parts.minute, 2)):\(pad(parts.second, 2)).\(pad(micros, 6))+00:00"
    }

    /// A URL with everything after the host replaced: `https://hooks.slack.com/…/****`.
    static func redactedURL(_ url: String) -> String {
        guard let components = URLComponents(string: url), let scheme = components.scheme, let host = components.host
        else { return url.isEmpty ? "" : "****" }
        let port = components.port.map { ":\($0)" } ?? ""
        return "\(scheme)://\(host)\(port)/…/****"
    }

    /// Whether `url` is an absolute http(s) URL with a host.
    static func isHTTPURL(_ url: String) -> Bool {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty
        else { return false }
        return true
    }

    /// Validates an endpoint URL, naming the key at fault without printing its (secret) value.
    static func checkURL(_ url: String, key: String, channel: AlertChannelName) throws(AlertChannelError) {
        guard isHTTPURL(url) else {
            throw AlertChannelError(
                channel: channel, message: "\(key) must be an http(s) URL (got \(url.isEmpty ? "nothing" : redactedURL(url)))")
        }
    }
}

/// Replaces known secrets in free text (error descriptions, response excerpts) before it is logged or stored.
///
/// A receiver's error page often echoes what it was sent: `Cannot POST /services/T0/B0/token`, a JSON error with
/// the query string, the path percent-decoded or with its slashes escaped. So a secret URL is hidden not only
/// whole but by its parts too: its path (with and without the query), its query and each query value, its
/// password, and each path segment that looks like a credential (6 characters or more with a digit in them, or
/// 16 or more: Slack's `T…`/`B…` ids and token, Discord's id and token, not words such as `services` or
/// `webhooks`), each also percent-decoded and with `/` escaped as `\/`.
public struct SecretScrubber: Sendable, Hashable {
    private let secrets: [String]

    /// - Parameter secrets: the values to hide; empty and very short ones (under 4 characters) are ignored.
    public init(_ secrets: [String]) {
        var forms = Set<String>()
        for secret in secrets where secret.count >= 4 {
            for part in [secret] + Self.parts(ofURL: secret) {
                forms.insert(part)
                if let decoded = part.removingPercentEncoding { forms.insert(decoded) }
                forms.insert(part.replacingOccurrences(of: "/", with: "\\/"))
            }
        }
        // Longest first, so that a whole URL is replaced before any of its parts.
        self.secrets = forms.filter { $0.count >= 4 }.sorted { ($0.count, $1) > ($1.count, $0) }
    }

    /// `text` with every secret replaced: URLs by their redacted form, anything else by `****`.
    public func scrub(_ text: String) -> String {
        var result = text
        for secret in secrets where result.contains(secret) {
            let replacement = AlertFormatting.isHTTPURL(secret) ? AlertFormatting.redactedURL(secret) : "****"
            result = result.replacingOccurrences(of: secret, with: replacement)
        }
        return result
    }

    /// The parts of a secret URL that a receiver may echo on their own; none for a value that is not an http(s) URL.
    static func parts(ofURL secret: String) -> [String] {
        guard AlertFormatting.isHTTPURL(secret), let components = URLComponents(string: secret) else { return [] }
        var parts: [String] = []
        let path = components.percentEncodedPath
        let query = components.percentEncodedQuery ?? ""
        if path.count > 1 {
            parts.append(path)
            parts.append(String(path.dropFirst()))
            if !query.isEmpty { parts.append(path + "?" + query) }
        }
        if !query.isEmpty { parts.append(query) }
        for item in components.percentEncodedQueryItems ?? [] {
            if let value = item.value { parts.append(value) }
        }
        if let password = components.percentEncodedPassword { parts.append(password) }
        for segment in path.split(separator: "/") {
            let hasDigit = segment.contains { $0.isNumber }
            if segment.count >= 16 || (segment.count >= 6 && hasDigit) { parts.append(String(segment)) }
        }
        return parts
    }

    /// A URL as it may be shown: `https://hooks.slack.com/…/****`.
    public static func redactedURL(_ url: String) -> String { AlertFormatting.redactedURL(url) }
}
