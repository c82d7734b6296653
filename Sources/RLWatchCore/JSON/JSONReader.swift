/// The one JSON reader of rlwatch: metrics lines and batches of steps, `trainer_state.json`, the store's JSON
/// columns and the webhook body check all read through it, so they agree on what JSON is and on where an
/// error is (``JSONError``: line, column, key).
///
/// It reads the bytes of one buffer in place and builds nothing unless asked: ``parse(_:mode:)-(String,_)``
/// makes a ``JSONValue`` of a document; the metrics-line parser (RLWatchIngest) drives the same scanner
/// member by member, matching keys by their bytes and keeping only the numbers it wants. Numbers are
/// checked against JSON's grammar here and converted by the standard library (`Double(String)`, correctly
/// rounded).
public struct JSONReader {
    /// What the reader accepts beyond RFC 8259.
    public enum Mode: Sendable, Hashable {
        /// Exactly RFC 8259: what a strict consumer (a webhook endpoint) must be sent.
        case strict
        /// RFC 8259 plus the bare tokens `NaN`, `Infinity` and `-Infinity` that Python's `json.dumps` writes
        /// for a non-finite float (a NaN loss): what trainers and rlwatch 0.5.1 wrote.
        case pythonLenient
    }

    /// How deep arrays and objects may nest by default; deeper input is rejected rather than risking the stack.
    public static let maximumDepth = 64

    package let bytes: UnsafePointer<UInt8>
    package let count: Int
    package let mode: Mode
    package var position = 0
    package var maximumDepth = JSONReader.maximumDepth
    /// Whether the input is a whole document rather than one line: errors say "the end of the input".
    package var isDocument = false

    /// A reader of `count` bytes at `bytes`, which must outlive it.
    package init(bytes: UnsafePointer<UInt8>, count: Int, mode: Mode) {
        self.bytes = bytes
        self.count = count
        self.mode = mode
    }

    /// The 1-based column of the current position (a byte offset; ``JSONError`` turns it into a line and
    /// column for a document).
    package var column: Int { position &+ 1 }

    /// The current byte, or 0 at the end of the input (a NUL is never valid where 0 is tested).
    @inline(__always)
    package var current: UInt8 { position < count ? bytes[position] : 0 }

    @inline(__always)
    package func byte(at offset: Int) -> UInt8 { offset < count ? bytes[offset] : 0 }

