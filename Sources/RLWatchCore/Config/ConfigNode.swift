import Yams

/// A configuration value tree with the source of every node, built from YAML, JSON overrides, environment variables
/// or flags, so that one validator serves them all.
struct ConfigNode: Sendable {
    enum Value: Sendable {
        case null
        case bool(Bool)
        case int(Int)
        case double(Double)
        case string(String)
        /// A YAML integer that does not fit in `Int`.
        case integerOverflow
        case sequence([ConfigNode])
        case mapping([Entry])
    }

    struct Entry: Sendable {
        var key: String
        /// Where the key was written: issues and `config show` point here rather than at the value.
        var keySource: ConfigSource
        var value: ConfigNode
    }

    var value: Value
    var source: ConfigSource
    /// The scalar exactly as written in YAML (`0x10`, `1e3`, `-1`); nil for values that did not come from text.
    var text: String?
    /// Whether the YAML scalar was quoted, so that `"true"` or `"5"` can be explained.
    var quoted = false

    /// The value as a user would recognise it in a message: the text as written, strings in double quotes.
    var display: String {
        switch value {
        case .null: return "null"
        case .bool(let value): return text ?? String(value)
        case .int(let value): return text ?? String(value)
        case .double(let value): return text ?? String(value)
        case .string(let value): return "\"\(ConfigNode.escaped(value))\""
        case .integerOverflow: return text ?? "an integer"
        case .sequence: return "a list"
        case .mapping: return "a mapping"
        }
    }

    /// `a string`, `an integer`, …
    var typeName: String {
        switch value {
        case .null: "null"
        case .bool: "a boolean"
        case .int: "an integer"
        case .double: "a float"
        case .string: "a string"
        case .integerOverflow: "an integer too large to represent"
        case .sequence: "a list"
        case .mapping: "a mapping"
        }
    }

    /// `2.5, a float`; collections and null just name their type.
    var got: String {
        switch value {
        case .null, .sequence, .mapping: typeName
        default: "\(display), \(typeName)"
        }
    }

    /// The text of a scalar that can stand for a string key's value: strings, and numbers as written
    /// (`channel: 123`). Booleans and null are excluded: `yes` meaning "yes" is too surprising to accept silently.
    var stringValue: String? {
        switch value {
        case .string(let value): value
        case .int(let value): text ?? String(value)
        case .double(let value): text ?? String(value)
        case .integerOverflow: text
        default: nil
        }
    }

    private static func escaped(_ value: String) -> String {
        var result = ""
        for character in value {
            switch character {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\t": result += "\\t"
            default: result.append(character)
            }
        }
        return result
    }
}

// MARK: - From YAML

