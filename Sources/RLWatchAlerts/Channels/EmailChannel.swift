import Foundation
import RLWatchCore

/// An email as the SMTP transport sends it.
public struct EmailMessage: Sendable, Hashable {
    public var host: String
    public var port: Int
    /// Empty: no AUTH. AUTH is used only when both user and password are set.
    public var user: String
    public var password: String
    public var from: String
    public var to: [String]
    public var subject: String
    public var plainText: String
    public var html: String
    public var timeout: Duration
    public var security: EmailSecurity
    /// PEM file of CA certificates to trust; empty: the system's.
    public var caCertificateFile: String
    /// The `Date` header: when the message was built, on the dispatcher's clock.
    public var date: Date

    public init(
        host: String, port: Int, user: String, password: String, from: String, to: [String], subject: String,
        plainText: String, html: String, timeout: Duration, security: EmailSecurity = .starttls,
        caCertificateFile: String = "", date: Date
    ) {
        self.date = date
        self.security = security
        self.caCertificateFile = caCertificateFile
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.from = from
        self.to = to
        self.subject = subject
        self.plainText = plainText
        self.html = html
        self.timeout = timeout
    }
}

/// How the SMTP connection is secured.
public enum EmailSecurity: String, Sendable, Hashable {
    /// Plain connection upgraded with STARTTLS (required; 0.5.1's behaviour).
    case starttls
    /// TLS from the first byte (port 465).
    case tls
    /// No encryption: for a relay on this machine; AUTH is refused.
    case none
}

/// Email over SMTP: 0.5.1's subject, plain-text and HTML bodies (every interpolated value HTML-escaped,
/// which 0.5.1 did not do).
public struct EmailChannel: AlertChannel {
    public let config: EmailConfig
    public let timeout: Duration

    public var name: AlertChannelName { .email }
    public var secrets: [String] { [config.smtpPassword] }

    /// - Parameters:
    ///   - config: `alerts.email`.
    ///   - timeout: for the connection and for each SMTP command.
    public init(config: EmailConfig, timeout: Duration = .seconds(30)) {
        self.config = config
        self.timeout = timeout
    }

    public func request(for alert: Alert, runID: String, now: Date) throws(AlertChannelError) -> ChannelRequest? {
        let recipients = config.toAddrs.filter { !$0.isEmpty }
        guard !recipients.isEmpty else { throw AlertChannelError(channel: name, message: "alerts.email.to_addrs is empty") }
        guard !config.smtpHost.isEmpty else { throw AlertChannelError(channel: name, message: "alerts.email.smtp_host is empty") }
        let sender = config.fromAddr.isEmpty ? config.smtpUser : config.fromAddr
        guard !sender.isEmpty else {
            throw AlertChannelError(channel: name, message: "alerts.email.from_addr is empty (and so is smtp_user)")
        }
        for address in [sender] + recipients where address.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "<" || $0 == ">" }) {
            throw AlertChannelError(channel: name, message: "address \(address.debugDescription) is not valid")
        }
        guard (1...65535).contains(config.smtpPort) else {
            throw AlertChannelError(channel: name, message: "alerts.email.smtp_port must be between 1 and 65535")
        }
        return .email(
            EmailMessage(
                host: config.smtpHost, port: config.smtpPort, user: config.smtpUser, password: config.smtpPassword,
                from: sender, to: recipients, subject: subject(for: alert, runID: runID),
                plainText: plainText(for: alert, runID: runID), html: html(for: alert, runID: runID), timeout: timeout,
                security: EmailSecurity(rawValue: config.security.lowercased()) ?? .starttls,
                caCertificateFile: config.caCertFile, date: now))
    }

    /// `[rlwatch CRITICAL] kl_explosion — Run {run} Step {step}`, line breaks removed.
    public func subject(for alert: Alert, runID: String) -> String {
        "[rlwatch \(AlertFormatting.upper(alert.severity))] \(alert.detector) — Run \(runID) Step \(alert.step)"
            .replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
    }

    /// 0.5.1's plain-text body.
    public func plainText(for alert: Alert, runID: String) -> String {
        var text = "rlwatch \(AlertFormatting.upper(alert.severity)): \(alert.detector)\n\nRun: \(runID)\nStep: \(alert.step)\n\n"
        text += "\(alert.message)\n\nRecommendation: \(alert.recommendation)\n"
        if let resume = AlertFormatting.resumeLine(alert) { text += "\(resume)\n" }
        let fields = AlertFormatting.metricFields(alert, limit: .max)
        if !fields.isEmpty {
            text += "\nMetrics:\n" + fields.map { "  \($0.name): \($0.value)\n" }.joined()
        }
        return text
    }

    /// 0.5.1's HTML body, with every value escaped.
    public func html(for alert: Alert, runID: String) -> String {
        let color = alert.severity == .critical ? "red" : "orange"
        var html = "<html><body>\n"
        html += "<h2 style=\"color: \(color)\">rlwatch \(AlertFormatting.upper(alert.severity)): \(Self.escape(alert.detector.rawValue))</h2>\n"
        html += "<p><b>Run:</b> <code>\(Self.escape(runID))</code> | <b>Step:</b> \(alert.step)</p>\n"
        html += "<p>\(Self.escape(alert.message))</p>\n"
        html += "<p><b>Recommendation:</b> \(Self.escape(alert.recommendation))</p>\n"
        if let resume = AlertFormatting.resumeLine(alert) { html += "<p><b>\(Self.escape(resume))</b></p>\n" }
        let fields = AlertFormatting.metricFields(alert, limit: .max)
        if !fields.isEmpty {
            html += "<h3>Metrics</h3>\n<table border=\"1\" cellpadding=\"5\" cellspacing=\"0\">\n"
            html += fields.map { "<tr><td><code>\(Self.escape($0.name))</code></td><td>\(Self.escape($0.value))</td></tr>\n" }
                .joined()
            html += "</table>\n"
        }
        return html + "</body></html>\n"
    }

    /// HTML-escapes `&`, `<`, `>`, `"` and `'`.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}
