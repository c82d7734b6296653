import RLWatchCore

/// Where ``JSONReader/scanLine(keys:into:)`` delivers what it finds in a line.
protocol MetricsLineSink {
    mutating func metric(_ binding: FrameworkKeyMap.Binding, key: @autoclosure () -> String, value: Double)
    /// A value for an unmapped key; `entry` is the key's table entry, `nil` for a key the table did not learn.
    mutating func extra(entry: Int?, key: @autoclosure () -> String, value: Double)
    mutating func rewards(_ values: [Double])
}

/// A metrics line read with the shared ``JSONReader`` (in its Python-lenient mode): it builds nothing but what
/// the sink keeps. Keys are matched by their bytes in the ``KeyTable``, numbers converted in place, ignored
/// values validated and skipped.
extension JSONReader {
    // MARK: - The line

    /// Scans the whole line, delivering its metrics to `sink`.
    ///
    /// - Returns: The step number.
    mutating func scanLine<Sink: MetricsLineSink>(
        keys: inout KeyTable, into sink: inout Sink
    ) throws(JSONError) -> Int {
        skipWhitespace()
        guard current == UInt8(ascii: "{") else {
            if position >= count { throw JSONError(kind: .syntax, column: column, message: "empty line") }
            throw syntaxError("expected a JSON object, found \(describeCurrent())")
        }
        var step: Int?
        try scanMembers(nested: false, keys: &keys, into: &sink, step: &step)
        skipWhitespace()
        guard position >= count else {
            throw JSONError(
                kind: .trailingCharacters, column: column, message: "trailing characters after JSON object")
        }
        guard let step else {
            throw JSONError(kind: .missingStep, column: 1, key: "step", message: "missing \"step\"")
        }
        return step
    }

    /// Scans an object's members; the current byte is its `{`.
    mutating func scanMembers<Sink: MetricsLineSink>(
        nested: Bool, keys: inout KeyTable, into sink: inout Sink, step: inout Int?
    ) throws(JSONError) {
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
    ) throws(JSONError) {
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
    ) throws(JSONError) {
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

    mutating func scanStep() throws(JSONError) -> Int {
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
            throw JSONError(
                kind: .invalidStep, column: valueColumn, key: "step",
                message: "\"step\" must be an integer, got \(got)")
        }
        let number = try lexNumber(key: { "step" })
        let text = text(of: number)
        if number.isIntegerLiteral, let step = Int(text) { return step }
        if !number.isIntegerLiteral, let value = Double(text), value.isFinite, value == value.rounded(.towardZero),
            value >= -0x1p63, value < 0x1p63
        {
            return Int(value)
        }
        throw JSONError(
            kind: .invalidStep, column: valueColumn, key: "step",
            message: "\"step\" must be an integer, got \(text)")
    }

    /// A `rewards` array; the current byte is its `[`.
    mutating func scanRewards() throws(JSONError) -> [Double] {
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

    func typeMismatch(
        key: String, expected: String, got scalar: Scalar, column: Int, named: Bool = true
    ) -> JSONError {
        let target = named ? "\(expected) for \(quotedKey(key))" : expected
        return JSONError(
            kind: .typeMismatch, column: column, key: key, message: "expected \(target), got \(scalar.typeDescription)")
    }

    // MARK: - Keys

    /// Scans a member's key and the `:` after it, leaving the position at the value; the current byte is the
    /// key's opening quote.
    @inline(__always)
    mutating func scanKeyAndColon(keys: inout KeyTable) throws(JSONError) -> KeyTable.Match {
        let match = try scanKey(keys: &keys)
        skipWhitespace()
        guard current == UInt8(ascii: ":") else {
            throw syntaxError("expected ':' after the key \(quotedKey(keys.name(of: match))), found \(describeCurrent())")
        }
        position &+= 1
        skipWhitespace()
        return match
    }

    /// Scans a key and finds it in the table.
    ///
    /// The common key (ASCII, no escapes, followed by enough of the line) is hashed with the words loaded
    /// to find its closing quote; any other goes through ``scanString()`` and a separate hash.

    mutating func scanKey(keys: inout KeyTable) throws(JSONError) -> KeyTable.Match {
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
            Result { () throws(JSONError) in
                try keys.match(buffer, mayBeNonASCII: mayBeNonASCII, column: keyColumn)
            }
        }
        return try result.get()
    }
}
