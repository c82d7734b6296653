import RLWatchCore

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

    /// The config as indented JSON (keys sorted) with secrets masked; text that is not a JSON object or array is
    /// not shown (it cannot be checked). Read as the store reads its columns (Python's `NaN` tokens allowed).
    static func pretty(_ configJSON: String) -> String {
        guard let value = try? JSONReader.parse(configJSON, mode: .pythonLenient) else {
            return configJSON.isEmpty ? "{}" : "(the stored configuration is not JSON and is not shown)"
        }
        switch value {
        case .object, .array: return mask(value.normalized, secret: false).prettyPrinted()
        case .null, .bool, .int, .double, .string: return "{}"
        }
    }

    static func mask(_ value: JSONValue, secret: Bool) -> JSONValue {
        switch value {
        case .object(let members): .object(members.map { ($0, mask($1, secret: secret || isSecret($0))) })
        case .array(let items): .array(items.map { mask($0, secret: secret) })
        case .string(let text): .string(secret && !text.isEmpty ? marker : text)
        case .null, .bool, .int, .double: value
        }
    }
}
