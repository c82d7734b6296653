import Testing

@testable import RLWatchIngest

@Suite struct MetricsLineErrorTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let line: String
        let kind: MetricsLineError.Kind
        let column: Int
        let key: String?
        let message: String

        init(
            _ line: String, _ kind: MetricsLineError.Kind, _ column: Int, key: String? = nil, _ message: String
        ) {
            self.line = line
            self.kind = kind
            self.column = column
            self.key = key
            self.message = message
        }

        var testDescription: String { line }
    }

    static let cases: [Case] = [
        // Types of metric values, naming the key.
        Case(#"{"step": 1, "loss": "abc"}"#, .typeMismatch, 21, key: "loss",
             #"expected a number for "loss", got a string"#),
        Case(#"{"step": 1, "loss": true}"#, .typeMismatch, 21, key: "loss",
             #"expected a number for "loss", got a boolean"#),
        Case(#"{"step": 1, "actor/kl_loss": false}"#, .typeMismatch, 30, key: "actor/kl_loss",
             #"expected a number for "actor/kl_loss", got a boolean"#),
        Case(#"{"step": 1, "data": {"entropy": {}}}"#, .typeMismatch, 33, key: "entropy",
             #"expected a number for "entropy", got an object"#),
        Case(#"{"step": 1, "grad_norm": [1]}"#, .typeMismatch, 26, key: "grad_norm",
             #"expected a number for "grad_norm", got an array"#),
        Case(#"{"step": 1, "loss": "0.5"}"#, .typeMismatch, 21, key: "loss",
             #"expected a number for "loss", got a string"#),
        Case(#"{"step": 1, "rewards": "1,2"}"#, .typeMismatch, 24, key: "rewards",
             #"expected an array of numbers for "rewards", got a string"#),
        Case(#"{"step": 1, "rewards": 3}"#, .typeMismatch, 24, key: "rewards",
             #"expected an array of numbers for "rewards", got a number"#),
        Case(#"{"step": 1, "rewards": [1, null]}"#, .typeMismatch, 28, key: "rewards",
             #"expected a number at "rewards"[1], got null"#),
        Case(#"{"step": 1, "rewards": [1, "a"]}"#, .typeMismatch, 28, key: "rewards",
             #"expected a number at "rewards"[1], got a string"#),
        Case(#"{"step": 1, "rewards": [[1]]}"#, .typeMismatch, 25, key: "rewards",
             #"expected a number at "rewards"[0], got an array"#),
        // The step.
        Case(#"{"loss": 1}"#, .missingStep, 1, key: "step", #"missing "step""#),
        Case(#"{}"#, .missingStep, 1, key: "step", #"missing "step""#),
        Case(#"{"step": 1.5}"#, .invalidStep, 10, key: "step", #""step" must be an integer, got 1.5"#),
        Case(#"{"step": "5"}"#, .invalidStep, 10, key: "step", #""step" must be an integer, got a string"#),
        Case(#"{"step": null}"#, .invalidStep, 10, key: "step", #""step" must be an integer, got null"#),
        Case(#"{"step": true}"#, .invalidStep, 10, key: "step", #""step" must be an integer, got a boolean"#),
        Case(#"{"step": NaN}"#, .invalidStep, 10, key: "step", #""step" must be an integer, got NaN"#),
        Case(#"{"step": -Infinity}"#, .invalidStep, 10, key: "step", #""step" must be an integer, got -Infinity"#),
        Case(#"{"step": [1]}"#, .invalidStep, 10, key: "step", #""step" must be an integer, got an array"#),
        Case(#"{"step": 9223372036854775808}"#, .invalidStep, 10, key: "step",
             #""step" must be an integer, got 9223372036854775808"#),
        Case(#"{"step": 1e19}"#, .invalidStep, 10, key: "step", #""step" must be an integer, got 1e19"#),
        Case(#"{"step": 01}"#, .invalidNumber, 10, key: "step", #"invalid number for "step": 01"#),
        // Strings.
        Case(#"{"step": 1, "loss"#, .unterminatedString, 13, "unterminated string"),
        Case(#"{"step": 1, "name": "abc}"#, .unterminatedString, 21, "unterminated string"),
        Case(#"{"step": 1, "a\"#, .unterminatedString, 13, "unterminated string"),
        Case(#"{"step": 1, "a\x": 1}"#, .invalidEscape, 15, #"invalid escape "\x" in a string"#),
        Case(#"{"step": 1, "a\u12G4": 1}"#, .invalidEscape, 15, #"invalid \u escape: expected 4 hex digits"#),
        Case(#"{"step": 1, "a\ud83d": 1}"#, .invalidEscape, 15, #"invalid \u escape: unpaired UTF-16 surrogate"#),
        Case(#"{"step": 1, "a\ude00x": 1}"#, .invalidEscape, 15, #"invalid \u escape: unpaired UTF-16 surrogate"#),
        Case("{\"step\": 1, \"a\tb\": 1}", .syntax, 15, "control character U+0009 in a string (escape it)"),
        // Numbers.
        Case(#"{"step": 1, "loss": 1.}"#, .invalidNumber, 21, key: "loss", #"invalid number for "loss": 1."#),
        Case(#"{"step": 1, "loss": -}"#, .invalidNumber, 21, key: "loss", #"invalid number for "loss": -"#),
        Case(#"{"step": 1, "x": 1e}"#, .invalidNumber, 18, key: "x", #"invalid number for "x": 1e"#),
        Case(#"{"step": 1, "x": .5}"#, .syntax, 18, #"expected a value, found '.'"#),
        Case(#"{"step": 1, "x": +1}"#, .syntax, 18, #"expected a value, found '+'"#),
        Case(#"{"step": 1, "x": nan}"#, .syntax, 18, #"expected a value, found 'n'"#),
        Case(#"{"step": 1, "x": Inf}"#, .syntax, 18, #"expected a value, found 'I'"#),
        Case(#"{"step": 1, "x": 1.5x}"#, .syntax, 21, #"expected ',' or '}' after the value of "x", found 'x'"#),
        // Structure.
        Case(#"{"step": 1} x"#, .trailingCharacters, 13, "trailing characters after JSON object"),
        Case(#"{"step": 1}{"step": 2}"#, .trailingCharacters, 12, "trailing characters after JSON object"),
        Case(#"[1, 2]"#, .syntax, 1, "expected a JSON object, found '['"),
        Case(#"step=1"#, .syntax, 1, "expected a JSON object, found 's'"),
        Case("   ", .syntax, 4, "empty line"),
        Case("", .syntax, 1, "empty line"),
        Case(#"{"step": 1,}"#, .syntax, 12, "expected a key string, found '}'"),
        Case(#"{"step" 1}"#, .syntax, 9, #"expected ':' after the key "step", found '1'"#),
        Case(#"{step: 1}"#, .syntax, 2, "expected a key string, found 's'"),
        Case(#"{"step": 1"#, .syntax, 11, "unexpected end of line"),
        Case(#"{"step": 1, "x": [1, 2"#, .syntax, 23, "unexpected end of line"),
        Case(#"{"step": 1, "x": {"a" 1}}"#, .syntax, 23, "expected ':' after a key, found '1'"),
        Case(#"{"step": 1, "x": [1 2]}"#, .syntax, 21, "expected ',' or ']', found '2'"),
        Case(#"{"step": 1, "rewards": [1 2]}"#, .syntax, 27, #"expected ',' or ']' in "rewards", found '2'"#),
        Case(#"{"step": 1, "x": tru}"#, .syntax, 18, "expected a value, found 't'"),
        Case(
            #"{"step": 1, "x": "# + String(repeating: "[", count: 70) + String(repeating: "]", count: 70) + "}",
            .nestingTooDeep, 82, "arrays and objects nest deeper than 64 levels"),
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
