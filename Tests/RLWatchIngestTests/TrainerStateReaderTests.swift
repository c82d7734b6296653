import Foundation
import RLWatchCore
import RLWatchIngest
import Testing

/// `trainer_state.json` documents: the real TRL fixture, entries that are not training logs, and
/// malformed documents whose errors name the file and the entry.
@Suite struct TrainerStateReaderTests {
    /// Writes `contents` to a fresh temporary file named `name` and returns its path.
    static func write(_ contents: String, name: String = "trainer_state.json") throws -> String {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("rlwatch-trainer-state-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent(name)
        try Data(contents.utf8).write(to: url)
        return url.path
    }

    static func steps(_ path: String) throws -> [MetricStep] {
        var steps: [MetricStep] = []
        try TrainerStateReader(path: path).forEachStep { steps.append($0) }
        return steps
    }

    static func error(_ contents: String) throws -> TrainerStateError {
        let path = try write(contents)
        do {
            _ = try steps(path)
        } catch let error as TrainerStateError {
            return error
        }
        throw CancellationError()
    }

    @Test func realSparseRewardFixtureMatchesTheJSONLMapping() throws {
        let steps = try Self.steps(RealRunDetectionTests.sparseReward)
        // The test loader's mapping, except that Foundation's NSDecimalNumber.doubleValue can be an ulp off.
        let loaded = try RealRunDetectionTests.trainerStateSteps(RealRunDetectionTests.sparseReward)
        #expect(steps.count == loaded.count)
        for (step, other) in zip(steps, loaded) {
            #expect(step.step == other.step && Set(step.extras.keys) == Set(other.extras.keys))
            for metric in MetricName.allCases {
                #expect((step[metric] == nil) == (other[metric] == nil))
                if let value = step[metric], let otherValue = other[metric] {
                    #expect(abs(value - otherValue) <= 1e-15 * max(1, abs(value)), "\(metric) at \(step.step)")
                }
            }
        }
        #expect(steps.map(\.step) == Array(1...100))
        let first = try #require(steps.first)
        #expect(first.entropy == 0.08739477023482323)
        #expect(first.klDivergence == 0)
        #expect(first.rewardMean == 0.0625 && first.rewardStd == 0.25)
        #expect(first.clipFraction == 0)
        #expect(first.fracRewardZeroStd == 0.75)
    }

    @Test func firstEntryReportsTheLoggedKeys() throws {
        var keys: Set<String> = []
        let summary = try TrainerStateReader(path: RealRunDetectionTests.sparseReward).forEachStep(
            firstEntry: { keys = Set($0.values.keys) }, { _ in })
        #expect(summary.entries == 100 && summary.steps == 100 && summary.skippedEntries == 0)
        #expect(keys.contains("frac_reward_zero_std") && keys.contains("kl") && !keys.contains("step"))
        #expect(
            FrameworkKeyMap.describeSources(forKeys: keys)
                == "entropy ← entropy, kl_divergence ← kl, reward_mean ← reward, reward_std ← reward_std, "
                + "loss ← loss, grad_norm ← grad_norm, learning_rate ← learning_rate, "
                + "clip_fraction ← clip_ratio/region_mean")
    }

    @Test func summaryAndEvaluationEntriesAreSkipped() throws {
        let document = """
            {"global_step": 3, "log_history": [
              {"step": 1, "epoch": 0.1, "loss": 0.5, "grad_norm": NaN, "entropy": 0.2},
              {"step": 2, "epoch": 0.2, "eval_loss": 0.4, "eval_runtime": 3.1},
              {"step": 3, "loss": 0.4, "kl": null, "reward": "Infinity", "note": "text", "grad_norm": -Infinity},
              {"step": 3, "epoch": 0.3, "train_runtime": 100.0, "train_loss": 0.45, "total_flos": 0.0,
               "train_samples_per_second": 1.0, "train_steps_per_second": 0.1}
            ]}
            """
        let path = try Self.write(document)
        var steps: [MetricStep] = []
        let summary = try TrainerStateReader(path: path).forEachStep { steps.append($0) }
        #expect(summary.entries == 4 && summary.steps == 2 && summary.skippedEntries == 2)
        #expect(steps.map(\.step) == [1, 3])
        #expect(steps[0].gradNorm?.isNaN == true && steps[0].entropy == 0.2 && steps[0].extras["epoch"] == 0.1)
        #expect(steps[1].klDivergence == nil && steps[1].rewardMean == .infinity && steps[1].gradNorm == -.infinity)
        #expect(steps[1].extras["note"] == nil)
    }

