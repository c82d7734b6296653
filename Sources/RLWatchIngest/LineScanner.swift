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

    let bytes: UnsafePointer<UInt8>
    let count: Int
    var position = 0

    init(bytes: UnsafePointer<UInt8>, count: Int) {
        self.bytes = bytes
        self.count = count
    }

    /// The 1-based column of the current position.
    var column: Int { position &+ 1 }

    /// The current byte, or 0 at the end of the line (a NUL in the line is never valid where 0 is tested).
    @inline(__always)
    var current: UInt8 { position < count ? bytes[position] : 0 }

    @inline(__always)
    func byte(at offset: Int) -> UInt8 { offset < count ? bytes[offset] : 0 }

    @inline(__always)
    mutating func skipWhitespace() {
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
    mutating func scanMembers<Sink: MetricsLineSink>(
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
            let match = try scanKeyAndColon(keys: &keys)
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
            func name() -> String { keys.name(of: match) }

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
            case .renamed(let target):
                try scanExtra(entry: target, key: name(), into: &sink)
            case .step where !nested:
                step = try scanStep()
            case .step:
                // A "step" inside "metrics" or "data" is not the step; the top-level one is.
                try skipValue(depth: 1)
            case .container where !nested && current == UInt8(ascii: "{"):
                try scanMembers(nested: true, keys: &keys, into: &sink, step: &step)
            case .container:
                try scanExtra(entry: entry, key: name(), into: &sink)
            case .extras where !nested && current == UInt8(ascii: "{"):
                try scanExtrasObject(keys: &keys, into: &sink)
            case .extras:
                try scanExtra(entry: entry, key: name(), into: &sink)
            case .rewards:
                if current == UInt8(ascii: "[") {
                    sink.rewards(try scanRewards())
                } else {
                    let valueColumn = column
                    let scalar = try scanScalar(key: { "rewards" })
                    if case .null = scalar { break }
                    throw typeMismatch(
                        key: "rewards", expected: "an array of numbers", got: scalar, column: valueColumn)
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
                throw syntaxError(
                    "expected ',' or '}' after the value of \(quotedKey(name())), found \(describeCurrent())")
            }
        }
    }

    /// An unmapped key's value: numbers (and non-finite strings) are kept, anything else is skipped.
    @inline(__always)
    mutating func scanExtra<Sink: MetricsLineSink>(
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

    /// The members of a top-level `extras` object; the current byte is its `{`.
    ///
    /// rlwatch's own metrics export (the dashboard's `metrics.jsonl`) writes the canonical metrics at the top
    /// level and everything else a step carried — `completions/clipped_ratio`, `frac_reward_zero_std`, a
    /// trainer's own keys — in `extras`. Its members are extras under their own names: no alias is resolved,
    /// since they were stored after the mapping, so the detectors that read extras see what they saw live.
    mutating func scanExtrasObject<Sink: MetricsLineSink>(
        keys: inout KeyTable, into sink: inout Sink
    ) throws(MetricsLineError) {
        position &+= 1
        skipWhitespace()
        if current == UInt8(ascii: "}") {
            position &+= 1
            return
        }
        while true {
            guard current == UInt8(ascii: "\"") else {
                throw syntaxError("expected a key string in \"extras\", found \(describeCurrent())")
            }
            let match = try scanKeyAndColon(keys: &keys)
            func name() -> String { keys.name(of: match) }
            switch match {
            case .entry(let entry): try scanExtra(entry: entry, key: name(), into: &sink)
            case .unlisted(let name): try scanExtra(entry: nil, key: name, into: &sink)
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
                throw syntaxError(
                    "expected ',' or '}' after the value of \(quotedKey(name())), found \(describeCurrent())")
            }
        }
    }

    mutating func scanStep() throws(MetricsLineError) -> Int {
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
                kind: .invalidStep, column: valueColumn, key: "step",
                message: "\"step\" must be an integer, got \(got)")
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
        let text = String(
            decoding: UnsafeBufferPointer(start: bytes + number.start, count: number.end &- number.start),
            as: UTF8.self)
        throw MetricsLineError(
            kind: .invalidStep, column: valueColumn, key: "step",
            message: "\"step\" must be an integer, got \(text)")
    }

    /// A `rewards` array; the current byte is its `[`.
    mutating func scanRewards() throws(MetricsLineError) -> [Double] {
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

    // MARK: - Errors

    func syntaxError(_ message: String) -> MetricsLineError {
        if position >= count {
            return MetricsLineError(kind: .syntax, column: column, message: "unexpected end of line")
        }
        return MetricsLineError(kind: .syntax, column: column, message: message)
    }

    func typeMismatch(
        key: String, expected: String, got scalar: ScannedScalar, column: Int, named: Bool = true
    ) -> MetricsLineError {
        let target = named ? "\(expected) for \(quotedKey(key))" : expected
        return MetricsLineError(
            kind: .typeMismatch, column: column, key: key, message: "expected \(target), got \(scalar.typeDescription)")
    }

    func describeCurrent() -> String {
        guard position < count else { return "the end of the line" }
        let byte = bytes[position]
        if byte >= 0x21, byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "byte 0x\(hexDigits(UInt32(byte)))"
    }
}

/// A key as error messages show it.
func quotedKey(_ key: String) -> String { "\"\(key)\"" }

/// At least four upper-case hex digits, as in `U+0009`.
func hexDigits(_ value: UInt32) -> String {
    let digits = String(value, radix: 16, uppercase: true)
    return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
}
