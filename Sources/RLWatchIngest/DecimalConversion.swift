/// Correctly rounded conversion of a decimal `significand × 10^exponent` to a `Double`, without the C library.
///
/// The metrics parser must convert millions of numbers a second, most of them Python `repr` output with
/// 17 significant digits, which the classic exact fast path (significand ≤ 2^53) misses half the time.
/// Eisel-Lemire (Lemire, "Number Parsing at a Gigabyte per Second", 2021; the variant in Go's `strconv`)
/// decides those with one or two 64×64-bit multiplications. The rare cases it cannot decide (halfway
/// ties, subnormals, more than 19 significant digits) return `nil` and the caller falls back to the
/// standard library's `Double(String)`.
enum DecimalConversion {
    /// The powers of ten a `Double` holds exactly.
    static let exactPowersOfTen: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]

    /// The `Double` nearest to `±significand × 10^exponent`, or `nil` where a slower exact method must decide.
    ///
    /// - Parameters:
    ///   - significand: The decimal digits, all of them (the caller gives up on more than 19).
    ///   - exponent: The power of ten to scale by.
    ///   - negative: Whether a minus sign preceded the number.
    @inline(__always)
    static func double(significand: UInt64, exponent: Int, negative: Bool) -> Double? {
        if significand == 0 { return negative ? -0.0 : 0.0 }
        // Clinger's fast path: both operands exact, so one IEEE operation rounds correctly.
        if significand <= 1 << 53, exponent >= -22, exponent <= 22 {
            let value = Double(significand)
            let scaled = exponent < 0 ? value / exactPowersOfTen[-exponent] : value * exactPowersOfTen[exponent]
            return negative ? -scaled : scaled
        }
        return eiselLemire(significand: significand, exponent: exponent, negative: negative)
    }

    /// Eisel-Lemire for a non-zero significand; `nil` when the truncated product cannot decide the rounding
    /// or the result is subnormal or out of range.
    static func eiselLemire(significand: UInt64, exponent: Int, negative: Bool) -> Double? {
        guard exponent >= powerOfTenMinExponent, exponent <= powerOfTenMaxExponent else { return nil }
        let leadingZeros = significand.leadingZeroBitCount
        let normalized = significand << UInt64(leadingZeros)
        // floor(exponent × log2(10)) + 64 + bias, minus the normalisation shift; it may wrap (caught below).
        let approximateExponent = ((217_706 &* exponent) >> 16) &+ 64 &+ 1023
        var binaryExponent = UInt64(bitPattern: Int64(approximateExponent)) &- UInt64(leadingZeros)

        let index = (exponent - powerOfTenMinExponent) &* 2
        let powerHigh = powersOfTen[index]
        let powerLow = powersOfTen[index &+ 1]
        var (high, low) = normalized.multipliedFullWidth(by: powerHigh)
        if high & 0x1FF == 0x1FF, low &+ normalized < normalized {
            // The 64-bit product is too close to a rounding boundary: take the next 64 bits of 10^q too.
            let (wideHigh, wideLow) = normalized.multipliedFullWidth(by: powerLow)
            var mergedHigh = high
            let mergedLow = low &+ wideHigh
            if mergedLow < low { mergedHigh &+= 1 }
            if mergedHigh & 0x1FF == 0x1FF, mergedLow &+ 1 == 0, wideLow &+ normalized < normalized {
                return nil
            }
            high = mergedHigh
            low = mergedLow
        }

        let topBit = high >> 63
        var mantissa = high >> (topBit &+ 9)
        binaryExponent &-= 1 ^ topBit
        // Exactly halfway between two doubles: round-half-even needs the digits the product dropped.
        if low == 0, high & 0x1FF == 0, mantissa & 3 == 1 { return nil }
        mantissa &+= mantissa & 1
        mantissa >>= 1
        if mantissa >> 53 > 0 {
            mantissa >>= 1
            binaryExponent &+= 1
        }
        // Zero (or a wrapped negative) is subnormal territory, 0x7FF and up is infinity: both left to the slow path.
        if binaryExponent &- 1 >= 0x7FF - 1 { return nil }
        var bits = binaryExponent << 52 | mantissa & 0x000F_FFFF_FFFF_FFFF
        if negative { bits |= 1 << 63 }
        return Double(bitPattern: bits)
    }
}
