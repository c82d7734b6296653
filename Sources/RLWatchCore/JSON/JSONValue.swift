/// The one JSON value of rlwatch, with ordered object keys: what ``JSONReader`` builds (API bodies, stored
/// configs, `trainer_state.json`), what config overrides are made of, and what rlwatch writes (JSONL alerts,
/// diagnose reports, API answers). Integers and floats stay distinct, so that an integer key given `8080.0` is
/// an error, as in YAML.
///
/// Writing is strict JSON: non-finite numbers become the strings `"NaN"`, `"Infinity"`, `"-Infinity"`
/// (Python's `json.dumps` writes bare tokens that strict parsers reject).
public indirect enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case (.bool(let a), .bool(let b)): a == b
        case (.int(let a), .int(let b)): a == b
        case (.double(let a), .double(let b)): a == b || (a.isNaN && b.isNaN)
        case (.string(let a), .string(let b)): a == b
        case (.array(let a), .array(let b)): a == b
        case (.object(let a), .object(let b)): a.elementsEqual(b) { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(serialized())
    }

    /// A number, or null for nil.
    public static func number(_ value: Double?) -> JSONValue { value.map(JSONValue.double) ?? .null }

    /// Compact JSON text on one line.
    public func serialized() -> String {
        var out = ""
        write(to: &out, indent: nil, level: 0)
        return out
    }

    /// JSON text indented by `indent` spaces per level.
    public func prettyPrinted(indent: Int = 2) -> String {
        var out = ""
        write(to: &out, indent: indent, level: 0)
        return out
    }

    private func write(to out: inout String, indent: Int?, level: Int) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d): JSONValue.writeNumber(d, to: &out)
        case .string(let s): JSONValue.writeString(s, to: &out)
        case .array(let items):
            if items.isEmpty { out += "[]"; return }
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += indent == nil ? "," : "," }
                newline(&out, indent, level + 1)
                item.write(to: &out, indent: indent, level: level + 1)
            }
            newline(&out, indent, level)
            out += "]"
        case .object(let members):
            if members.isEmpty { out += "{}"; return }
            out += "{"
            for (i, (key, value)) in members.enumerated() {
                if i > 0 { out += "," }
                newline(&out, indent, level + 1)
                JSONValue.writeString(key, to: &out)
                out += indent == nil ? ":" : ": "
                value.write(to: &out, indent: indent, level: level + 1)
            }
            newline(&out, indent, level)
            out += "}"
        }
    }

    private func newline(_ out: inout String, _ indent: Int?, _ level: Int) {
        guard let indent else { return }
        out += "\n" + String(repeating: " ", count: indent * level)
    }

    /// Appends `s` as a JSON string literal with the required escapes.
    /// A double as a JSON number in Swift's shortest round-trip form, which always has a fraction or an exponent
    /// (`1.0`, `-0.0`, `1e-05`) so that a reader can tell it from an int; non-finite as the string `"NaN"`,
    /// `"Infinity"` or `"-Infinity"`.
    public static func writeNumber(_ d: Double, to out: inout String) {
        if d.isFinite {
            out += d.description
        } else {
            out += "\"" + formatNumber(d) + "\""
        }
    }

    public static func writeString(_ s: String, to out: inout String) {
        out += "\""
        // Fast path: most keys and messages need no escaping at all.
        if !s.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C || $0 == 0x7F || $0 == 0xE2 }) {
            out += s
            out += "\""
            return
        }
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                // Control characters, DEL and the JavaScript line separators U+2028/U+2029 are escaped too.
                if scalar.value < 0x20 || scalar.value == 0x7F || (0x2028...0x2029).contains(scalar.value) {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}

extension MetricValue {
    public var json: JSONValue {
        switch self {
        case .double(let d): .double(d)
        case .int(let i): .int(i)
        case .string(let s): .string(s)
        case .null: .null
        }
    }
}

extension MetricValues {
    public var json: JSONValue { .object(entries.map { ($0.key, $0.value.json) }) }
}

extension Alert {
    /// The alert as `rlwatch replay --format jsonl` prints it:
    /// `{"step","detector","severity","message","metric_values","recommendation"}`.
    public var json: JSONValue {
        .object([
            ("step", .int(step)),
            ("detector", .string(detector.rawValue)),
            ("severity", .string(severity.rawValue)),
            ("message", .string(message)),
            ("metric_values", metricValues.json),
            ("recommendation", .string(recommendation)),
        ])
    }
}

/// Literals, so that payloads and overrides read like the JSON they stand for.
extension JSONValue: ExpressibleByStringLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    /// Members in the order written.
    public init(dictionaryLiteral elements: (String, JSONValue)...) { self = .object(elements) }
}
