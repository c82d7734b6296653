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

    /// The whole configuration as a ``ConfigValue`` object with the YAML's nesting and key names.
    ///
    /// - Parameter redactingSecrets: whether to apply ``redacted()`` first (the default).
    public func configValue(redactingSecrets: Bool = true) -> ConfigValue {
        let config = redactingSecrets ? redacted() : self
        return ConfigOutline.configValue(of: config, items: ConfigOutline.items)
    }

    /// Deterministic JSON of the whole configuration, with the YAML's nesting, key names and key order (header maps
    /// sorted by name); what the store keeps as `runs.config_json`.
    ///
    /// - Parameters:
    ///   - redactingSecrets: whether to apply ``redacted()`` first. The default is true so that stored or served
    ///     JSON never holds credentials in clear.
    ///   - prettyPrinted: two-space indentation and one key per line instead of a single line.
    public func toJSON(redactingSecrets: Bool = true, prettyPrinted: Bool = false) -> String {
        var output = ""
        ConfigOutline.writeJSON(
            configValue(redactingSecrets: redactingSecrets), order: ConfigOutline.items,
            indent: prettyPrinted ? 0 : nil, to: &output)
        return output
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

    static func configValue(of config: RLWatchConfig, items: [Item]) -> ConfigValue {
        var object: [String: ConfigValue] = [:]
        for item in items {
            switch item {
            case .section(let name, _, let children):
                object[name] = configValue(of: config, items: children)
            case .key(let name, let field):
                object[name] = configValue(field.get(config))
            }
        }
        return .object(object)
    }

    static func configValue(_ value: ConfigFieldValue) -> ConfigValue {
        switch value {
        case .bool(let value): .bool(value)
        case .int(let value): .int(value)
        case .double(let value): .double(value)
        case .string(let value): .string(value)
        case .strings(let values): .array(values.map(ConfigValue.string))
        case .stringMap(let map): .object(map.mapValues(ConfigValue.string))
        case .null: .null
        }
    }

    // MARK: JSON

    /// Writes `value` as JSON; objects follow `order` where given (the schema's sections), else sorted keys.
    ///
    /// - Parameter indent: the current indentation level for pretty output, nil for compact output.
    static func writeJSON(_ value: ConfigValue, order: [Item]?, indent: Int?, to output: inout String) {
        switch value {
        case .null: output += "null"
        case .bool(let value): output += value ? "true" : "false"
        case .int(let value): output += String(value)
        case .double(let value): output += value.isFinite ? String(value) : "null"
        case .string(let value): output += jsonString(value)
        case .array(let values):
            output += "["
            for (index, element) in values.enumerated() {
                if index > 0 { output += indent == nil ? "," : ", " }
                writeJSON(element, order: nil, indent: indent, to: &output)
            }
            output += "]"
        case .object(let object):
            let keys = order?.map(\.name).filter { object[$0] != nil } ?? object.keys.sorted()
            guard !keys.isEmpty else {
                output += "{}"
                return
            }
            output += "{"
            for (index, key) in keys.enumerated() {
                if index > 0 { output += "," }
                if let indent { output += "\n" + String(repeating: "  ", count: indent + 1) }
                output += jsonString(key) + (indent == nil ? ":" : ": ")
                var childOrder: [Item]?
                if case .section(_, _, let items)? = order?.first(where: { $0.name == key }) { childOrder = items }
                writeJSON(object[key] ?? .null, order: childOrder, indent: indent.map { $0 + 1 }, to: &output)
            }
            if let indent { output += "\n" + String(repeating: "  ", count: indent) }
            output += "}"
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
