import RLWatchCore
import Testing

@testable import RLWatchIngest

/// A user's `metrics.keys` on top of the built-in aliases: the JSONL parser, the flat-map path
/// (trainer_state.json, TensorBoard) and the key note agree.
@Suite struct MetricKeyMapTests {
    static let overrides = [
        "my/entropy": "entropy", "train/zero_std": "frac_reward_zero_std", "actor/ppo_kl": "", "kl": "loss",
    ]

    static func parse(_ line: String, _ keyMap: MetricKeyMap) throws -> MetricStep {
        var parser = MetricsLineParser(keyMap: keyMap)
        return try parser.parse(line)
    }

    @Test func aUserMappingBeatsTheCanonicalNameAndEveryAlias() throws {
        let keyMap = MetricKeyMap(overrides: Self.overrides)
        let line = #"{"step": 3, "entropy": 2.0, "actor/entropy": 1.5, "my/entropy": 0.25}"#
        #expect(try Self.parse(line, keyMap).entropy == 0.25)
        #expect(try Self.parse(line, .builtIn).entropy == 2.0)
        let flat = keyMap.makeStep(step: 3, values: ["entropy": 2.0, "actor/entropy": 1.5, "my/entropy": 0.25])
        #expect(flat.entropy == 0.25)
    }

    @Test func aMappingToADetectorExtraRenamesTheKey() throws {
        let keyMap = MetricKeyMap(overrides: Self.overrides)
        let step = try Self.parse(#"{"step": 1, "data": {"train/zero_std": 0.97, "other": 1}}"#, keyMap)
        #expect(step.fracRewardZeroStd == 0.97)
        #expect(step.extras == ["frac_reward_zero_std": 0.97, "other": 1])
        #expect(keyMap.makeStep(step: 1, values: ["train/zero_std": 0.97]).fracRewardZeroStd == 0.97)
    }

    @Test func nullSwitchesABuiltInAliasOffAndARemapMovesIt() throws {
        let keyMap = MetricKeyMap(overrides: Self.overrides)
        let step = try Self.parse(#"{"step": 1, "actor/ppo_kl": 0.001, "kl": 0.5}"#, keyMap)
        #expect(step.klDivergence == nil)
        #expect(step.loss == 0.5)
        #expect(step.extras == ["actor/ppo_kl": 0.001])
        #expect(keyMap.binding(forKey: "actor/ppo_kl") == nil)
    }

    @Test func structuralKeysKeepTheirMeaning() throws {
        let keyMap = MetricKeyMap(overrides: ["step": "loss", "rewards": "entropy"])
        let step = try Self.parse(#"{"step": 7, "rewards": [1, 0]}"#, keyMap)
        #expect(step.step == 7)
        #expect(step.rewards == [1, 0])
        #expect(step.loss == nil)
    }

    @Test func theKeyNoteMarksUserMappings() {
        let keyMap = MetricKeyMap(overrides: Self.overrides)
        #expect(
            keyMap.describeSources(forKeys: ["my/entropy", "entropy", "train/zero_std", "grad_norm"])
                == "entropy ← my/entropy (rlwatch.yaml), grad_norm ← grad_norm, frac_reward_zero_std ← train/zero_std (rlwatch.yaml)")
        #expect(
            MetricKeyMap.builtIn.describeSources(forKeys: ["actor/ppo_kl"])
                == "kl_divergence ← actor/ppo_kl (old-vs-new policy KL: no reference KL logged)")
    }

    @Test func openRLHFGroupRewardStdIsTheRewardStd() throws {
        let step = try Self.parse(#"{"step": 1, "group_reward_std": 0.4, "reward": 0.6}"#, .builtIn)
        #expect(step.rewardStd == 0.4)
        #expect(step.rewardMean == 0.6)
    }

    @Test func trainerStateEntriesHonourTheMap() throws {
        let line = RawMetricsLine(step: 2, values: ["my/entropy": 0.3, "entropy": 9])
        #expect(MetricKeyMap(overrides: Self.overrides).makeStep(step: line.step, values: line.values).entropy == 0.3)
    }
}
