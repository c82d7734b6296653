import Foundation
import RLWatchCore

/// Any HTTP endpoint: 0.5.1's default JSON body, or `template_json` with `${name}` / `$name` placeholders.
///
/// Fixed against 0.5.1: every string value is JSON-escaped (0.5.1 escaped only `run_id`, so a quote in a message
/// broke the body); the metrics write non-finite numbers as the strings `"NaN"`, `"Infinity"`, `"-Infinity"`;
/// the substituted body must be strict JSON or the alert is a configuration error and nothing is sent; and
/// `Content-Type: application/json` cannot be overridden by `headers`.
public struct WebhookChannel: AlertChannel {
    public let config: WebhookConfig

    public var name: AlertChannelName { .webhook }
    public var secrets: [String] { [config.url] + config.headers.values }

    /// 0.5.1's default template, exactly.
    public static let defaultTemplate = """
        {
          "detector": "${detector}",
          "severity": "${severity}",
          "step": ${step},
          "run_id": "${run_id}",
          "message": "${message}",
          "recommendation": "${recommendation}",
          "metrics": ${metrics_json},
          "timestamp": "${timestamp}"
        }
        """

    /// - Parameter config: `alerts.webhook`.
    public init(config: WebhookConfig) {
        self.config = config
    }

    public func request(for alert: Alert, runID: String, now: Date) throws(AlertChannelError) -> ChannelRequest? {
        try AlertFormatting.checkURL(config.url, key: "alerts.webhook.url", channel: name)
        let body = try body(for: alert, runID: runID, now: now)
        var headers = [HTTPHeaderField(name: "Content-Type", value: "application/json")]
        for (headerName, value) in config.headers.sorted(by: { $0.key < $1.key })
        where headerName.lowercased() != "content-type" {
            guard Self.isToken(headerName), !value.contains(where: { $0 == "\r" || $0 == "\n" }) else {
                throw AlertChannelError(
                    channel: name, message: "alerts.webhook.headers: header \(headerName.debugDescription) is not a valid header")
            }
            headers.append(HTTPHeaderField(name: headerName, value: value))
        }
        let seconds = config.timeoutSeconds.isFinite && config.timeoutSeconds > 0 ? config.timeoutSeconds : 10
        return .http(
            HTTPChannelRequest(
                method: config.method.uppercased(), url: config.url, headers: headers, body: body,
                timeout: .milliseconds(Int64(min(seconds, 3600) * 1000))))
    }

    /// The substituted body.
    ///
    /// - Throws: ``AlertChannelError`` when the result is not strict JSON (naming the offset of the problem).
    public func body(for alert: Alert, runID: String, now: Date) throws(AlertChannelError) -> String {
        let template = config.templateJSON.isEmpty ? Self.defaultTemplate : config.templateJSON
        let values: [String: String] = [
            "detector": Self.escaped(alert.detector.rawValue),
            "severity": Self.escaped(alert.severity.rawValue),
            "severity_upper": Self.escaped(AlertFormatting.upper(alert.severity)),
            "step": String(alert.step),
            "message": Self.escaped(alert.message),
            "recommendation": Self.escaped(alert.recommendation),
            "run_id": Self.escaped(runID),
            "metrics_json": AlertFormatting.metricsJSON(alert).serialized(),
            "timestamp": AlertFormatting.isoTimestamp(now),
            // For templates: the checkpoint to resume from (also in ${metrics_json}); empty and null without one.
            "resume_from": Self.escaped(alert.resumeFrom?.path ?? ""),
            "resume_from_step": alert.resumeFrom.map { String($0.step) } ?? "null",
        ]
        let body = Self.substitute(template, values)
        if let problem = JSONReader.problem(in: body) {
            throw AlertChannelError(
                channel: name,
                message: "alerts.webhook.template_json produced invalid JSON after substitution (\(problem)); alert not sent")
        }
        return body
    }

    /// Python's `string.Template.safe_substitute`: `$$` is `$`, `$name` and `${name}` are replaced when known,
    /// anything else is left as written.
    public static func substitute(_ template: String, _ values: [String: String]) -> String {
        var output = ""
        var rest = Substring(template)
        while let dollar = rest.firstIndex(of: "$") {
            output += rest[..<dollar]
            let after = rest[rest.index(after: dollar)...]
            if after.first == "$" {
                output += "$"
                rest = after.dropFirst()
            } else if after.first == "{", let close = after.firstIndex(of: "}"),
                isIdentifier(after[after.index(after: after.startIndex)..<close])
            {
                let name = String(after[after.index(after: after.startIndex)..<close])
                output += values[name] ?? "${\(name)}"
                rest = after[after.index(after: close)...]
            } else {
                let name = after.prefix { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
                if isIdentifier(name) {
                    output += values[String(name)] ?? "$\(name)"
                    rest = after.dropFirst(name.count)
                } else {
                    output += "$"
                    rest = after
                }
            }
        }
        output += rest
        return output
    }

    private static func isIdentifier(_ text: Substring) -> Bool {
        guard let first = text.first, first.isASCII, first.isLetter || first == "_" else { return false }
        return text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
    }

    /// `text` JSON-escaped without the surrounding quotes.
    package static func escaped(_ text: String) -> String {
        var out = ""
        JSONValue.writeString(text, to: &out)
        return String(out.dropFirst().dropLast())
    }

    /// An RFC 9110 token (header names).
    static func isToken(_ text: String) -> Bool {
        !text.isEmpty
            && text.unicodeScalars.allSatisfy { scalar in
                scalar.isASCII && scalar.value > 0x20 && scalar.value < 0x7F && !"()<>@,;:\\\"/[]?={}".unicodeScalars.contains(scalar)
            }
    }
}
