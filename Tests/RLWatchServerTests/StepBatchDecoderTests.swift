import RLWatchCore
import RLWatchServer
import Testing

/// The batch body's framing, read by the shared JSON reader: each error names the step (its index), and where a
/// step is malformed the step parser names its column and key.
@Suite struct StepBatchDecoderTests {
    let decoder = StepBatchDecoder(maxRewardsPerStep: 64, maxStepsPerBatch: 10)

    func failure(_ body: String, _ format: StepBatchDecoder.Format = .jsonArray) -> APIError? {
        do {
            _ = try decoder.decode(Array(body.utf8), format: format)
            return nil
        } catch {
            return error
        }
    }

    @Test func arraysAndNDJSONGiveTheSameSteps() throws {
        let array = try decoder.decode(Array(#" [ {"step": 1, "loss": NaN, "x": [1, {"y": 2}]} , {"step": 2, "loss": 0.5} ] "#.utf8), format: .sniff)
        let lines = try decoder.decode(Array("{\"step\": 1, \"loss\": NaN}\n\n{\"step\": 2, \"loss\": 0.5}\n".utf8), format: .ndjson)
        #expect(array.map(\.step) == [1, 2] && lines.map(\.step) == [1, 2])
        #expect(array[0].loss?.isNaN == true && lines[1].loss == 0.5)
        #expect(try decoder.decode(Array("[]".utf8), format: .jsonArray).isEmpty)
    }

    @Test func framingErrorsNameTheStep() throws {
        let notClosed = try #require(failure(#"[{"step": 1}, {"step": 2}"#))
        #expect(notClosed.message == "the JSON array is not closed (step 1 runs to the end of the body)" && notClosed.index == 1)

        let cut = try #require(failure(#"[{"step": 1}, {"step": "#))
        #expect(cut.message.hasPrefix("the JSON array is not closed (step 1") && cut.index == 1)

        let separator = try #require(failure(#"[{"step": 1} {"step": 2}]"#))
        #expect(separator.message == "unexpected `{` after step 0" && separator.index == 0)

        let after = try #require(failure(#"[{"step": 1}] x"#))
        #expect(after.message == "unexpected data after the JSON array")

        let notArray = try #require(failure(#"{"step": 1}"#))
        #expect(notArray.message.hasPrefix("expected a JSON array of step objects"))
    }

    @Test func aMalformedStepIsReportedByItsKeyAndColumn() throws {
        let number = try #require(failure(#"[{"step": 1}, {"step": 2, "loss": 1.e5}]"#))
        #expect(number.index == 1 && number.field == "loss", "\(number)")
        #expect(number.message == #"step 1 (column 21): invalid number for "loss": 1.e5"#, "\(number)")

        let type = try #require(failure("{\"step\": 1}\n{\"step\": 2, \"loss\": \"high\"}", .ndjson))
        #expect(type.message == #"step 1 (line 2, column 21): expected a number for "loss", got a string"#, "\(type)")
        #expect(type.field == "loss")
    }
}
