import RLWatchCore

/// The small JSON dialect of the SQLite store's text columns (`extra_json`, `metric_values_json`, `config_json`).
///
/// Hand-written rather than `JSONSerialization`/`Codable` for three reasons: object key order must
/// survive (an alert's `metric_values` is ordered), non-finite doubles must survive (written as the
/// strings `"NaN"`, `"Infinity"`, `"-Infinity"`; rlwatch 0.5.1 wrote Python's bare `NaN`/`Infinity`
/// tokens, which the reader accepts too), and `extra_json` is on the append hot path.
enum SQLiteJSON {
    /// A parsed JSON value. Numbers keep their lexeme so that ints, doubles and re-serialisation stay exact.
    indirect enum Value: Equatable {
        case null
        case bool(Bool)
        /// The number as written, possibly one of 0.5.1's bare `NaN`, `Infinity`, `-Infinity` tokens.
        case number(String)
        case string(String)
        case array([Value])
        case object([Member])
    }

    struct Member: Equatable {
        var key: String
        var value: Value
    }

    // MARK: Writing

    /// `extras` as a JSON object with sorted keys, or nil when there are none.
    static func encodeExtras(_ extras: [String: Double]) -> String? {
        if extras.isEmpty { return nil }
        var out = "{"
        out.reserveCapacity(extras.count * 40)
        var first = true
        // One sort of the pairs: no second hash lookup per key.
        for (key, value) in extras.sorted(by: { $0.key < $1.key }) {
            if !first { out.append(",") }
            first = false
            appendString(key, to: &out)
            out.append(":")
            appendDouble(value, to: &out)
        }
        out.append("}")
        return out
    }

    /// An alert's metric values as a JSON object in their order.
    static func encodeMetricValues(_ values: MetricValues) -> String {
        var out = "{"
        var first = true
        for (key, value) in values {
            if !first { out.append(",") }
            first = false
            appendString(key, to: &out)
            out.append(":")
            switch value {
            case .double(let d): appendDouble(d, to: &out)
            case .int(let i): out.append(String(i))
            case .string(let s): appendString(s, to: &out)
            case .null: out.append("null")
            }
        }
        out.append("}")
        return out
    }

    /// A double as a JSON number, or as the string `"NaN"`/`"Infinity"`/`"-Infinity"` when not finite.
    ///
    /// Swift's shortest round-trip form always has a fraction or an exponent (`1.0`, `1e-05`), so a
    /// reader can tell it from an int.
    static func appendDouble(_ value: Double, to out: inout String) {
        if value.isFinite {
            out.append(value.description)
        } else {
            out.append("\"")
            out.append(formatNumber(value))
            out.append("\"")
        }
    }

    static func appendString(_ string: String, to out: inout String) {
        JSONValue.writeString(string, to: &out)
    }

    static func serialize(_ value: Value) -> String {
        var out = ""
        serialize(value, to: &out)
        return out
    }

