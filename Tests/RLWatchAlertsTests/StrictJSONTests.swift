import RLWatchAlerts
import Testing

@Suite struct StrictJSONTests {
    @Test(arguments: [
        #"{}"#, #"[]"#, #"{"a":[1,-2.5e3,true,false,null,"x\u00e9\n"]}"#, " 0 ", #""s""#,
    ])
    func accepts(_ text: String) {
        #expect(StrictJSON.isValid(text))
    }

    @Test(arguments: [
        #"{"a": NaN}"#, #"{"a": Infinity}"#, #"{"a": -Infinity}"#, #"[1,]"#, #"{"a":1,}"#, #"{'a':1}"#, "01",
        #"{"a":1} x"#, "", "\"tab\tinside\"", #"{"a" 1}"#, "[1 2]", "+1", ".5", "1.",
    ])
    func rejects(_ text: String) {
        #expect(!StrictJSON.isValid(text))
    }
}
