/// Where the scanner delivers what it finds in a line.
protocol MetricsLineSink {
    mutating func metric(_ binding: FrameworkKeyMap.Binding, key: @autoclosure () -> String, value: Double)
    /// A value for an unmapped key; `entry` is the key's table entry, `nil` for a key the table did not learn.
    mutating func extra(entry: Int?, key: @autoclosure () -> String, value: Double)
    mutating func rewards(_ values: [Double])
}

/// A scalar JSON value, or the start of a container (left unconsumed).
enum ScannedScalar {
    case number(Double)
    case null
    /// A string; `nonFinite` is its value when it spells NaN or ±infinity.
    case string(nonFinite: Double?)
    case boolean
    case objectStart
    case arrayStart

    /// How an error message names the value's type.
    var typeDescription: String {
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

/// A strict, allocation-light JSON scanner over the bytes of one metrics line.
///
/// It accepts exactly JSON plus the bare tokens `NaN`, `Infinity` and `-Infinity` that Python's
/// `json.dumps` writes, and it builds nothing but what the sink keeps: keys are matched by their bytes,
/// numbers are converted in place, ignored values are validated and skipped.
struct LineScanner {
    /// How deep ignored arrays and objects may nest; deeper input is rejected rather than risking the stack.
    static let maximumDepth = 64

    private let bytes: UnsafePointer<UInt8>
    private let count: Int
    private var position = 0

    init(bytes: UnsafePointer<UInt8>, count: Int) {
        self.bytes = bytes
        self.count = count
    }

    /// The 1-based column of the current position.
    private var column: Int { position &+ 1 }

    /// The current byte, or 0 at the end of the line (a NUL in the line is never valid where 0 is tested).
    @inline(__always)
    private var current: UInt8 { position < count ? bytes[position] : 0 }

    @inline(__always)
    private func byte(at offset: Int) -> UInt8 { offset < count ? bytes[offset] : 0 }

    @inline(__always)
    private mutating func skipWhitespace() {
        while position < count {
            switch bytes[position] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): position &+= 1
            default: return
            }
        }
    }

    // MARK: - The line

    /// Scans the whole line, delivering its metrics to `sink`.
    ///
    /// - Returns: The step number.
    mutating func scanLine<Sink: MetricsLineSink>(
        keys: inout KeyTable, into sink: inout Sink
    ) throws(MetricsLineError) -> Int {
        skipWhitespace()
        guard current == UInt8(ascii: "{") else {
            if position >= count { throw MetricsLineError(kind: .syntax, column: column, message: "empty line") }
            throw syntaxError("expected a JSON object, found \(describeCurrent())")
        }
        var step: Int?
        try scanMembers(nested: false, keys: &keys, into: &sink, step: &step)
        skipWhitespace()
        guard position >= count else {
            throw MetricsLineError(
                kind: .trailingCharacters, column: column, message: "trailing characters after JSON object")
        }
        guard let step else {
            throw MetricsLineError(kind: .missingStep, column: 1, key: "step", message: "missing \"step\"")
        }
        return step
    }

