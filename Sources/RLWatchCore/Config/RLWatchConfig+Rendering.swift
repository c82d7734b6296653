import Yams

extension RLWatchConfig {
    /// What ``redacted()`` puts in place of a non-empty secret.
    public static let redactionPlaceholder = "***"

    /// A copy safe to store or display: the SMTP password, the Slack, Discord and generic webhook URLs, and the
    /// values of webhook headers become `"***"` when they are non-empty (empty ones stay empty, so it is still
    /// visible that they are unset).
    public func redacted() -> RLWatchConfig {
        var copy = self
        for field in ConfigSchema.fields {
            switch (field.secrecy, field.get(self)) {
            case (.value, .string(let value)) where !value.isEmpty:
                field.set(&copy, .string(Self.redactionPlaceholder))
            case (.mapValues, .stringMap(let map)):
                field.set(&copy, .stringMap(map.mapValues { $0.isEmpty ? $0 : Self.redactionPlaceholder }))
            default:
                break
            }
        }
        return copy
    }

    /// The whole configuration as a ``JSONValue`` object with the YAML's nesting, key names and key order (header
    /// maps sorted by name).
    ///
    /// - Parameter redactingSecrets: whether to apply ``redacted()`` first (the default).
    public func json(redactingSecrets: Bool = true) -> JSONValue {
        ConfigOutline.json(of: redactingSecrets ? redacted() : self, items: ConfigOutline.items)
    }

    /// Deterministic JSON of the whole configuration (``json(redactingSecrets:)``); what the store keeps as
    /// `runs.config_json`.
    ///
    /// - Parameters:
    ///   - redactingSecrets: whether to apply ``redacted()`` first. The default is true so that stored or served
    ///     JSON never holds credentials in clear.
    ///   - prettyPrinted: two-space indentation and one key per line instead of a single line.
    public func toJSON(redactingSecrets: Bool = true, prettyPrinted: Bool = false) -> String {
        let value = json(redactingSecrets: redactingSecrets)
        return prettyPrinted ? value.prettyPrinted() : value.serialized()
    }
}

/// The configuration's keys as a tree of sections, in schema order, shared by the JSON and YAML renderers.
enum ConfigOutline {
    indirect enum Item: Sendable {
        case section(name: String, path: [String], items: [Item])
        case key(name: String, field: ConfigField)

        var name: String {
            switch self {
            case .section(let name, _, _), .key(let name, _): name
            }
        }
    }

    static let items: [Item] = build(under: [])

    private static func build(under path: [String]) -> [Item] {
        ConfigSchema.names(under: path).map { name in
            let childPath = path + [name]
            if let field = ConfigSchema.fieldsByKey[childPath.joined(separator: ".")], field.path == childPath {
                return .key(name: name, field: field)
            }
            return .section(name: name, path: childPath, items: build(under: childPath))
        }
    }

    static func json(of config: RLWatchConfig, items: [Item]) -> JSONValue {
        .object(
            items.map { item in
                switch item {
                case .section(let name, _, let children): (name, json(of: config, items: children))
                case .key(let name, let field): (name, json(field.get(config)))
                }
            })
    }

    static func json(_ value: ConfigFieldValue) -> JSONValue {
        switch value {
        case .bool(let value): .bool(value)
        case .int(let value): .int(value)
        case .double(let value): .double(value)
        case .string(let value): .string(value)
        case .strings(let values): .array(values.map(JSONValue.string))
        case .stringMap(let map): .object(map.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })
        case .null: .null
        }
    }

    static func jsonString(_ value: String) -> String {
        var result = ""
        JSONValue.writeString(value, to: &result)
        return result
    }

    // MARK: YAML

    /// A YAML scalar or flow collection for `value`, readable by Yams and by PyYAML (rlwatch 0.5.1).
    static func yaml(_ value: ConfigFieldValue) -> String {
        switch value {
        case .bool(let value): return value ? "true" : "false"
        case .int(let value): return String(value)
        case .double(let value): return yamlFloat(value)
        case .string(let value): return yamlString(value)
        case .null: return "null"
        case .strings(let values): return "[" + values.map(yamlString).joined(separator: ", ") + "]"
        case .stringMap(let map):
            return "{"
                + map.keys.sorted().map { "\(yamlString($0)): \(yamlString(map[$0] ?? ""))" }
                .joined(separator: ", ") + "}"
        }
    }

    /// Always with a decimal point, because PyYAML reads `1e-05` as a string but `1.0e-05` as a float.
    private static func yamlFloat(_ value: Double) -> String {
        guard value.isFinite else { return value.isNaN ? ".nan" : (value < 0 ? "-.inf" : ".inf") }
        let text = String(value)
        guard !text.contains(".") else { return text }
        if let exponent = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            return text[..<exponent] + ".0" + text[exponent...]
        }
        return text + ".0"
    }

    /// Plain when that reads back as the same string (`auto`, `./rlwatch_logs`), else double-quoted.
    private static func yamlString(_ value: String) -> String {
        let safe = value.unicodeScalars.allSatisfy { scalar in
            (("0"..."9").contains(scalar) || ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar)
                || "_./@+-".unicodeScalars.contains(scalar))
        }
        if safe, let first = value.unicodeScalars.first,
            ("a"..."z").contains(first) || ("A"..."Z").contains(first) || ("0"..."9").contains(first) || first == "."
                || first == "/" || first == "_",
            Resolver.default.resolveTag(of: Node(value)) == .str
        {
            return value
        }
        return jsonString(value)
    }
}
