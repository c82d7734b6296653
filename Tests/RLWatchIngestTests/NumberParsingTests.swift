import RLWatchCore
import Testing

@testable import RLWatchIngest

/// A small deterministic generator, so that a failure reproduces.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}

/// The parser's value for a JSON number, checked against the standard library's (correctly rounded) one.
private func expectSameAsStandardLibrary(
    _ text: String, parser: inout MetricsLineParser, sourceLocation: SourceLocation = #_sourceLocation
) throws {
    let step = try parser.parse("{\"step\": 0, \"value\": \(text)}")
    let parsed = try #require(step.extras["value"], sourceLocation: sourceLocation)
    let expected = try #require(Double(text), sourceLocation: sourceLocation)
    #expect(parsed.bitPattern == expected.bitPattern, "\(text)", sourceLocation: sourceLocation)
}

@Suite struct NumberParsingTests {
    @Test func shortestRepresentationsRoundTrip() throws {
        var parser = MetricsLineParser()
        var random = SplitMix64(state: 1)
        for _ in 0..<20_000 {
            // Uniform over bit patterns covers every magnitude; uniform in [0, 1) covers typical metrics.
            var value = Double(bitPattern: random.next())
            if !value.isFinite { continue }
            try expectSameAsStandardLibrary("\(value)", parser: &parser)
            value = Double.random(in: 0..<1, using: &random)
            try expectSameAsStandardLibrary("\(value)", parser: &parser)
            try expectSameAsStandardLibrary("\(-value * 1e-5)", parser: &parser)
        }
    }

    @Test func randomDecimalStrings() throws {
        var parser = MetricsLineParser()
        var random = SplitMix64(state: 2)
        for _ in 0..<20_000 {
            let integerDigits = Int.random(in: 1...12, using: &random)
            let fractionDigits = Int.random(in: 0...24, using: &random)
            var text = Bool.random(using: &random) ? "-" : ""
            text += String(Int.random(in: 1...9, using: &random))
            for _ in 1..<integerDigits { text += String(Int.random(in: 0...9, using: &random)) }
            if fractionDigits > 0 {
                text += "."
                for _ in 0..<fractionDigits { text += String(Int.random(in: 0...9, using: &random)) }
            }
            if Bool.random(using: &random) { text += "e\(Int.random(in: -340...310, using: &random))" }
            try expectSameAsStandardLibrary(text, parser: &parser)
        }
    }

    @Test(arguments: [
        "9007199254740993", "9007199254740992", "9007199254740994", "9007199254740995",  // ties around 2^53
        "2.2250738585072011e-308", "2.2250738585072014e-308", "2.225073858507201e-308",  // the subnormal boundary
        "4.9406564584124654e-324", "2.4703282292062327e-324", "2.4703282292062328e-324",  // smallest subnormals
        "1.7976931348623157e308", "1.7976931348623158e308", "1.7976931348623159e308",  // the largest double
        "0.1", "0.2", "0.3", "1e23", "8.98846567431158e307", "3.0517578125e-05", "123456789012345678901234567890",
        "0.000000000000000000000000000001", "1.00000000000000011102230246251565404236316680908203125",
        "1.00000000000000011102230246251565404236316680908203124", "7.2057594037927933e16", "1e-342", "1e-343",
        "1e308", "1e309", "0e999999", "1E+2", "1e-0", "100000000000000000000000e-3", "0.0000001e7",
        "1090544144181609348835077142190", "12345678901234567e-5", "1234567890123456789e-10",
        "12345678901234567890e-10",
    ])
    func hardCases(text: String) throws {
        var parser = MetricsLineParser()
        try expectSameAsStandardLibrary(text, parser: &parser)
        try expectSameAsStandardLibrary("-" + text, parser: &parser)
    }

    @Test func specialStringBytes() {
        func word(_ bytes: [UInt8]) -> UInt64 { bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) } }
        #expect(JSONReader.specialStringBytes(word(Array("abcdefgh".utf8))) == 0)
        #expect(JSONReader.specialStringBytes(word(Array("abc\"efgh".utf8))).trailingZeroBitCount / 8 == 3)
        #expect(JSONReader.specialStringBytes(word(Array("abcdef\\h".utf8))).trailingZeroBitCount / 8 == 6)
        #expect(JSONReader.specialStringBytes(word([0x61, 0x1F, 0, 0, 0, 0, 0, 0])).trailingZeroBitCount / 8 == 1)
        let nonASCII = word([0x61, 0x62, 0xC3, 0xA9, 0x20, 0x7E, 0x21, 0x7F])
        #expect(JSONReader.specialStringBytes(nonASCII).trailingZeroBitCount / 8 == 2)
        #expect(JSONReader.specialStringBytes(word([0x20, 0x7E, 0x21, 0x7F, 0x5B, 0x5D, 0x23, 0x21])) == 0)
    }
}