    private static func serialize(_ value: Value, to out: inout String) {
        switch value {
        case .null: out.append("null")
        case .bool(let b): out.append(b ? "true" : "false")
        case .number(let lexeme):
            if let d = Double(lexeme), !d.isFinite { appendDouble(d, to: &out) } else { out.append(lexeme) }
        case .string(let s): appendString(s, to: &out)
        case .array(let items):
            out.append("[")
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(",") }
                serialize(item, to: &out)
            }
            out.append("]")
        case .object(let members):
            out.append("{")
            for (index, member) in members.enumerated() {
                if index > 0 { out.append(",") }
                appendString(member.key, to: &out)
                out.append(":")
                serialize(member.value, to: &out)
            }
            out.append("}")
        }
    }

    // MARK: Reading

    /// The numeric members of a stored `extra_json` object; other members are skipped.
    static func decodeExtras(_ text: String) throws(ParseError) -> [String: Double] {
        let value = try parse(text)
        if value == .null { return [:] }
        guard case .object(let members) = value else { throw ParseError(message: "not an object") }
        var extras: [String: Double] = [:]
        extras.reserveCapacity(members.count)
        for member in members {
            if let number = double(member.value) { extras[member.key] = number }
        }
        return extras
    }

    /// A stored `metric_values_json` object, in its order.
    static func decodeMetricValues(_ text: String) throws(ParseError) -> MetricValues {
        let value = try parse(text)
        if value == .null { return MetricValues() }
        guard case .object(let members) = value else { throw ParseError(message: "not an object") }
        var entries: [(key: String, value: MetricValue)] = []
        entries.reserveCapacity(members.count)
        for member in members {
            entries.append((key: member.key, value: metricValue(member.value)))
        }
        return MetricValues(entries)
    }

    /// A number, or one of the strings that stand for a non-finite double.
    static func double(_ value: Value) -> Double? {
        switch value {
        case .number(let lexeme): Double(lexeme)
        case .string(let s): nonFinite(s)
        case .null, .bool, .array, .object: nil
        }
    }

    private static func metricValue(_ value: Value) -> MetricValue {
        switch value {
        case .null: return .null
        case .bool(let b): return .int(b ? 1 : 0)
        case .number(let lexeme):
            let isInteger = !lexeme.utf8.contains { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }
            if isInteger, let int = Int(lexeme) { return .int(int) }
            return Double(lexeme).map(MetricValue.double) ?? .string(lexeme)
        case .string(let s):
            if let d = nonFinite(s) { return .double(d) }
            return .string(s)
        case .array, .object:
            return .string(serialize(value))
        }
    }

    private static func nonFinite(_ string: String) -> Double? {
        switch string {
        case "NaN": .nan
        case "Infinity": .infinity
        case "-Infinity": -.infinity
        default: nil
        }
    }

    struct ParseError: Error, CustomStringConvertible {
        var message: String
        var description: String { "invalid JSON: \(message)" }
    }

    /// Parses one JSON value; accepts Python's bare `NaN`, `Infinity` and `-Infinity` tokens.
    static func parse(_ text: String) throws(ParseError) -> Value {
        var parser = Parser(bytes: Array(text.utf8))
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        guard parser.index == parser.bytes.count else { throw parser.error("trailing characters") }
        return value
    }

    private struct Parser {
        let bytes: [UInt8]
        var index = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        func error(_ message: String) -> ParseError { ParseError(message: "\(message) at offset \(index)") }

        mutating func skipWhitespace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        mutating func consume(_ literal: StaticString) -> Bool {
            let count = literal.utf8CodeUnitCount
            guard index + count <= bytes.count else { return false }
            let matches = literal.withUTF8Buffer { buffer in
                buffer.elementsEqual(bytes[index..<index + count])
            }
            if matches { index += count }
            return matches
        }

        mutating func parseValue(depth: Int) throws(ParseError) -> Value {
            guard depth < 64 else { throw error("nesting too deep") }
            guard index < bytes.count else { throw error("unexpected end") }
            switch bytes[index] {
            case UInt8(ascii: "{"): return try parseObject(depth: depth)
            case UInt8(ascii: "["): return try parseArray(depth: depth)
            case UInt8(ascii: "\""): return .string(try parseString())
            case UInt8(ascii: "t"): if consume("true") { return .bool(true) }
            case UInt8(ascii: "f"): if consume("false") { return .bool(false) }
            case UInt8(ascii: "n"): if consume("null") { return .null }
            case UInt8(ascii: "N"): if consume("NaN") { return .number("NaN") }
            case UInt8(ascii: "I"): if consume("Infinity") { return .number("Infinity") }
            case UInt8(ascii: "-"):
                if consume("-Infinity") { return .number("-Infinity") }
                return try parseNumber()
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
            default: break
            }
            throw error("unexpected character")
        }

        mutating func parseObject(depth: Int) throws(ParseError) -> Value {
            index += 1
            var members: [Member] = []
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(members)
            }
            while true {
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw error("expected a key") }
                let key = try parseString()
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw error("expected ':'") }
                index += 1
                skipWhitespace()
                members.append(Member(key: key, value: try parseValue(depth: depth + 1)))
                skipWhitespace()
                guard index < bytes.count else { throw error("unterminated object") }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                } else if bytes[index] == UInt8(ascii: "}") {
                    index += 1
                    return .object(members)
                } else {
                    throw error("expected ',' or '}'")
                }
            }
        }

        mutating func parseArray(depth: Int) throws(ParseError) -> Value {
            index += 1
            var items: [Value] = []
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(items)
            }
            while true {
                skipWhitespace()
                items.append(try parseValue(depth: depth + 1))
                skipWhitespace()
                guard index < bytes.count else { throw error("unterminated array") }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                } else if bytes[index] == UInt8(ascii: "]") {
                    index += 1
                    return .array(items)
                } else {
                    throw error("expected ',' or ']'")
                }
            }
        }

        mutating func parseNumber() throws(ParseError) -> Value {
            let start = index
            if bytes[index] == UInt8(ascii: "-") { index += 1 }
            var sawDigit = false
            while index < bytes.count {
                let byte = bytes[index]
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): sawDigit = true
                case UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "+"), UInt8(ascii: "-"): break
                default:
                    guard sawDigit else { throw error("invalid number") }
                    return .number(String(decoding: bytes[start..<index], as: UTF8.self))
                }
                index += 1
            }
            guard sawDigit else { throw error("invalid number") }
            return .number(String(decoding: bytes[start..<index], as: UTF8.self))
        }

        mutating func parseString() throws(ParseError) -> String {
            index += 1
            let start = index
            // Fast path: no escapes.
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    defer { index += 1 }
                    return String(decoding: bytes[start..<index], as: UTF8.self)
                }
                if byte == UInt8(ascii: "\\") { break }
                index += 1
            }
            var scalars = Array(bytes[start..<index])
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                switch byte {
                case UInt8(ascii: "\""):
                    return String(decoding: scalars, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard index < bytes.count else { throw error("unterminated escape") }
                    let escape = bytes[index]
                    index += 1
                    switch escape {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scalars.append(escape)
                    case UInt8(ascii: "n"): scalars.append(0x0A)
                    case UInt8(ascii: "r"): scalars.append(0x0D)
                    case UInt8(ascii: "t"): scalars.append(0x09)
                    case UInt8(ascii: "b"): scalars.append(0x08)
                    case UInt8(ascii: "f"): scalars.append(0x0C)
                    case UInt8(ascii: "u"):
                        var code = try parseHex4()
                        if (0xD800..<0xDC00).contains(code), consume("\\u") {
                            let low = try parseHex4()
                            if (0xDC00..<0xE000).contains(low) {
                                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                            }
                        }
                        let scalar = Unicode.Scalar(code) ?? "\u{FFFD}"
                        scalars.append(contentsOf: String(Character(scalar)).utf8)
                    default: throw error("invalid escape")
                    }
                default:
                    scalars.append(byte)
                }
            }
            throw error("unterminated string")
        }

        mutating func parseHex4() throws(ParseError) -> UInt32 {
            guard index + 4 <= bytes.count else { throw error("truncated \\u escape") }
            var code: UInt32 = 0
            for _ in 0..<4 {
                let byte = bytes[index]
                let digit: UInt32
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
                default: throw error("invalid \\u escape")
                }
                code = code << 4 | digit
                index += 1
            }
            return code
        }
    }
}
