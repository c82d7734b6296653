import Testing

@testable import RLWatchIngest

@Suite struct MetricsLineErrorTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let line: String
        let kind: MetricsLineError.Kind
        let message: String
        let column: Int
        var key: String? = nil

        var testDescription: String { line }
    }

    static let cases: [Case] = [
        // Types of metric values, naming the key.
        Case(line: #"{"step": 1, "loss": "abc"}"#, kind: .typeMismatch, message: #"expected a number for "loss", got a string"#, column: 21, key: "loss"),
        Case(line: #"{"step": 1, "loss": true}"#, kind: .typeMismatch, message: #"expected a number for "loss", got a boolean"#, column: 21, key: "loss"),
        Case(line: #"{"step": 1, "actor/kl_loss": false}"#, kind: .typeMismatch, message: #"expected a number for "actor/kl_loss", got a boolean"#, column: 30, key: "actor/kl_loss"),
        Case(line: #"{"step": 1, "data": {"entropy": {}}}"#, kind: .typeMismatch, message: #"expected a number for "entropy", got an object"#, column: 33, key: "entropy"),
        Case(line: #"{"step": 1, "grad_norm": [1]}"#, kind: .typeMismatch, message: #"expected a number for "grad_norm", got an array"#, column: 26, key: "grad_norm"),
        Case(line: #"{"step": 1, "loss": "0.5"}"#, kind: .typeMismatch, message: #"expected a number for "loss", got a string"#, column: 21, key: "loss"),
        Case(line: #"{"step": 1, "rewards": "1,2"}"#, kind: .typeMismatch, message: #"expected an array of numbers for "rewards", got a string"#, column: 24, key: "rewards"),
        Case(line: #"{"step": 1, "rewards": 3}"#, kind: .typeMismatch, message: #"expected an array of numbers for "rewards", got a number"#, column: 24, key: "rewards"),
        Case(line: #"{"step": 1, "rewards": [1, null]}"#, kind: .typeMismatch, message: #"expected a number at "rewards"[1], got null"#, column: 28, key: "rewards"),
        Case(line: #"{"step": 1, "rewards": [1, "a"]}"#, kind: .typeMismatch, message: #"expected a number at "rewards"[1], got a string"#, column: 28, key: "rewards"),
        Case(line: #"{"step": 1, "rewards": [[1]]}"#, kind: .typeMismatch, message: #"expected a number at "rewards"[0], got an array"#, column: 25, key: "rewards"),
        // The step.
        Case(line: #"{"loss": 1}"#, kind: .missingStep, message: #"missing "step""#, column: 1, key: "step"),
        Case(line: #"{}"#, kind: .missingStep, message: #"missing "step""#, column: 1, key: "step"),
        Case(line: #"{"step": 1.5}"#, kind: .invalidStep, message: #""step" must be an integer, got 1.5"#, column: 10, key: "step"),
        Case(line: #"{"step": "5"}"#, kind: .invalidStep, message: #""step" must be an integer, got a string"#, column: 10, key: "step"),
        Case(line: #"{"step": null}"#, kind: .invalidStep, message: #""step" must be an integer, got null"#, column: 10, key: "step"),
        Case(line: #"{"step": true}"#, kind: .invalidStep, message: #""step" must be an integer, got a boolean"#, column: 10, key: "step"),
        Case(line: #"{"step": NaN}"#, kind: .invalidStep, message: #""step" must be an integer, got NaN"#, column: 10, key: "step"),
        Case(line: #"{"step": -Infinity}"#, kind: .invalidStep, message: #""step" must be an integer, got -Infinity"#, column: 10, key: "step"),
        Case(line: #"{"step": [1]}"#, kind: .invalidStep, message: #""step" must be an integer, got an array"#, column: 10, key: "step"),
        Case(line: #"{"step": 9223372036854775808}"#, kind: .invalidStep, message: #""step" must be an integer, got 9223372036854775808"#, column: 10, key: "step"),
        Case(line: #"{"step": 1e19}"#, kind: .invalidStep, message: #""step" must be an integer, got 1e19"#, column: 10, key: "step"),
        Case(line: #"{"step": 01}"#, kind: .invalidNumber, message: #"invalid number for "step": 01"#, column: 10, key: "step"),
        // Strings.
        Case(line: #"{"step": 1, "loss"#, kind: .unterminatedString, message: "unterminated string", column: 13),
        Case(line: #"{"step": 1, "name": "abc}"#, kind: .unterminatedString, message: "unterminated string", column: 21),
        Case(line: #"{"step": 1, "a\"#, kind: .unterminatedString, message: "unterminated string", column: 13),
        Case(line: #"{"step": 1, "a\x": 1}"#, kind: .invalidEscape, message: #"invalid escape "\x" in a string"#, column: 15),
        Case(line: #"{"step": 1, "a\u12G4": 1}"#, kind: .invalidEscape, message: #"invalid \u escape: expected 4 hex digits"#, column: 15),
        Case(line: #"{"step": 1, "a\ud83d": 1}"#, kind: .invalidEscape, message: #"invalid \u escape: unpaired UTF-16 surrogate"#, column: 15),
        Case(line: #"{"step": 1, "a\ude00x": 1}"#, kind: .invalidEscape, message: #"invalid \u escape: unpaired UTF-16 surrogate"#, column: 15),
        Case(line: "{\"step\": 1, \"a\tb\": 1}", kind: .syntax, message: "control character U+0009 in a string (escape it)", column: 15),
        // Numbers.
        Case(line: #"{"step": 1, "loss": 1.}"#, kind: .invalidNumber, message: #"invalid number for "loss": 1."#, column: 21, key: "loss"),
        Case(line: #"{"step": 1, "loss": -}"#, kind: .invalidNumber, message: #"invalid number for "loss": -"#, column: 21, key: "loss"),
        Case(line: #"{"step": 1, "x": 1e}"#, kind: .invalidNumber, message: #"invalid number for "x": 1e"#, column: 18, key: "x"),
        Case(line: #"{"step": 1, "x": .5}"#, kind: .syntax, message: #"expected a value, found '.'"#, column: 18),
        Case(line: #"{"step": 1, "x": +1}"#, kind: .syntax, message: #"expected a value, found '+'"#, column: 18),
        Case(line: #"{"step": 1, "x": nan}"#, kind: .syntax, message: #"expected a value, found 'n'"#, column: 18),
        Case(line: #"{"step": 1, "x": Inf}"#, kind: .syntax, message: #"expected a value, found 'I'"#, column: 18),
        Case(line: #"{"step": 1, "x": 1.5x}"#, kind: .syntax, message: #"expected ',' or '}' after the value of "x", found 'x'"#, column: 21),
        // Structure.
        Case(line: #"{"step": 1} x"#, kind: .trailingCharacters, message: "trailing characters after JSON object", column: 13),
        Case(line: #"{"step": 1}{"step": 2}"#, kind: .trailingCharacters, message: "trailing characters after JSON object", column: 12),
        Case(line: #"[1, 2]"#, kind: .syntax, message: "expected a JSON object, found '['", column: 1),
        Case(line: #"step=1"#, kind: .syntax, message: "expected a JSON object, found 's'", column: 1),
        Case(line: "   ", kind: .syntax, message: "empty line", column: 4),
        Case(line: "", kind: .syntax, message: "empty line", column: 1),
        Case(line: #"{"step": 1,}"#, kind: .syntax, message: "expected a key string, found '}'", column: 12),
        Case(line: #"{"step" 1}"#, kind: .syntax, message: #"expected ':' after the key "step", found '1'"#, column: 9),
        Case(line: #"{step: 1}"#, kind: .syntax, message: "expected a key string, found 's'", column: 2),
        Case(line: #"{"step": 1"#, kind: .syntax, message: "unexpected end of line", column: 11),
        Case(line: #"{"step": 1, "x": [1, 2"#, kind: .syntax, message: "unexpected end of line", column: 23),
        Case(line: #"{"step": 1, "x": {"a" 1}}"#, kind: .syntax, message: "expected ':' after a key, found '1'", column: 23),
        Case(line: #"{"step": 1, "x": [1 2]}"#, kind: .syntax, message: "expected ',' or ']', found '2'", column: 21),
        Case(line: #"{"step": 1, "rewards": [1 2]}"#, kind: .syntax, message: #"expected ',' or ']' in "rewards", found '2'"#, column: 27),
        Case(line: #"{"step": 1, "x": tru}"#, kind: .syntax, message: "expected a value, found 't'", column: 18),
        Case(
            line: #"{"step": 1, "x": "# + String(repeating: "[", count: 70) + String(repeating: "]", count: 70) + "}",
            kind: .nestingTooDeep, message: "arrays and objects nest deeper than 64 levels", column: 82),
    ]

    @Test(arguments: cases)
    func rejected(_ testCase: Case) throws {
        let error = try #require(parseError(testCase.line))
        #expect(error.kind == testCase.kind)
        #expect(error.message == testCase.message)
        #expect(error.column == testCase.column)
        #expect(error.key == testCase.key)
        #expect(error.description == "\(testCase.message) (column \(testCase.column))")
    }

    @Test func invalidUTF8InAKey() {
        var parser = MetricsLineParser()
        var bytes = Array(#"{"step": 1, "ab": 1}"#.utf8)
        bytes[14] = 0xFF
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(MetricsLineError) in try parser.parse(buffer) }
        }
        guard case .failure(let error) = result else {
            Issue.record("a key that is not UTF-8 should be rejected")
            return
        }
        #expect(error.kind == .invalidUTF8)
        #expect(error.message == "key is not valid UTF-8")
        #expect(error.column == 13)
    }

    @Test func aNULByteIsRejected() {
        #expect(parseError("{\"step\": 1,\u{0} \"x\": 1}")?.kind == .syntax)
    }

    @Test func kindsDescribeThemselves() {
        #expect(MetricsLineError.Kind.typeMismatch.description == "type mismatch")
        #expect(MetricsLineError.Kind.missingStep != .invalidStep)
    }
}