    /// Scans an object's members; the current byte is its `{`.
    private mutating func scanMembers<Sink: MetricsLineSink>(
        nested: Bool, keys: inout KeyTable, into sink: inout Sink, step: inout Int?
    ) throws(MetricsLineError) {
        position &+= 1
        skipWhitespace()
        if current == UInt8(ascii: "}") {
            position &+= 1
            return
        }
        while true {
            guard current == UInt8(ascii: "\"") else {
                throw syntaxError("expected a key string, found \(describeCurrent())")
            }
            let match = try scanKey(keys: &keys)
            let role: KeyTable.Role
            let entry: Int?
            switch match {
            case .entry(let index):
                role = keys.role(of: index)
                entry = index
            case .unlisted:
                role = .extra
                entry = nil
            }
            func name() -> String {
                switch match {
                case .entry(let entry): keys.name(of: entry)
                case .unlisted(let name): name
                }
            }
            skipWhitespace()
            guard current == UInt8(ascii: ":") else {
                throw syntaxError("expected ':' after the key \(quoted(name())), found \(describeCurrent())")
            }
            position &+= 1
            skipWhitespace()

            switch role {
            case .metric(let binding):
                let valueColumn = column
                switch try scanScalar(key: { name() }) {
                case .number(let value):
                    sink.metric(binding, key: name(), value: value)
                case .string(nonFinite: let value?):
                    sink.metric(binding, key: name(), value: value)
                case .null:
                    break
                case let other:
                    throw typeMismatch(key: name(), expected: "a number", got: other, column: valueColumn)
                }
            case .extra:
                try scanExtra(entry: entry, key: name(), into: &sink)
            case .step where !nested:
                step = try scanStep()
            case .step:
                // A "step" inside "metrics" or "data" is not the step; the top-level one is.
                try skipValue(depth: 1)
            case .container where !nested && current == UInt8(ascii: "{"):
                try scanMembers(nested: true, keys: &keys, into: &sink, step: &step)
            case .container:
                try scanExtra(entry: entry, key: name(), into: &sink)
            case .rewards:
                if current == UInt8(ascii: "[") {
                    sink.rewards(try scanRewards())
                } else {
                    let valueColumn = column
                    let scalar = try scanScalar(key: { "rewards" })
                    if case .null = scalar { break }
                    throw typeMismatch(key: "rewards", expected: "an array of numbers", got: scalar, column: valueColumn)
                }
            }

            skipWhitespace()
            switch current {
            case UInt8(ascii: ","):
                position &+= 1
                skipWhitespace()
            case UInt8(ascii: "}"):
                position &+= 1
                return
            default:
                throw syntaxError("expected ',' or '}' after the value of \(quoted(name())), found \(describeCurrent())")
            }
        }
    }

    /// An unmapped key's value: numbers (and non-finite strings) are kept, anything else is skipped.
    @inline(__always)
    private mutating func scanExtra<Sink: MetricsLineSink>(
        entry: Int?, key: @autoclosure () -> String, into sink: inout Sink
    ) throws(MetricsLineError) {
        switch try scanScalar(key: { key() }) {
        case .number(let value), .string(nonFinite: let value?):
            sink.extra(entry: entry, key: key(), value: value)
        case .objectStart, .arrayStart:
            try skipContainer(depth: 1)
        case .null, .boolean, .string:
            break
        }
    }

