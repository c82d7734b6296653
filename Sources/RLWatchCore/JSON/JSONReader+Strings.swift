// Strings: the scan for the closing quote (eight bytes at a time), escapes, decoding.

extension JSONReader {
    package struct ScannedString {
        /// The first byte after the opening quote.
        package var start: Int
        /// The closing quote.
        package var end: Int
        package var hasEscapes: Bool
        package var mayBeNonASCII: Bool
    }

    /// Scans a string, checking its escapes; the current byte is its opening quote.
    @inline(__always)
    package mutating func scanString() throws(JSONError) -> ScannedString {
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
                throw syntaxError("control character U+\(hexDigits(UInt32(byte))) in a string (escape it)")
            }
            union |= byte
            index &+= 1
        }
        position = count
        throw JSONError(kind: .unterminatedString, column: open &+ 1, message: "unterminated string")
    }

    /// The high bit of each byte of `word` (little-endian) that is `"`, `\`, below 0x20 or above 0x7F, from
    /// the classic SWAR zero-byte tests; above the lowest flagged byte, flags may be false positives.
    @inline(__always)
    package static func specialStringBytes(_ word: UInt64) -> UInt64 {
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
    package mutating func checkEscape() throws(JSONError) {
        let escaped = byte(at: position &+ 1)
        switch escaped {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
            UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            position &+= 2
        case UInt8(ascii: "u"):
            guard hexValue(at: position &+ 2) != nil else {
                throw JSONError(
                    kind: .invalidEscape, column: column, message: "invalid \\u escape: expected 4 hex digits")
            }
            position &+= 6
        case 0 where position &+ 1 >= count:
            // A backslash ends the line: the string is unterminated, which the caller reports.
            position = count
        default:
            let shown =
                escaped < 0x80 && escaped >= 0x20
                ? String(Unicode.Scalar(escaped)) : "U+\(hexDigits(UInt32(escaped)))"
            throw JSONError(
                kind: .invalidEscape, column: column, message: "invalid escape \"\\\(shown)\" in a string")
        }
    }

    /// The value of the four hex digits at `offset`, if there are four.
    package func hexValue(at offset: Int) -> UInt32? {
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
    package func decode(_ string: ScannedString) throws(JSONError) -> [UInt8] {
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

    package func unpairedSurrogate(at offset: Int) -> JSONError {
        JSONError(
            kind: .invalidEscape, column: offset &+ 1, message: "invalid \\u escape: unpaired UTF-16 surrogate")
    }

    /// Reads a string as a `String`; the current byte is its opening quote.
    package mutating func readString() throws(JSONError) -> String {
        let column = self.column
        let string = try scanString()
        if !string.hasEscapes, !string.mayBeNonASCII {
            return String(
                decoding: UnsafeBufferPointer(start: bytes + string.start, count: string.end &- string.start),
                as: UTF8.self)
        }
        let text: String?
        if string.hasEscapes {
            text = String(validating: try decode(string), as: UTF8.self)
        } else {
            text = String(
                validating: UnsafeBufferPointer(start: bytes + string.start, count: string.end &- string.start),
                as: UTF8.self)
        }
        guard let text else {
            throw JSONError(kind: .invalidUTF8, column: column, message: "string is not valid UTF-8")
        }
        return text
    }
}
