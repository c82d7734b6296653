// Scalars, literals and the skipping of ignored values.

extension LineScanner {
    /// Scans a scalar value; for `{` or `[` it returns without consuming anything.
    @inline(__always)
    mutating func scanScalar(key: () -> String?) throws(MetricsLineError) -> ScannedScalar {
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
    mutating func skipValue(depth: Int) throws(MetricsLineError) {
        switch try scanScalar(key: { nil }) {
        case .objectStart, .arrayStart: try skipContainer(depth: depth)
        case .number, .null, .string, .boolean: break
        }
    }

    /// Skips an object or an array; the current byte is its `{` or `[`.
    mutating func skipContainer(depth: Int) throws(MetricsLineError) {
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
    mutating func expectLiteral(_ literal: StaticString) throws(MetricsLineError) {
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
}
