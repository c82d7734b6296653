import Foundation
import RLWatchCore

/// One alert destination (Slack, Discord, a webhook, PagerDuty, email): turns an alert into a request and judges
/// the answer. Channels do no I/O themselves; an ``AlertTransport`` sends what they build.
///
/// Keeping the two apart lets the tests check every body byte for byte, and lets the dispatcher decide on
/// retries from one classification shared by all HTTP channels.
public protocol AlertChannel: Sendable {
    /// The channel's name, as in `alerts.<name>` and in the delivery log.
    var name: AlertChannelName { get }

    /// The request that delivers `alert`, or nil when this channel does not take it (PagerDuty skips warnings).
    ///
    /// - Parameters:
    ///   - alert: the alert.
    ///   - runID: the run it belongs to.
    ///   - now: the time to stamp on the payload where the format has one.
    /// - Returns: the request to send, or nil to skip.
    /// - Throws: ``AlertChannelError`` when the configuration cannot produce a valid request (never retried).
    func request(for alert: Alert, runID: String, now: Date) throws(AlertChannelError) -> ChannelRequest?

    /// Judges an HTTP answer; the default is ``HTTPOutcomeRules/classify(_:)``.
    func classify(_ response: ChannelResponse) -> AttemptOutcome

    /// Every secret of the channel's configuration (URLs, keys, header values, passwords), so that an error
    /// text is scrubbed of them before it is logged or stored.
    var secrets: [String] { get }
}

extension AlertChannel {
    public func classify(_ response: ChannelResponse) -> AttemptOutcome {
        HTTPOutcomeRules.classify(response)
    }
}

/// What a channel asks the transport to send.
public enum ChannelRequest: Sendable, Hashable {
    case http(HTTPChannelRequest)
    case email(EmailMessage)
}

/// One HTTP request, fully built: the transport adds nothing but the connection.
public struct HTTPChannelRequest: Sendable, Hashable {
    public var method: String
    public var url: String
    /// In sending order; names as written.
    public var headers: [HTTPHeaderField]
    public var body: String
    public var timeout: Duration

    public init(method: String = "POST", url: String, headers: [HTTPHeaderField], body: String, timeout: Duration) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }

    /// A JSON POST with `Content-Type: application/json`.
    public static func json(url: String, body: JSONValue, timeout: Duration) -> HTTPChannelRequest {
        HTTPChannelRequest(
            url: url, headers: [HTTPHeaderField(name: "Content-Type", value: "application/json")],
            body: body.serialized(), timeout: timeout)
    }
}

/// One request header.
public struct HTTPHeaderField: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// What came back from an HTTP endpoint.
public struct ChannelResponse: Sendable, Hashable {
    public var status: Int
    /// `Retry-After`, when the server sent one (seconds or an HTTP date).
    public var retryAfter: String?
    /// The start of the body, at most ``ChannelResponse/excerptLength`` characters.
    public var bodyExcerpt: String
    /// The response's `Date` header: what an HTTP-date `Retry-After` is relative to (the server's own clock, so a
    /// skewed local clock cannot turn it into no wait or a day's wait).
    public var date: String?

    /// How much of a response body is kept for the delivery log.
    public static let excerptLength = 200

    public init(status: Int, retryAfter: String? = nil, bodyExcerpt: String = "", date: String? = nil) {
        self.status = status
        self.date = date
        self.retryAfter = retryAfter
        self.bodyExcerpt = String(bodyExcerpt.prefix(Self.excerptLength))
    }
}

/// The result of one delivery attempt.
public enum AttemptOutcome: Sendable, Hashable {
    /// The endpoint acknowledged the alert (2xx, or the SMTP server accepted the message).
    case delivered(status: Int?)
    /// A failure worth retrying: connection error, timeout, 5xx or 429. `retryAfter` is the server's wish.
    case retryable(status: Int?, detail: String, retryAfter: Duration?)
    /// A failure that retrying cannot fix (other 4xx); the detail names the status and the body's start.
    case failed(status: Int?, detail: String)
    /// The configuration cannot produce a valid request; nothing was sent.
    case configurationError(detail: String)
    /// The channel does not take this alert (PagerDuty and a warning); nothing was sent.
    case skipped(detail: String)

    /// The short code stored in the delivery log: `delivered`, `retryable`, `failed`, `config_error`, `skipped`.
    public var code: String {
        switch self {
        case .delivered: "delivered"
        case .retryable: "retryable"
        case .failed: "failed"
        case .configurationError: "config_error"
        case .skipped: "skipped"
        }
    }

    /// The HTTP status, when there was an answer.
    public var status: Int? {
        switch self {
        case .delivered(let status), .retryable(let status, _, _), .failed(let status, _): status
        case .configurationError, .skipped: nil
        }
    }

    /// A one-line explanation, secrets already scrubbed by whoever built it.
    public var detail: String {
        switch self {
        case .delivered(let status): status.map { "HTTP \($0)" } ?? "accepted"
        case .retryable(_, let detail, _), .failed(_, let detail), .configurationError(let detail), .skipped(let detail):
            detail
        }
    }

    /// Whether the attempt ended the delivery for good (acknowledged, refused, misconfigured or skipped).
    public var isFinal: Bool {
        if case .retryable = self { false } else { true }
    }
}

/// A channel's configuration cannot produce a valid request.
public struct AlertChannelError: Error, Sendable, Hashable, CustomStringConvertible {
    public var channel: AlertChannelName
    public var message: String

    public init(channel: AlertChannelName, message: String) {
        self.channel = channel
        self.message = message
    }

    public var description: String { "alerts.\(channel): \(message)" }
}

/// The HTTP status rules every HTTP channel shares.
public enum HTTPOutcomeRules {
    /// 2xx delivered; 429 and 5xx retryable (honouring `Retry-After`); anything else failed for good.
    public static func classify(_ response: ChannelResponse) -> AttemptOutcome {
        let status = response.status
        let excerpt = response.bodyExcerpt.replacingOccurrences(of: "\n", with: " ")
        let detail = excerpt.isEmpty ? "HTTP \(status)" : "HTTP \(status): \(excerpt)"
        switch status {
        case 200..<300:
            return .delivered(status: status)
        case 429, 500..<600:
            return .retryable(status: status, detail: detail, retryAfter: response.retryAfter.flatMap { parseRetryAfter($0, date: response.date) })
        default:
            return .failed(status: status, detail: detail)
        }
    }

    /// `Retry-After` as a wait: delay-seconds, or an HTTP date relative to the response's `Date` header; nil when
    /// unreadable, or a date without a `Date` header to measure it from (the retry policy's backoff then applies).
    public static func parseRetryAfter(_ value: String, date: String?) -> Duration? {
        let text = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Double(text), seconds.isFinite, seconds >= 0 {
            return .milliseconds(Int64(min(seconds, 86_400) * 1000))
        }
        guard let until = httpDate(text), let sent = date.flatMap(httpDate) else { return nil }
        let seconds = max(0, min(until.timeIntervalSince(sent), 86_400))
        return .milliseconds(Int64(seconds * 1000))
    }

    /// An IMF-fixdate (`Tue, 14 Nov 2023 22:13:30 GMT`).
    static func httpDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text.trimmingCharacters(in: .whitespaces))
    }
}
