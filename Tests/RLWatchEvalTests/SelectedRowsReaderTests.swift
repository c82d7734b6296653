import Foundation
import RLWatchCore
import RLWatchIngest
import Testing

@Suite struct SelectedRowsReaderTests {
    func write(_ text: String, suffix: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rows-\(UUID().uuidString).\(suffix)").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func csvWithQuotesCRLFAndAHeaderReadsEveryRow() throws {
        let path = try write(
            "step,\"kl, per token\",reward_avg,note\r\n1,0.01,0.5,\"a \"\"quoted\"\" note\"\r\n2,nan,,x\r\n3,0.02,0.7,\r\n", suffix: "csv")
        let keyMap = MetricKeyMap(overrides: ["kl, per token": "kl_divergence", "reward_avg": "reward_mean"])
        let steps = try SelectedRowsReader(path: path, format: .csv, keyMap: keyMap).steps()
        #expect(steps.map(\.step) == [1, 2, 3])
        #expect(steps[0].klDivergence == 0.01 && steps[0].rewardMean == 0.5)
        #expect(steps[1].klDivergence?.isNaN == true && steps[1].rewardMean == nil)
        #expect(steps[2].rewardMean == 0.7)
    }

    @Test func aSelectionPicksLinesRowsAndTheStepKey() throws {
        let lines = [
            #"{"type": "rollout", "grpo_step": 1, "reward": 0.1}"#,
            #"{"type": "train", "grpo_step": 1, "optimizer_step": 1, "grad_norm": 0.5, "loss": NaN}"#,
            #"{"type": "train", "grpo_step": 1, "optimizer_step": 2, "grad_norm": 0.6}"#,
            #"{"type": "eval", "grpo_step": 1, "answer_accuracy": 0.2}"#,
            #"{"type": "train", "grpo_step": 2, "optimizer_step": 3, "data": {"grad_norm": 16384}}"#,
        ]
        let path = try write(lines.joined(separator: "\n"), suffix: "jsonl")
        let train = RowSelection(matches: ["type": .string("train")], stepKey: "optimizer_step")
        let steps = try SelectedRowsReader(path: path, format: .jsonl, selection: train).steps()
        #expect(steps.map(\.step) == [1, 2, 3])
        #expect(steps[0].loss?.isNaN == true)
        #expect(steps.map(\.gradNorm) == [0.5, 0.6, 16384])
        // Consecutive rows with the same step are one step, later values winning; a line range cuts the file.
        let byGRPOStep = RowSelection(lines: 1...3, stepKey: "grpo_step")
        let merged = try SelectedRowsReader(path: path, format: .jsonl, selection: byGRPOStep).steps()
        #expect(merged.count == 1 && merged[0].gradNorm == 0.6 && merged[0].rewardMean == 0.1)
    }

    @Test func aSelectedRowWithoutAStepNamesTheLine() throws {
        let path = try write("{\"step\": 1, \"kl\": 0.1}\n{\"kl\": 0.2}\n", suffix: "jsonl")
        #expect {
            try SelectedRowsReader(path: path, format: .jsonl, selection: RowSelection(lines: 1...2)).steps()
        } throws: { error in
            (error as? SelectedRowsError).map { $0.line == 2 && $0.description.contains("no integer \"step\"") } == true
        }
    }
}

@Suite struct SelectedRowsReaderErrorTests {
    func write(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rows-\(UUID().uuidString).csv").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func aBadRowNamesFileLineAndKeyAfterDeliveringEveryRowBeforeIt() throws {
        let path = try write("step,kl,note\n1,0.1,a\n2,0.2,b\n3,high,c\n4,0.4,d\n")
        var delivered: [Int] = []
        #expect {
            try SelectedRowsReader(path: path, format: .csv).forEachLine { delivered.append($0.step) }
        } throws: { error in
            (error as? SelectedRowsError)?.description == "\(path):4: \"kl\": expected a number, got \"high\""
        }
        #expect(delivered == [1, 2])
        // A text column that feeds no metric is fine.
        #expect(try SelectedRowsReader(path: try write("step,kl,note\n1,0.1,a\n"), format: .csv).lines().count == 1)
    }

    @Test func aRaggedRowStopsTheReadAfterTheRowsBeforeIt() throws {
        let path = try write("step,kl\n1,0.1\n2,0.2,9\n")
        var delivered: [Int] = []
        #expect(throws: SelectedRowsError.self) {
            try SelectedRowsReader(path: path, format: .csv).forEachLine { delivered.append($0.step) }
        }
        #expect(delivered == [1])
    }
}