extension ConfigNode {
    /// Parses `yaml` into a tree whose sources are positions in `file`.
    ///
    /// - Returns: the root, nil for an empty document (or one holding only comments).
    /// - Throws: a syntax issue for malformed YAML, duplicate keys, several documents, non-scalar keys, or aliases that
    ///   expand past ``YAMLExpansionLimit``.
    static func parse(yaml: String, file: String) throws(ConfigIssueThrow) -> ConfigNode? {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml, .default, .default, .utf8)
        } catch let error as YamlError {
            throw ConfigIssueThrow(issue: syntaxIssue(error, yaml: yaml, file: file))
        } catch {
            throw ConfigIssueThrow(issue: .syntax("\(error)", at: .file(path: file, line: 1, column: 1)))
        }
        guard let root else { return nil }
        if let beyond = YAMLExpansionLimit.firstNode(in: root) {
            throw ConfigIssueThrow(issue: .syntax(YAMLExpansionLimit.problem, at: location(of: beyond, in: file)))
        }
        return try convert(root, file: file)
    }

    private static func convert(_ node: Node, file: String) throws(ConfigIssueThrow) -> ConfigNode {
        let source = location(of: node, in: file)
        switch node {
        case .scalar(let scalar):
            return scalarNode(scalar, tag: node.tag.rawValue, source: source)
        case .sequence(let sequence):
            var items: [ConfigNode] = []
            for item in sequence {
                items.append(try convert(item, file: file))
            }
            return ConfigNode(value: .sequence(items), source: source)
        case .mapping(let mapping):
            var entries: [Entry] = []
            var merged: [Entry] = []
            for (key, value) in mapping {
                guard case .scalar(let keyScalar) = key else {
                    throw ConfigIssueThrow(
                        issue: .syntax(
                            "keys must be plain names, not lists or mappings", at: location(of: key, in: file))
                    )
                }
                if key.tag.rawValue == Tag.Name.merge.rawValue {
                    merged += try mergedEntries(value, at: location(of: key, in: file), file: file)
                    continue
                }
                entries.append(
                    Entry(
                        key: keyScalar.string, keySource: location(of: key, in: file),
                        value: try convert(value, file: file))
                )
            }
            // A `<<: *anchor` merge (which PyYAML, and so rlwatch 0.5.1, supports) contributes the keys the mapping
            // does not set itself; among several merged mappings the first wins, as in YAML 1.1.
            var seen = Set(entries.map(\.key))
            let inherited = merged.filter { seen.insert($0.key).inserted }
            return ConfigNode(value: .mapping(inherited + entries), source: source)
        case .alias:
            // `compose` resolves aliases to the anchored node; an alias node is not expected here.
            return ConfigNode(value: .null, source: source)
        }
    }

    /// The entries of a merge key's value: one mapping, or a list of mappings.
    private static func mergedEntries(_ value: Node, at source: ConfigSource, file: String) throws(ConfigIssueThrow)
        -> [Entry]
    {
        let mappings: [Node]
        switch value {
        case .mapping: mappings = [value]
        case .sequence(let sequence): mappings = Array(sequence)
        default: throw ConfigIssueThrow(issue: .syntax("`<<` must merge a mapping or a list of mappings", at: source))
        }
        var entries: [Entry] = []
        for mapping in mappings {
            guard case .mapping = mapping,
                case .mapping(let converted) = try convert(mapping, file: file).value
            else {
                throw ConfigIssueThrow(issue: .syntax("`<<` must merge a mapping or a list of mappings", at: source))
            }
            entries += converted
        }
        return entries
    }

    private static func scalarNode(_ scalar: Node.Scalar, tag: String, source: ConfigSource) -> ConfigNode {
        let value: Value
        switch tag {
        case Tag.Name.null.rawValue:
            value = .null
        case Tag.Name.bool.rawValue:
            value = Bool.construct(from: scalar).map(Value.bool) ?? .string(scalar.string)
        case Tag.Name.int.rawValue:
            let quoted = scalar.style == .singleQuoted || scalar.style == .doubleQuoted
            value = Int.construct(from: scalar).map(Value.int) ?? (quoted ? .string(scalar.string) : .integerOverflow)
        case Tag.Name.float.rawValue:
            value = Double.construct(from: scalar).map(Value.double) ?? .string(scalar.string)
        default:
            // Strings, and anything else a resolver may produce (timestamps, `=`): kept as the text written.
            value = .string(scalar.string)
        }
        let quoted = scalar.style == .singleQuoted || scalar.style == .doubleQuoted
        return ConfigNode(value: value, source: source, text: scalar.string, quoted: quoted)
    }

    private static func location(of node: Node, in file: String) -> ConfigSource {
        guard let mark = node.mark else { return .file(path: file, line: 1, column: 1) }
        return .file(path: file, line: mark.line, column: mark.column)
    }

    private static func syntaxIssue(_ error: YamlError, yaml: String, file: String) -> ConfigIssue {
        func at(_ mark: Mark) -> ConfigSource { .file(path: file, line: mark.line, column: mark.column) }
        func withContext(_ problem: String, _ context: YamlError.Context?) -> String {
            guard let context else { return problem }
            return "\(problem) (\(context.text), line \(context.mark.line))"
        }
        switch error {
        case .scanner(let context, let problem, let mark, _),
            .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            if problem == "but found another document" {
                return .syntax("a config file holds a single YAML document; found a second one", at: at(mark))
            }
            if character(at: mark, in: yaml) == "\t" {
                return .syntax("a tab character; YAML indentation must use spaces", at: at(mark))
            }
            return .syntax(withContext(problem, context), at: at(mark))
        case .duplicatedKeysInMapping(let duplicates, let context):
            let names = duplicates.map { "`\($0)`" }.joined(separator: ", ")
            return .syntax("duplicate key \(names) in the same mapping", at: at(context.mark))
        case .reader(let problem, let offset, _, _):
            let (line, column) = position(ofUTF8Offset: offset ?? 0, in: yaml)
            return .syntax(problem, at: .file(path: file, line: line, column: column))
        default:
            return .syntax("\(error)", at: .file(path: file, line: 1, column: 1))
        }
    }

    /// The character at a libyaml position (columns count Unicode scalars), nil past the end.
    private static func character(at mark: Mark, in text: String) -> Unicode.Scalar? {
        var line = 1
        var column = 1
        for scalar in text.unicodeScalars {
            if line == mark.line && column == mark.column { return scalar }
            if scalar == "\n" {
                if line == mark.line { return nil }
                line += 1
                column = 1
            } else {
                column += 1
            }
        }
        return nil
    }

    /// Line and column (from 1) of a byte offset, for libyaml reader errors that report only an offset.
    private static func position(ofUTF8Offset offset: Int, in text: String) -> (line: Int, column: Int) {
        var line = 1
        var column = 1
        var consumed = 0
        for scalar in text.unicodeScalars {
            if consumed >= offset { break }
            consumed += String(scalar).utf8.count
            if scalar == "\n" {
                line += 1
                column = 1
            } else {
                column += 1
            }
        }
        return (line, column)
    }
}

/// Wraps one issue for typed throws inside the parser; not an API.
struct ConfigIssueThrow: Error {
    let issue: ConfigIssue
}

// MARK: - From JSON values, environment variables and flags

extension ConfigNode {
    /// A tree for `value`, every node at `source`. Object keys are visited sorted, so issues come out in a stable
    /// order (a repeated key keeps its last value); a dotted key (`"kl_explosion.sigma_multiplier": 4`) stands for
    /// the nested path.
    init(_ value: JSONValue, source: ConfigSource) {
        switch value {
        case .null: self.init(value: .null, source: source)
        case .bool(let bool): self.init(value: .bool(bool), source: source)
        case .int(let int): self.init(value: .int(int), source: source)
        case .double(let double): self.init(value: .double(double), source: source)
        case .string(let string): self.init(value: .string(string), source: source)
        case .array(let items):
            self.init(value: .sequence(items.map { ConfigNode($0, source: source) }), source: source)
        case .object:
            let entries = (value.members ?? [:]).sorted { $0.key < $1.key }.map { key, member -> Entry in
                let child = ConfigNode(member, source: source)
                return ConfigNode.nestedEntry(
                    path: key.split(separator: ".", omittingEmptySubsequences: false), value: child, source: source)
            }
            self.init(value: .mapping(entries), source: source)
        }
    }

    private static func nestedEntry(path: [Substring], value: ConfigNode, source: ConfigSource) -> Entry {
        guard path.count > 1 else {
            return Entry(key: String(path.first ?? ""), keySource: source, value: value)
        }
        let inner = nestedEntry(path: Array(path.dropFirst()), value: value, source: source)
        return Entry(
            key: String(path[0]), keySource: source, value: ConfigNode(value: .mapping([inner]), source: source))
    }
}