    @inline(__always)
    package mutating func skipWhitespace() {
        while position < count {
            switch bytes[position] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): position &+= 1
            default: return
            }
        }
    }

    // MARK: - Scalars

    /// A scalar value, or the start of a container (left unconsumed).
    package enum Scalar {
        case number(Double)
        case null
        /// A string; `nonFinite` is its value when it spells NaN or ±infinity as Python's `float()` reads it.
        case string(nonFinite: Double?)
        case boolean
        case objectStart
        case arrayStart

        /// How an error message names the value's type.
        package var typeDescription: String {
            switch self {
            case .number: "a number"
            case .null: "null"
            case .string: "a string"
            case .boolean: "a boolean"
            case .objectStart: "an object"
            case .arrayStart: "an array"
            }
        }
    }

    /// Scans a scalar value; for `{` or `[` it returns without consuming anything.
    ///
    /// - Parameter key: The key whose value this is, for an invalid number's error.
    @inline(__always)
    package mutating func scanScalar(key: () -> String?) throws(JSONError) -> Scalar {
        switch current {
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .number(try double(try lexNumber(key: key), key: key))
        case UInt8(ascii: "-"):
            if mode == .pythonLenient, byte(at: position &+ 1) == UInt8(ascii: "I") {
                try expectLiteral("-Infinity")
                return .number(-.infinity)
            }
            return .number(try double(try lexNumber(key: key), key: key))
        case UInt8(ascii: "\""):
            let string = try scanString()
            if string.hasEscapes {
                let decoded = try decode(string)
                return .string(nonFinite: decoded.withUnsafeBytes { Self.nonFiniteValue($0) })
            }
            let raw = UnsafeRawBufferPointer(start: bytes + string.start, count: string.end &- string.start)
            return .string(nonFinite: Self.nonFiniteValue(raw))
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            return .null
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            return .boolean
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            return .boolean
        case UInt8(ascii: "N") where mode == .pythonLenient:
            try expectLiteral("NaN")
            return .number(.nan)
        case UInt8(ascii: "I") where mode == .pythonLenient:
            try expectLiteral("Infinity")
            return .number(.infinity)
        case UInt8(ascii: "{"):
            return .objectStart
        case UInt8(ascii: "["):
            return .arrayStart
        default:
            throw syntaxError("expected a value, found \(describeCurrent())")
        }
    }

    /// Skips any value, checking that it is well formed.
    package mutating func skipValue(depth: Int) throws(JSONError) {
        switch try scanScalar(key: { nil }) {
        case .objectStart, .arrayStart: try skipContainer(depth: depth)
        case .number, .null, .string, .boolean: break
        }
    }

    /// Skips an object or an array; the current byte is its `{` or `[`.
    package mutating func skipContainer(depth: Int) throws(JSONError) {
        try checkDepth(depth)
        let isObject = current == UInt8(ascii: "{")
        let close = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
        position &+= 1
        skipWhitespace()
        if current == close {
            position &+= 1
            return
        }
        while true {
            if isObject {
                guard current == UInt8(ascii: "\"") else {
                    throw syntaxError("expected a key string, found \(describeCurrent())")
                }
                _ = try scanString()
                try expectColon(after: nil)
            }
            try skipValue(depth: depth &+ 1)
            if try expectSeparator(close: close, in: nil) { return }
        }
    }

    package func checkDepth(_ depth: Int) throws(JSONError) {
        guard depth <= maximumDepth else {
            throw JSONError(
                kind: .nestingTooDeep, column: column,
                message: "arrays and objects nest deeper than \(maximumDepth) levels")
        }
    }

    /// Skips the `:` after a key and the whitespace around it.
    package mutating func expectColon(after key: String?) throws(JSONError) {
        skipWhitespace()
        guard current == UInt8(ascii: ":") else {
            let what = key.map { "the key \(quotedKey($0))" } ?? "a key"
            throw syntaxError("expected ':' after \(what), found \(describeCurrent())")
        }
        position &+= 1
        skipWhitespace()
    }

    /// After a member or element: skips a `,` (and the whitespace after it), or the closing `close`.
    ///
    /// - Parameter key: The member's key, named in the error.
    /// - Returns: Whether the container is closed.
    package mutating func expectSeparator(close: UInt8, in key: String?) throws(JSONError) -> Bool {
        skipWhitespace()
        switch current {
        case UInt8(ascii: ","):
            position &+= 1
            skipWhitespace()
            return false
        case close:
            position &+= 1
            return true
        default:
            let after = key.map { " after the value of \(quotedKey($0))" } ?? ""
            throw syntaxError(
                "expected ',' or '\(Character(Unicode.Scalar(close)))'\(after), found \(describeCurrent())")
        }
    }

    @inline(__always)
    package mutating func expectLiteral(_ literal: StaticString) throws(JSONError) {
        let length = literal.utf8CodeUnitCount
        let start = literal.utf8Start
        var offset = 0
        while offset < length {
            guard byte(at: position &+ offset) == start[offset] else {
                throw syntaxError("expected a value, found \(describeCurrent())")
            }
            offset &+= 1
        }
        position &+= length
    }

    /// The value of a string that spells a non-finite number as Python's `float()` does (`nan`, `inf`,
    /// `infinity`, any case, optionally signed), or `nil`.
    package static func nonFiniteValue(_ text: UnsafeRawBufferPointer) -> Double? {
        var offset = 0
        var negative = false
        if let first = text.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
            negative = first == UInt8(ascii: "-")
            offset = 1
        }
        let length = text.count &- offset
        guard length == 3 || length == 8 else { return nil }
        func lowercased(_ index: Int) -> UInt8 { text[offset &+ index] | 0x20 }
        if length == 3, lowercased(0) == UInt8(ascii: "n"), lowercased(1) == UInt8(ascii: "a"),
            lowercased(2) == UInt8(ascii: "n")
        {
            return .nan
        }
        let infinity: StaticString = "infinity"
        for index in 0..<length where lowercased(index) != infinity.utf8Start[index] {
            return nil
        }
        return negative ? -.infinity : .infinity
    }

    // MARK: - Numbers

    /// Where a number is in the input, checked against JSON's grammar.
    package struct LexedNumber {
        /// Neither a fraction nor an exponent was written.
        package var isIntegerLiteral: Bool
        package var start: Int
        package var end: Int
    }

    /// Reads a number per JSON's grammar: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
    @inline(__always)
    package mutating func lexNumber(key: () -> String?) throws(JSONError) -> LexedNumber {
        let start = position
        var isIntegerLiteral = true
        if current == UInt8(ascii: "-") { position &+= 1 }
        guard current &- UInt8(ascii: "0") <= 9 else { throw invalidNumber(start: start, key: key()) }
        if current == UInt8(ascii: "0") {
            position &+= 1
            if current &- UInt8(ascii: "0") <= 9 { throw invalidNumber(start: start, key: key()) }
        } else {
            skipDigits()
        }
        if current == UInt8(ascii: ".") {
            isIntegerLiteral = false
            position &+= 1
            guard skipDigits() else { throw invalidNumber(start: start, key: key()) }
        }
        if current | 0x20 == UInt8(ascii: "e") {
            isIntegerLiteral = false
            position &+= 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { position &+= 1 }
            guard skipDigits() else { throw invalidNumber(start: start, key: key()) }
        }
        return LexedNumber(isIntegerLiteral: isIntegerLiteral, start: start, end: position)
    }

    /// Skips ASCII digits; whether there was at least one.
    @inline(__always)
    @discardableResult
    private mutating func skipDigits() -> Bool {
        let first = position
        while position < count, bytes[position] &- UInt8(ascii: "0") <= 9 { position &+= 1 }
        return position > first
    }

    /// A lexed number as written.
    @inline(__always)
    package func text(of number: LexedNumber) -> String {
        String(
            decoding: UnsafeBufferPointer(start: bytes + number.start, count: number.end &- number.start),
            as: UTF8.self)
    }

    /// A lexed number's value, correctly rounded (out-of-range magnitudes become ±infinity or ±0).
    @inline(__always)
    package func double(_ number: LexedNumber, key: () -> String?) throws(JSONError) -> Double {
        guard let value = Double(text(of: number)) else { throw invalidNumber(start: number.start, key: key()) }
        return value
    }

    package func invalidNumber(start: Int, key: String?) -> JSONError {
        var end = position
        while end < count, end < start &+ 40 {
            switch bytes[end] {
            case UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), UInt8(ascii: " "), UInt8(ascii: "\t"),
                UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                break
            default:
                end &+= 1
                continue
            }
            break
        }
        let text = String(decoding: UnsafeBufferPointer(start: bytes + start, count: end &- start), as: UTF8.self)
        let target = key.map { " for \(quotedKey($0))" } ?? ""
        return JSONError(
            kind: .invalidNumber, column: start &+ 1, key: key, message: "invalid number\(target): \(text)")
    }

    // MARK: - Errors

    package func syntaxError(_ message: String) -> JSONError {
        if position >= count {
            return JSONError(
                kind: .syntax, column: column, message: isDocument ? "unexpected end of input" : "unexpected end of line")
        }
        return JSONError(kind: .syntax, column: column, message: message)
    }

    package func describeCurrent() -> String {
        guard position < count else { return isDocument ? "the end of the input" : "the end of the line" }
        let byte = bytes[position]
        if byte >= 0x21, byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "byte 0x\(hexDigits(UInt32(byte)))"
    }
}

/// A key as error messages show it.
package func quotedKey(_ key: String) -> String { "\"\(key)\"" }

/// At least four upper-case hex digits, as in `U+0009`.
package func hexDigits(_ value: UInt32) -> String {
    let digits = String(value, radix: 16, uppercase: true)
    return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
}