    private mutating func scanStep() throws(MetricsLineError) -> Int {
        let valueColumn = column
        let first = current
        guard first == UInt8(ascii: "-") || (first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9")),
            byte(at: position &+ 1) != UInt8(ascii: "I")
        else {
            let scalar = try scanScalar(key: { "step" })
            let got: String
            if case .number(let value) = scalar {
                got = value.isNaN ? "NaN" : value < 0 ? "-Infinity" : "Infinity"
            } else {
                got = scalar.typeDescription
            }
            throw MetricsLineError(
                kind: .invalidStep, column: valueColumn, key: "step", message: "\"step\" must be an integer, got \(got)")
        }
        let number = try lexNumber(key: { "step" })
        if number.isIntegerLiteral, !number.truncated, number.exponent == 0 {
            let magnitude = number.significand
            if number.negative, magnitude <= UInt64(Int.max) &+ 1 {
                return Int(truncatingIfNeeded: 0 &- magnitude)
            }
            if !number.negative, magnitude <= UInt64(Int.max) {
                return Int(magnitude)
            }
        } else {
            let value = try convert(number, key: { "step" })
            if value.isFinite, value == value.rounded(.towardZero), value >= -0x1p63, value < 0x1p63 {
                return Int(value)
            }
        }
        let text = String(decoding: UnsafeBufferPointer(start: bytes + number.start, count: number.end &- number.start), as: UTF8.self)
        throw MetricsLineError(
            kind: .invalidStep, column: valueColumn, key: "step",
            message: "\"step\" must be an integer, got \(text)")
    }

    /// A `rewards` array; the current byte is its `[`.
    private mutating func scanRewards() throws(MetricsLineError) -> [Double] {
        position &+= 1
        var values: [Double] = []
        skipWhitespace()
        if current == UInt8(ascii: "]") {
            position &+= 1
            return values
        }
        values.reserveCapacity(64)
        while true {
            let valueColumn = column
            switch try scanScalar(key: { "rewards" }) {
            case .number(let value), .string(nonFinite: let value?):
                values.append(value)
            case let other:
                throw typeMismatch(
                    key: "rewards", expected: "a number at \"rewards\"[\(values.count)]", got: other,
                    column: valueColumn, named: false)
            }
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","):
                position &+= 1
                skipWhitespace()
            case UInt8(ascii: "]"):
                position &+= 1
                return values
            default:
                throw syntaxError("expected ',' or ']' in \"rewards\", found \(describeCurrent())")
            }
        }
    }

    // MARK: - Values

    /// Scans a scalar value; for `{` or `[` it returns without consuming anything.
    @inline(__always)
    private mutating func scanScalar(key: () -> String?) throws(MetricsLineError) -> ScannedScalar {
        switch current {
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .number(try convert(try lexNumber(key: key), key: key))
        case UInt8(ascii: "-"):
            if byte(at: position &+ 1) == UInt8(ascii: "I") {
                try expectLiteral("-Infinity")
                return .number(-.infinity)
            }
            return .number(try convert(try lexNumber(key: key), key: key))
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
        case UInt8(ascii: "N"):
            try expectLiteral("NaN")
            return .number(.nan)
        case UInt8(ascii: "I"):
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
    private mutating func skipValue(depth: Int) throws(MetricsLineError) {
        switch try scanScalar(key: { nil }) {
        case .objectStart, .arrayStart: try skipContainer(depth: depth)
        case .number, .null, .string, .boolean: break
        }
    }

    /// Skips an object or an array; the current byte is its `{` or `[`.
    private mutating func skipContainer(depth: Int) throws(MetricsLineError) {
        guard depth <= Self.maximumDepth else {
            throw MetricsLineError(
                kind: .nestingTooDeep, column: column,
                message: "arrays and objects nest deeper than \(Self.maximumDepth) levels")
        }
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
                skipWhitespace()
                guard current == UInt8(ascii: ":") else {
                    throw syntaxError("expected ':' after a key, found \(describeCurrent())")
                }
                position &+= 1
                skipWhitespace()
            }
            try skipValue(depth: depth &+ 1)
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","):
                position &+= 1
                skipWhitespace()
            case close:
                position &+= 1
                return
            default:
                throw syntaxError("expected ',' or '\(Character(Unicode.Scalar(close)))', found \(describeCurrent())")
            }
        }
    }

    @inline(__always)
    private mutating func expectLiteral(_ literal: StaticString) throws(MetricsLineError) {
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
    static func nonFiniteValue(_ text: UnsafeRawBufferPointer) -> Double? {
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

    private struct LexedNumber {
        var significand: UInt64
        var exponent: Int
        var negative: Bool
        /// Significant digits beyond the 19th were dropped, and not all of them were zero.
        var truncated: Bool
        /// Neither a fraction nor an exponent was written.
        var isIntegerLiteral: Bool
        var start: Int
        var end: Int
    }

    /// Reads a number per JSON's grammar into a decimal significand and exponent.
    @inline(__always)
    private mutating func lexNumber(key: () -> String?) throws(MetricsLineError) -> LexedNumber {
        let bytes = self.bytes
        let count = self.count
        let start = position
        var index = position
        var negative = false
        if index < count, bytes[index] == UInt8(ascii: "-") {
            negative = true
            index &+= 1
        }
        var significand: UInt64 = 0
        var digits = 0  // significant digits in `significand`
        var exponent = 0
        var truncated = false
        var isIntegerLiteral = true

        guard index < count, bytes[index] &- UInt8(ascii: "0") <= 9 else {
            position = index
            throw invalidNumber(start: start, key: key())
        }
        if bytes[index] == UInt8(ascii: "0") {
            index &+= 1
            if index < count, bytes[index] &- UInt8(ascii: "0") <= 9 {
                position = index
                throw invalidNumber(start: start, key: key())
            }
        } else {
            while index < count {
                let digit = bytes[index] &- UInt8(ascii: "0")
                if digit > 9 { break }
                if digits < 19 {
                    significand = significand &* 10 &+ UInt64(digit)
                    digits &+= 1
                } else {
                    exponent &+= 1
                    if digit != 0 { truncated = true }
                }
                index &+= 1
            }
        }
        if index < count, bytes[index] == UInt8(ascii: ".") {
            isIntegerLiteral = false
            index &+= 1
            let fractionStart = index
            if significand == 0 {
                // Leading zeros of a fraction only scale: 0.000123 is 123e-6.
                while index < count, bytes[index] == UInt8(ascii: "0") {
                    exponent &-= 1
                    index &+= 1
                }
            }
            // Eight digits at a time while they fit in the 19 a UInt64 holds (Python's repr writes 17).
            while digits <= 11, index &+ 8 <= count {
                let word = UInt64(littleEndian: UnsafeRawPointer(bytes + index).loadUnaligned(as: UInt64.self))
                guard Self.isEightDigits(word) else { break }
                significand = significand &* 100_000_000 &+ Self.eightDigitsValue(word)
                digits &+= 8
                exponent &-= 8
                index &+= 8
            }
            while index < count {
                let digit = bytes[index] &- UInt8(ascii: "0")
                if digit > 9 { break }
                if digits < 19 {
                    significand = significand &* 10 &+ UInt64(digit)
                    digits &+= 1
                    exponent &-= 1
                } else if digit != 0 {
                    truncated = true
                }
                index &+= 1
            }
            guard index > fractionStart else {
                position = index
                throw invalidNumber(start: start, key: key())
            }
        }
        if index < count, bytes[index] | 0x20 == UInt8(ascii: "e") {
            isIntegerLiteral = false
            index &+= 1
            var exponentNegative = false
            if index < count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                exponentNegative = bytes[index] == UInt8(ascii: "-")
                index &+= 1
            }
            let exponentStart = index
            var written = 0
            while index < count {
                let digit = bytes[index] &- UInt8(ascii: "0")
                if digit > 9 { break }
                if written < 1_000_000 { written = written &* 10 &+ Int(digit) }
                index &+= 1
            }
            guard index > exponentStart else {
                position = index
                throw invalidNumber(start: start, key: key())
            }
            exponent &+= exponentNegative ? -written : written
        }
        position = index
        return LexedNumber(
            significand: significand, exponent: exponent, negative: negative, truncated: truncated,
            isIntegerLiteral: isIntegerLiteral, start: start, end: index)
    }

    /// Whether the eight bytes of `word` (little-endian) are all ASCII digits.
    @inline(__always)
    static func isEightDigits(_ word: UInt64) -> Bool {
        ((word &+ 0x4646_4646_4646_4646) | (word &- 0x3030_3030_3030_3030)) & 0x8080_8080_8080_8080 == 0
    }

    /// The value of eight ASCII digits (little-endian, first digit in the lowest byte), in three multiplications.
    @inline(__always)
    static func eightDigitsValue(_ word: UInt64) -> UInt64 {
        var value = word &- 0x3030_3030_3030_3030
        value = (value &* 10) &+ (value >> 8)
        let mask: UInt64 = 0x0000_00FF_0000_00FF
        let high = (value & mask) &* (100 &+ (1_000_000 << 32))
        let low = ((value >> 16) & mask) &* (1 &+ (10_000 << 32))
        return (high &+ low) >> 32
    }

    @inline(__always)
    private func convert(_ number: LexedNumber, key: () -> String?) throws(MetricsLineError) -> Double {
        if !number.truncated,
            let value = DecimalConversion.double(
                significand: number.significand, exponent: number.exponent, negative: number.negative)
        {
            return value
        }
        // Rare: more than 19 significant digits, ties, subnormals, overflow. The standard library decides.
        let text = String(
            decoding: UnsafeBufferPointer(start: bytes + number.start, count: number.end &- number.start),
            as: UTF8.self)
        guard let value = Double(text) else { throw invalidNumber(start: number.start, key: key()) }
        return value
    }

    private func invalidNumber(start: Int, key: String?) -> MetricsLineError {
        var end = position
        while end < count, end < start &+ 40 {
            switch bytes[end] {
            case UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), UInt8(ascii: " "), UInt8(ascii: "\t"):
                break
            default:
                end &+= 1
                continue
            }
            break
        }
        let text = String(decoding: UnsafeBufferPointer(start: bytes + start, count: end &- start), as: UTF8.self)
        let target = key.map { " for \(quoted($0))" } ?? ""
        return MetricsLineError(
            kind: .invalidNumber, column: start &+ 1, key: key, message: "invalid number\(target): \(text)")
    }

    // MARK: - Strings

    private struct ScannedString {
        /// The first byte after the opening quote.
        var start: Int
        /// The closing quote.
        var end: Int
        var hasEscapes: Bool
        var mayBeNonASCII: Bool
    }

    /// Scans a string, checking its escapes; the current byte is its opening quote.
    @inline(__always)
    private mutating func scanString() throws(MetricsLineError) -> ScannedString {
        let bytes = self.bytes
        let count = self.count
        let open = position
        var index = open &+ 1
        var hasEscapes = false
        var union: UInt8 = 0
        while true {
            // Eight bytes at a time while none is a quote, a backslash, a control character or non-ASCII.
            while index &+ 8 <= count {
                let word = UInt64(littleEndian: UnsafeRawPointer(bytes + index).loadUnaligned(as: UInt64.self))
                let special = Self.specialStringBytes(word)
                if special != 0 {
                    // The lowest flagged byte is a real one: borrows only carry towards higher bytes.
                    index &+= special.trailingZeroBitCount &>> 3
                    break
                }
                index &+= 8
            }
            guard index < count else { break }
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                position = index &+ 1
                return ScannedString(start: open &+ 1, end: index, hasEscapes: hasEscapes, mayBeNonASCII: union >= 0x80)
            }
            if byte == UInt8(ascii: "\\") {
                hasEscapes = true
                position = index
                try checkEscape()
                index = position
                continue
            }
            if byte < 0x20 {
                position = index
                throw syntaxError("control character U+\(hex(UInt32(byte))) in a string (escape it)")
            }
            union |= byte
            index &+= 1
        }
        position = count
        throw MetricsLineError(kind: .unterminatedString, column: open &+ 1, message: "unterminated string")
    }

    /// The high bit of each byte of `word` (little-endian) that is `"`, `\`, below 0x20 or above 0x7F, from
    /// the classic SWAR zero-byte tests; above the lowest flagged byte, flags may be false positives.
    @inline(__always)
    static func specialStringBytes(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let quote = word ^ (ones &* 0x22)
        let backslash = word ^ (ones &* 0x5C)
        let hasQuote = (quote &- ones) & ~quote
        let hasBackslash = (backslash &- ones) & ~backslash
        let hasControl = (word &- ones &* 0x20) & ~word
        return (hasQuote | hasBackslash | hasControl | word) & highs
    }

    /// Checks the escape at the current backslash and moves past it (to the end of the line if it is there).
    private mutating func checkEscape() throws(MetricsLineError) {
        let escaped = byte(at: position &+ 1)
        switch escaped {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
            UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            position &+= 2
        case UInt8(ascii: "u"):
            guard hexValue(at: position &+ 2) != nil else {
                throw MetricsLineError(
                    kind: .invalidEscape, column: column, message: "invalid \\u escape: expected 4 hex digits")
            }
            position &+= 6
        case 0 where position &+ 1 >= count:
            // A backslash ends the line: the string is unterminated, which the caller reports.
            position = count
        default:
            let shown = escaped < 0x80 && escaped >= 0x20 ? String(Unicode.Scalar(escaped)) : "U+\(hex(UInt32(escaped)))"
            throw MetricsLineError(
                kind: .invalidEscape, column: column, message: "invalid escape \"\\\(shown)\" in a string")
        }
    }

    /// The value of the four hex digits at `offset`, if there are four.
    private func hexValue(at offset: Int) -> UInt32? {
        guard offset &+ 4 <= count else { return nil }
        var value: UInt32 = 0
        for index in offset..<offset &+ 4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte &- UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte &- UInt8(ascii: "a") &+ 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte &- UInt8(ascii: "A") &+ 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    /// The bytes of a string with its escapes resolved (escapes were checked by ``scanString()``).
    private func decode(_ string: ScannedString) throws(MetricsLineError) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(string.end &- string.start)
        var offset = string.start
        while offset < string.end {
            let byte = bytes[offset]
            guard byte == UInt8(ascii: "\\") else {
                result.append(byte)
                offset &+= 1
                continue
            }
            let escaped = bytes[offset &+ 1]
            switch escaped {
            case UInt8(ascii: "b"): result.append(0x08)
            case UInt8(ascii: "f"): result.append(0x0C)
            case UInt8(ascii: "n"): result.append(0x0A)
            case UInt8(ascii: "r"): result.append(0x0D)
            case UInt8(ascii: "t"): result.append(0x09)
            case UInt8(ascii: "u"):
                var scalarValue = hexValue(at: offset &+ 2) ?? 0
                if (0xD800...0xDBFF).contains(scalarValue) {
                    guard offset &+ 11 < string.end, bytes[offset &+ 6] == UInt8(ascii: "\\"),
                        bytes[offset &+ 7] == UInt8(ascii: "u"), let low = hexValue(at: offset &+ 8),
                        (0xDC00...0xDFFF).contains(low)
                    else {
                        throw unpairedSurrogate(at: offset)
                    }
                    scalarValue = 0x10000 &+ ((scalarValue &- 0xD800) << 10) &+ (low &- 0xDC00)
                    offset &+= 6
                } else if (0xDC00...0xDFFF).contains(scalarValue) {
                    throw unpairedSurrogate(at: offset)
                }
                if let scalar = Unicode.Scalar(scalarValue) {
                    result.append(contentsOf: scalar.utf8)
                }
                offset &+= 4
            default: result.append(escaped)  // \" \\ \/
            }
            offset &+= 2
        }
        return result
    }

    private func unpairedSurrogate(at offset: Int) -> MetricsLineError {
        MetricsLineError(
            kind: .invalidEscape, column: offset &+ 1, message: "invalid \\u escape: unpaired UTF-16 surrogate")
    }

    /// Scans a key and finds it in the table.
    ///
    /// The common key (ASCII, no escapes, followed by enough of the line) is hashed with the words loaded
    /// to find its closing quote; any other goes through ``scanString()`` and a separate hash.
    @inline(__always)
    private mutating func scanKey(keys: inout KeyTable) throws(MetricsLineError) -> KeyTable.Match {
        let keyColumn = column
        let bytes = self.bytes
        let start = position &+ 1
        var index = start
        var hash = KeyTable.hashSeed
        while index &+ 8 <= count {
            let word = UInt64(littleEndian: UnsafeRawPointer(bytes + index).loadUnaligned(as: UInt64.self))
            let special = Self.specialStringBytes(word)
            if special == 0 {
                hash = KeyTable.mixWord(hash, word)
                index &+= 8
                continue
            }
            let offset = special.trailingZeroBitCount &>> 3
            guard bytes[index &+ offset] == UInt8(ascii: "\"") else { break }
            if offset > 0 {
                hash = KeyTable.mixTail(hash, word & ((1 &<< UInt64(offset &* 8)) &- 1))
            }
            let end = index &+ offset
            position = end &+ 1
            let key = UnsafeRawBufferPointer(start: bytes + start, count: end &- start)
            return try keys.match(
                key, hash: KeyTable.finish(hash, count: end &- start), mayBeNonASCII: false, column: keyColumn)
        }
        let string = try scanString()
        if !string.hasEscapes {
            let raw = UnsafeRawBufferPointer(start: bytes + string.start, count: string.end &- string.start)
            return try keys.match(raw, mayBeNonASCII: string.mayBeNonASCII, column: keyColumn)
        }
        let decoded = try decode(string)
        let mayBeNonASCII = decoded.contains { $0 >= 0x80 }
        let result = decoded.withUnsafeBytes { buffer in
            Result { () throws(MetricsLineError) in
                try keys.match(buffer, mayBeNonASCII: mayBeNonASCII, column: keyColumn)
            }
        }
        return try result.get()
    }

    // MARK: - Errors

    private func syntaxError(_ message: String) -> MetricsLineError {
        if position >= count {
            return MetricsLineError(kind: .syntax, column: column, message: "unexpected end of line")
        }
        return MetricsLineError(kind: .syntax, column: column, message: message)
    }

    private func typeMismatch(
        key: String, expected: String, got scalar: ScannedScalar, column: Int, named: Bool = true
    ) -> MetricsLineError {
        let target = named ? "\(expected) for \(quoted(key))" : expected
        return MetricsLineError(
            kind: .typeMismatch, column: column, key: key, message: "expected \(target), got \(scalar.typeDescription)")
    }

    private func describeCurrent() -> String {
        guard position < count else { return "the end of the line" }
        let byte = bytes[position]
        if byte >= 0x21, byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "byte 0x\(hex(UInt32(byte)))"
    }
}

private func quoted(_ key: String) -> String { "\"\(key)\"" }

private func hex(_ value: UInt32) -> String {
    let digits = String(value, radix: 16, uppercase: true)
    return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
}
