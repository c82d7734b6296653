extension ConfigField {
    /// Checks `node` against this key's type and range.
    ///
    /// - Parameters:
    ///   - node: the value as written.
    ///   - keySource: where the key was written; scalar issues point there, list items at themselves.
    ///   - issues: receives every problem found (a list can have several bad items).
    /// - Returns: the typed value, or nil when there was a problem.
    func decode(_ node: ConfigNode, keySource: ConfigSource, issues: inout [ConfigIssue]) -> ConfigFieldValue? {
        func mismatch(_ expected: String, hint: String? = nil) -> ConfigFieldValue? {
            issues.append(.typeMismatch(key: key, expected: expected, got: node.got, hint: hint, at: keySource))
            return nil
        }
        func outOfRange(_ constraint: String) -> ConfigFieldValue? {
            issues.append(.outOfRange(key: key, constraint: constraint, got: node.display, at: keySource))
            return nil
        }
        let quotedHint = "remove the quotes"

        switch kind {
        case .bool:
            if case .bool(let value) = node.value { return .bool(value) }
            if case .string(let text) = node.value,
                ["true", "false", "yes", "no", "on", "off"].contains(text.lowercased())
            {
                return mismatch("true or false", hint: quotedHint)
            }
            return mismatch("true or false")

        case .int(let rule):
            switch node.value {
            case .int(let value):
                if let constraint = rule.violation(value) { return outOfRange(constraint) }
                return .int(value)
            case .double(let value) where value.isFinite && value.rounded() == value:
                return mismatch("an integer", hint: "write it without a decimal point")
            case .string(let text) where Int(ConfigText.trimmed(text)) != nil:
                return mismatch("an integer", hint: quotedHint)
            default:
                return mismatch("an integer")
            }

        case .optionalDouble(let rule, _):
            if case .null = node.value { return .null }
            return ConfigField.decodeDouble(node, rule: rule, mismatch: mismatch, outOfRange: outOfRange)

        case .double(let rule):
            return ConfigField.decodeDouble(node, rule: rule, mismatch: mismatch, outOfRange: outOfRange)

        case .string:
            if case .null = node.value { return .string("") }
            if let text = node.stringValue { return .string(text) }
            if case .bool = node.value { return mismatch("a string", hint: "put it in quotes to use it as text") }
            return mismatch("a string")

        case .choice(let values, let caseInsensitive):
            let allowed = values.joined(separator: ", ")
            guard case .string(let text) = node.value else {
                return mismatch("a string (one of \(allowed))")
            }
            if values.contains(text) { return .string(text) }
            if caseInsensitive, let match = values.first(where: { $0.lowercased() == text.lowercased() }) {
                return .string(match)
            }
            issues.append(
                .invalidChoice(
                    key: key,
                    allowed: values,
                    got: node.display,
                    suggestion: ConfigSuggestion.closest(to: text, in: values),
                    at: keySource
                )
            )
            return nil

        case .strings:
            switch node.value {
            case .null:
                return .strings([])
            case .sequence(let items):
                var strings: [String] = []
                var valid = true
                for (index, item) in items.enumerated() {
                    if let text = item.stringValue {
                        strings.append(text)
                    } else {
                        valid = false
                        issues.append(
                            .typeMismatch(
                                key: "\(key)[\(index)]", expected: "a string", got: item.got, hint: nil, at: item.source
                            )
                        )
                    }
                }
                return valid ? .strings(strings) : nil
            case .string(let text):
                return mismatch("a list of strings", hint: "write [\"\(text)\"]")
            default:
                return mismatch("a list of strings")
            }

        case .stringMap:
            switch node.value {
            case .null:
                return .stringMap([:])
            case .mapping(let entries):
                var map: [String: String] = [:]
                var valid = true
                for entry in entries {
                    if case .null = entry.value.value {
                        map[entry.key] = ""
                    } else if let text = entry.value.stringValue {
                        map[entry.key] = text
                    } else {
                        valid = false
                        issues.append(
                            .typeMismatch(
                                key: "\(key).\(entry.key)",
                                expected: "a string",
                                got: entry.value.got,
                                hint: nil,
                                at: entry.keySource
                            )
                        )
                    }
                }
                return valid ? .stringMap(map) : nil
            default:
                return mismatch("a mapping of names to strings")
            }

        case .metricKeyMap(let names, let reservedKeys, let allowedKeys):
            switch node.value {
            case .null:
                return .stringMap([:])
            case .mapping(let entries):
                var map: [String: String] = [:]
                var valid = true
                for entry in entries {
                    let entryKey = "\(key).\(entry.key)"
                    if reservedKeys.contains(entry.key) {
                        valid = false
                        issues.append(
                            .reservedKey(
                                key: entryKey,
                                reason: "`\(entry.key)` gives a metrics line its structure and cannot be mapped",
                                at: entry.keySource))
                        continue
                    }
                    if let allowedKeys, !allowedKeys.contains(entry.key) {
                        valid = false
                        issues.append(
                            .unknownKey(
                                entry.key, section: key,
                                suggestion: ConfigSuggestion.closest(to: entry.key, in: allowedKeys), known: allowedKeys,
                                at: entry.keySource))
                        continue
                    }
                    switch entry.value.value {
                    case .null:
                        map[entry.key] = ""
                    case .string(let name) where names.contains(name):
                        map[entry.key] = name
                    case .string(let name):
                        valid = false
                        issues.append(
                            .invalidChoice(
                                key: entryKey, allowed: names + ["null"], got: entry.value.display,
                                suggestion: ConfigSuggestion.closest(to: name, in: names), at: entry.value.source))
                    default:
                        valid = false
                        issues.append(
                            .typeMismatch(
                                key: entryKey, expected: "a metric name or null", got: entry.value.got, hint: nil,
                                at: entry.value.source))
                    }
                }
                return valid ? .stringMap(map) : nil
            default:
                return mismatch("a mapping of logged keys to metric names")
            }
        }
    }

    /// A float key's value: an integer or a float within `rule` (a quoted number is reported, not converted).
    private static func decodeDouble(
        _ node: ConfigNode,
        rule: DoubleRule,
        mismatch: (String, String?) -> ConfigFieldValue?,
        outOfRange: (String) -> ConfigFieldValue?
    ) -> ConfigFieldValue? {
        let number: Double
        switch node.value {
        case .int(let value): number = Double(value)
        case .double(let value): number = value
        case .string(let text) where Double(ConfigText.trimmed(text)) != nil:
            return mismatch("a number", "remove the quotes")
        default:
            return mismatch("a number", nil)
        }
        if let constraint = rule.violation(number) { return outOfRange(constraint) }
        return .double(number)
    }
}

/// Text helpers for configuration values, kept in a namespace so they cannot clash with other modules' extensions.
enum ConfigText {
    /// `text` without leading and trailing whitespace (spaces, tabs, newlines), without Foundation.
    static func trimmed(_ text: String) -> String {
        guard let first = text.firstIndex(where: { !$0.isWhitespace }),
            let last = text.lastIndex(where: { !$0.isWhitespace })
        else { return "" }
        return String(text[first...last])
    }
}
