// JSON numbers: lexing into a decimal significand and exponent, then conversion to Double.

extension LineScanner {
    struct LexedNumber {
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
    mutating func lexNumber(key: () -> String?) throws(MetricsLineError) -> LexedNumber {
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
    func convert(_ number: LexedNumber, key: () -> String?) throws(MetricsLineError) -> Double {
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

    func invalidNumber(start: Int, key: String?) -> MetricsLineError {
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
        let target = key.map { " for \(quotedKey($0))" } ?? ""
        return MetricsLineError(
            kind: .invalidNumber, column: start &+ 1, key: key, message: "invalid number\(target): \(text)")
    }
}
