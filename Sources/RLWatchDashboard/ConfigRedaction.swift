import Foundation

/// Shows a run's stored config with secrets masked.
///
/// The store already keeps configs redacted (the monitor redacts, and `SQLiteStore` has a backstop), but a
/// database written by rlwatch 0.5.1 holds SMTP passwords and webhook URLs in clear, and the dashboard may be
/// exposed to a team: so the page masks secret-looking keys again before showing anything.
enum ConfigRedaction {
    static let marker = "***"

    private static let secretKeys: Set<String> = [
        "smtp_password", "password", "passwd", "token", "api_key", "apikey", "secret", "authorization",
        "webhook_url", "routing_key", "headers", "url", "smtp_user",
    ]

    /// True for a key whose value is masked wherever it appears.
    static func isSecret(_ key: String) -> Bool {
        let key = key.lowercased()
        return secretKeys.contains(key) || key.hasSuffix("_password") || key.hasSuffix("_token")
            || key.hasSuffix("_secret") || key.hasSuffix("_key") || key.hasSuffix("_url")
    }

    /// The config as indented JSON (keys sorted) with secrets masked; text that is not a JSON object is returned
    /// as it is only when it has no `"`-quoted content at all, else a placeholder (it cannot be checked).
    static func pretty(_ configJSON: String) -> String {
        guard let data = configJSON.data(using: .utf8),
            let value = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        else { return configJSON.isEmpty ? "{}" : "(the stored configuration is not JSON and is not shown)" }
        let masked = mask(value, secret: false)
        guard JSONSerialization.isValidJSONObject(masked),
            let out = try? JSONSerialization.data(withJSONObject: masked, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        else { return "{}" }
        return String(decoding: out, as: UTF8.self)
    }

    static func mask(_ value: Any, secret: Bool) -> Any {
        switch value {
        case let object as [String: Any]:
            var out: [String: Any] = [:]
            for (key, member) in object { out[key] = mask(member, secret: secret || isSecret(key)) }
            return out
        case let array as [Any]:
            return array.map { mask($0, secret: secret) }
        case let text as String:
            return secret && !text.isEmpty ? marker : text
        default:
            return value
        }
    }
}
