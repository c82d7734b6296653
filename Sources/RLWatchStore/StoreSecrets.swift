import RLWatchCore

/// A last line of defence against storing secrets in `runs.config_json`.
///
/// Redacting the config is the caller's job (0.5.1 stored SMTP passwords, webhook headers and webhook
/// URLs in clear, and anyone who can read `metrics.db` could read them). This check only catches what
/// slipped through: a value under a secret-looking key that is neither empty nor already redacted is
/// replaced by ``marker`` before the row is written. Everything else is stored byte for byte.
enum StoreSecrets {
    static let marker = "***"

    /// Keys whose string values are secrets wherever they appear.
    private static let secretKeys: Set<String> = [
        "smtp_password", "password", "passwd", "token", "api_key", "apikey", "secret", "authorization",
        "webhook_url", "routing_key",
    ]

    /// `configJSON` with unredacted secrets replaced, and the dotted paths of the keys replaced.
    ///
    /// Text that is not a JSON object is returned unchanged: there is nothing to look into.
    static func redact(configJSON: String) -> (json: String, keyPaths: [String]) {
        guard configJSON.utf8.contains(where: { $0 == UInt8(ascii: "{") }),
            let value = try? JSONReader.parse(configJSON, mode: .pythonLenient)
        else { return (configJSON, []) }
        var keyPaths: [String] = []
        let redacted = redact(value, path: [], secret: false, keyPaths: &keyPaths)
        if keyPaths.isEmpty { return (configJSON, []) }
        return (redacted.serialized(), keyPaths)
    }

    private static func redact(
        _ value: JSONValue, path: [String], secret: Bool, keyPaths: inout [String]
    ) -> JSONValue {
        switch value {
        case .string(let text) where secret && !isRedacted(text):
            keyPaths.append(path.joined(separator: "."))
            return .string(marker)
        case .object(let members):
            return .object(
                members.map { name, member in
                    let key = name.lowercased()
                    let isSecret =
                        secret || secretKeys.contains(key) || key.hasSuffix("_password") || key.hasSuffix("_token")
                        || key == "headers" || (key == "url" && path.last?.lowercased() == "webhook")
                    return (name, redact(member, path: path + [name], secret: isSecret, keyPaths: &keyPaths))
                })
        case .array(let items):
            return .array(
                items.enumerated().map { index, item in
                    redact(item, path: path + [String(index)], secret: secret, keyPaths: &keyPaths)
                })
        default:
            return value
        }
    }

    private static func isRedacted(_ text: String) -> Bool {
        text.isEmpty || text.allSatisfy { $0 == "*" } || text.lowercased().contains("redacted")
    }
}
