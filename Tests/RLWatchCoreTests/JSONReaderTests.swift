import RLWatchCore
import Testing

/// The one JSON reader: its strict mode (the webhook body check) and its Python-lenient mode (ingest, the
/// store's JSON columns, trainer_state.json).
@Suite struct JSONReaderTests {
    @Test(arguments: [
        #"{}"#, #"[]"#, #"{"a":[1,-2.5e3,true,false,null,"x\u00e9\n"]}"#, " 0 ", #""s""#,
    ])
    func strictAccepts(_ text: String) {
        #expect(JSONReader.problem(in: text) == nil)
        #expect((try? JSONReader.parse(text, mode: .strict)) != nil)
    }

    @Test(arguments: [
        #"{"a": NaN}"#, #"{"a": Infinity}"#, #"{"a": -Infinity}"#, #"[1,]"#, #"{"a":1,}"#, #"{'a':1}"#, "01",
        #"{"a":1} x"#, "", "\"tab\tinside\"", #"{"a" 1}"#, "[1 2]", "+1", ".5", "1.",
    ])
    func strictRejects(_ text: String) {
        #expect(JSONReader.problem(in: text) != nil)
        #expect(throws: JSONError.self) { try JSONReader.parse(text, mode: .strict) }
    }

    @Test func lenientAcceptsPythonsNonFiniteTokensOnly() throws {
        let value = try JSONReader.parse(#"{"a": NaN, "b": Infinity, "c": -Infinity, "d": "NaN"}"#, mode: .pythonLenient)
        #expect(value["a"]?.number?.isNaN == true)
        #expect(value["b"] == .double(.infinity))
        #expect(value["c"] == .double(-.infinity))
        #expect(value["d"] == .string("NaN") && value["d"]?.number?.isNaN == true)
        for text in [#"[1,]"#, "nan", "-inf", "[NaN1]", "+1", #"{"a": -Infinityx}"#] {
            #expect(throws: JSONError.self, "\(text)") { try JSONReader.parse(text, mode: .pythonLenient) }
        }
    }

    @Test func valuesKeepOrderTypesAndExactNumbers() throws {
        let text = #"{"z": 1, "a": [2.5, -0, 1e2, 9223372036854775808, 0.1], "m": {"s": "\ud83d\ude00\"", "t": true}, "n": null}"#
        let value = try JSONReader.parse(text, mode: .strict)
        guard case .object(let members) = value else {
            Issue.record("not an object: \(value)")
            return
        }
        #expect(members.map(\.0) == ["z", "a", "m", "n"])
        #expect(value["z"] == .int(1))
        #expect(value["a"] == .array([.double(2.5), .int(0), .double(100), .double(9_223_372_036_854_775_808), .double(0.1)]))
        #expect(value["m"]?["s"] == .string("😀\""))
        #expect(value["m"]?["t"] == .bool(true) && value["n"] == .null)
        // The last of a repeated key wins, as in Python's json.
        #expect(try JSONReader.parse(#"{"k": 1, "k": 2}"#, mode: .strict)["k"] == .int(2))
    }

    @Test func errorsNameTheLineTheColumnAndTheKey() throws {
        let document = "{\n  \"a\": 1,\n  \"b\": tru\n}"
        let error = try #require(JSONReader.problem(in: document))
        #expect(error.line == 3 && error.column == 8, "\(error)")
        #expect(error.description == "expected a value, found 't' (line 3, column 8)")

        let number = try #require(JSONReader.problem(in: #"{"loss": 1.e5}"#))
        #expect(number.kind == .invalidNumber && number.description.contains("1.e5"))

        let end = try #require(JSONReader.problem(in: #"{"a": [1, 2"#))
        #expect(end.message == "unexpected end of input" && end.line == 1 && end.column == 12)

        let trailing = try #require(JSONReader.problem(in: "[1]\n]"))
        #expect(trailing.kind == .trailingCharacters && trailing.line == 2 && trailing.column == 1)

        let utf8 = [UInt8(ascii: "\""), 0xFF, UInt8(ascii: "\"")]
        #expect(throws: JSONError.self) { try JSONReader.parse(utf8, mode: .strict) }
    }

    @Test func nestingIsBounded() throws {
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(JSONReader.problem(in: deep) == nil)
        let error = try #require(throws: JSONError.self) { try JSONReader.parse(deep, mode: .strict) }
        #expect(error.kind == .nestingTooDeep)
    }

    @Test func parsedValuesSerializeBack() throws {
        let text = #"{"a":[1,2.5,"x\n",null,true],"b":{"c":"NaN"}}"#
        #expect(try JSONReader.parse(text, mode: .strict).serialized() == text)
    }
}
