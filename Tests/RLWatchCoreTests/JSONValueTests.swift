import RLWatchCore
import Testing

/// The one JSON value type: the accessors the API, the dashboard and the eval read with, normalisation for
/// comparing overrides, and the `Codable` state helper's NaN policy.
@Suite struct JSONValueTests {
    /// Doubles keep what tells them apart: a fraction or exponent (so a reader sees a double, not an int), the sign
    /// of zero, and the non-finite values as strings.
    @Test func doublesAreWrittenInTheirShortestRoundTripForm() throws {
        let values: [(Double, String)] = [
            (3, "3.0"), (-0.0, "-0.0"), (0.1, "0.1"), (1e-5, "1e-05"), (123_456_789_012_345, "123456789012345.0"),
            (1e20, "1e+20"), (.nan, "\"NaN\""), (.infinity, "\"Infinity\""), (-.infinity, "\"-Infinity\""),
        ]
        for (value, text) in values {
            #expect(JSONValue.double(value).serialized() == text, "\(value)")
            if value.isFinite {
                // Read back as the same double, sign of zero included (equality alone would take 0.0 for -0.0).
                let read = try JSONReader.parse(text, mode: .strict)
                #expect(read == .double(value) && read.serialized() == text, "\(text)")
            }
        }
        let metricValues: MetricValues = ["zero": .double(-0.0), "n": .int(2)]
        #expect(metricValues.json.serialized() == #"{"zero":-0.0,"n":2}"#)
    }

    @Test func normalizedSortsKeysAtEveryDepthAndKeepsARepeatedKeysLastValue() throws {
        let a = try JSONReader.parse(#"{"b": {"y": [{"q": 1, "p": 2}], "x": 1}, "a": 1, "a": 2}"#, mode: .strict)
        let b = try JSONReader.parse(#"{"a": 2, "b": {"x": 1, "y": [{"p": 2, "q": 1}]}}"#, mode: .strict)
        #expect(a != b, "equality keeps member order")
        #expect(a.normalized == b.normalized)
        #expect(a.normalized.serialized() == #"{"a":2,"b":{"x":1,"y":[{"p":2,"q":1}]}}"#)
        #expect(a.members?["a"] == 2 && a.members?.count == 2)
        // Arrays keep their order: [1, 2] and [2, 1] are different lists.
        #expect(JSONValue.array([1, 2]).normalized != JSONValue.array([2, 1]).normalized)
    }

    @Test func accessorsAnswerOnlyForTheirType() throws {
        let value = try JSONReader.parse(#"{"i": 12, "w": 12.0, "f": 12.5, "big": 1e300, "s": "x", "l": [1, "y"]}"#, mode: .strict)
        #expect(value["i"]?.integer == 12 && value["w"]?.integer == 12)
        #expect(value["f"]?.integer == nil && value["big"]?.integer == nil && value["s"]?.integer == nil)
        #expect(value["s"]?.text == "x" && value["i"]?.text == nil)
        #expect(value["l"]?.elements?.count == 2 && value["l"]?[1]?.text == "y")
        #expect(value["l"]?[2] == nil && value[0] == nil && value["l"]?.members == nil)
        // Ints and floats stay distinct: `8080.0` is not the integer 8080 (as in YAML).
        #expect(value["w"] == .double(12) && value["w"] != .int(12))
    }

    @Test func literalsSpellTheValuesTheyLookLike() {
        let value: JSONValue = ["a": [1, 2.5, true, "s"], "b": ["c": .null]]
        #expect(value.serialized() == #"{"a":[1,2.5,true,"s"],"b":{"c":null}}"#)
    }

    struct Pending: Codable, Equatable {
        var step: Int
        var values: [String: Double]
    }

    /// A default `JSONEncoder` refuses NaN, and a watch's pending step with a NaN loss lost its saved position.
    @Test func stateJSONKeepsNonFiniteNumbersAsStrings() throws {
        let state = Pending(step: 7, values: ["loss": .nan, "kl": .infinity, "grad": -.infinity, "entropy": 0.5])
        let text = try #require(StateJSON.encode(state))
        #expect(text == #"{"step":7,"values":{"entropy":0.5,"grad":"-Infinity","kl":"Infinity","loss":"NaN"}}"#)
        let back = try StateJSON.decode(Pending.self, from: text)
        #expect(back.step == 7 && back.values["loss"]?.isNaN == true)
        #expect(back.values["kl"] == .infinity && back.values["grad"] == -.infinity && back.values["entropy"] == 0.5)
        #expect(JSONReader.problem(in: text) == nil, "strict JSON")
        #expect(throws: (any Error).self) { try StateJSON.decode(Pending.self, from: #"{"step": 7}"#) }
    }
}
