import RLWatchCore
import Testing

/// `metrics.keys`: the user's own key mappings, validated like every other key.
@Suite struct MetricsConfigTests {
    @Test func mappingsParseAndNullMeansUnmapped() throws {
        let yaml = """
            metrics:
              keys:
                my/entropy: entropy
                "train/zero": frac_reward_zero_std
                actor/ppo_kl: null
            """
        let config = try RLWatchConfig.parse(yaml: yaml).config
        #expect(config.metrics.keys == ["my/entropy": "entropy", "train/zero": "frac_reward_zero_std", "actor/ppo_kl": ""])
    }

    @Test func badMappingsAreReportedWithFileLineAndKey() {
        let yaml = """
            metrics:
              keys:
                my/entropy: entropie
                step: loss
                x: 3
            """
        let error = #expect(throws: ConfigError.self) { try RLWatchConfig.parse(yaml: yaml, file: "cfg.yaml") }
        let lines = error?.issues.map(\.description) ?? []
        #expect(lines.count == 3, "\(lines)")
        #expect(lines.first?.hasPrefix("cfg.yaml:3:17: metrics.keys.my/entropy must be one of entropy, kl_divergence,") == true, "\(lines)")
        #expect(lines.first?.hasSuffix("(got \"entropie\"); did you mean `entropy`?") == true, "\(lines)")
        #expect(lines.dropFirst().first == "cfg.yaml:4:5: metrics.keys.step: `step` gives a metrics line its structure and cannot be mapped")
        #expect(lines.last?.hasPrefix("cfg.yaml:5:8: metrics.keys.x must be a metric name or null") == true, "\(lines)")
        #expect(error?.issues.first?.kind == .invalidChoice)
        #expect(error?.issues.dropFirst().first?.kind == .reservedKey)
    }

    @Test func overridesAndJSONRoundTrip() throws {
        var config = RLWatchConfig()
        config.metrics.keys = ["a/b": "loss"]
        #expect(config.toJSON().contains(#""metrics":{"keys":{"a/b":"loss"}}"#))
        let applied = try RLWatchConfig().applying(overrides: ["metrics": ["keys": ["a/b": "loss"]]])
        #expect(applied.metrics.keys == ["a/b": "loss"])
    }
}
