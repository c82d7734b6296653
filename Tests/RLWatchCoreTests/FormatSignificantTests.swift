import RLWatchCore
import Testing

/// Numbers printed for people (the diagnose table, chart axes) carry a fixed number of significant digits.
@Suite struct FormatSignificantTests {
    @Test(arguments: [
        (0.123456, "0.1235"), (1.5, "1.500"), (12.3456, "12.35"), (1234.5, "1235"), (12345.6, "12346"),
        (27_000_000, "2.700e+07"), (1e-5, "1.000e-05"), (0.001, "0.001000"), (-0.5, "-0.5000"), (0, "0"),
        (9.99996, "10.00"), (99_999.7, "1.000e+05"), (0.00099996, "0.001000"), (.nan, "NaN"), (-.infinity, "-Infinity"),
    ])
    func fourDigits(value: Double, expected: String) {
        #expect(formatSignificant(value, digits: 4) == expected)
    }

    @Test func otherDigitCounts() {
        #expect(formatSignificant(2.5, digits: 3) == "2.50")
        #expect(formatSignificant(123_456_789, digits: 2) == "1.2e+08")
        #expect(formatSignificant(0.5, digits: 1) == "0.5")
    }
}