    @Test func nonFiniteTokensInsideStringsAreLeftAlone() throws {
        let document = #"{"log_history": [{"step": 1, "loss": 0.5, "tag": "NaN Infinity -Infinity \"NaN\""}]}"#
        let steps = try Self.steps(try Self.write(document))
        #expect(steps.count == 1 && steps[0].loss == 0.5)
    }

    @Test func errorsNameTheFileAndTheEntry() throws {
        let missingStep = try Self.error(#"{"log_history": [{"step": 1, "loss": 0.5}, {"loss": 0.4}]}"#)
        #expect(missingStep.entryIndex == 1)
        #expect(missingStep.description.hasSuffix("trainer_state.json: log_history[1]: no \"step\" (every log_history entry has one)"))

        let badStep = try Self.error(#"{"log_history": [{"step": "one", "loss": 0.5}]}"#)
        #expect(badStep.entryIndex == 0 && badStep.description.contains("\"step\" must be an integer, got a string"))

        let fractionalStep = try Self.error(#"{"log_history": [{"step": 1.5, "loss": 0.5}]}"#)
        #expect(fractionalStep.description.contains("\"step\" must be an integer"))

        let badValue = try Self.error(#"{"log_history": [{"step": 1}, {"step": 2, "loss": "high"}]}"#)
        #expect(badValue.entryIndex == 1 && badValue.step == 2)
        #expect(badValue.description.hasSuffix("log_history[1] (step 2): expected a number for \"loss\", got a string"))

        let notObject = try Self.error(#"{"log_history": [[1, 2]]}"#)
        #expect(notObject.description.contains("log_history[0]: expected an object, got an array"))

        let noHistory = try Self.error(#"{"global_step": 3}"#)
        #expect(noHistory.isNotTrainerState && noHistory.entryIndex == nil)
        #expect(noHistory.description.contains("no \"log_history\" key"))

        let historyNotArray = try Self.error(#"{"log_history": {"step": 1}}"#)
        #expect(historyNotArray.description.contains("\"log_history\" is not an array"))

        let topLevelArray = try Self.error(#"[{"step": 1}]"#)
        #expect(topLevelArray.description.contains("the top level is not a JSON object"))

        let truncated = try Self.error(#"{"log_history": [{"step": 1, "loss": 0.5"#)
        #expect(truncated.description.contains("not valid JSON"))
    }

    @Test func aMissingFileCannotBeOpened() throws {
        do {
            _ = try Self.steps("/nonexistent/trainer_state.json")
            Issue.record("expected an error")
        } catch let error as TrainerStateError {
            #expect(error.isCannotOpen)
            #expect(error.description == "/nonexistent/trainer_state.json: cannot open: No such file or directory")
        }
    }

    @Test func formatDetection() throws {
        #expect(TrainerStateReader.isTrainerState(path: "/nonexistent/trainer_state.json"))
        #expect(TrainerStateReader.isTrainerState(path: RealRunDetectionTests.sparseReward))
        #expect(TrainerStateReader.isTrainerState(path: try Self.write(#"{"log_history": []}"#, name: "state.json")))
        #expect(!TrainerStateReader.isTrainerState(path: try Self.write(#"{"step": 1, "loss": 0.5}"#, name: "m.json")))
        #expect(!TrainerStateReader.isTrainerState(path: try Self.write(#"{"log_history": []}"#, name: "m.jsonl")))
        #expect(!TrainerStateReader.isTrainerState(path: RealFixture.veRL))
    }
}
