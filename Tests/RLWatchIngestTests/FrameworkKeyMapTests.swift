import RLWatchCore
import Testing

@testable import RLWatchIngest

@Suite struct FrameworkKeyMapTests {
    /// Every framework family: the keys it logs and the canonical metrics they map to.
    static let families: [(name: String, keys: [String: Double], expected: [MetricName: Double])] = [
        (
            "TRL GRPO",
            [
                "kl": 0.01, "entropy": 0.2, "reward": 0.9, "reward_std": 0.1, "loss": -0.008, "grad_norm": 0.5,
                "learning_rate": 4e-5, "clip_ratio/region_mean": 0.02,
            ],
            [
                .klDivergence: 0.01, .entropy: 0.2, .rewardMean: 0.9, .rewardStd: 0.1, .loss: -0.008, .gradNorm: 0.5,
                .learningRate: 4e-5, .clipFraction: 0.02,
            ]
        ),
        (
            "TRL GRPO < 0.17",
            ["clip_ratio": 0.03, "rewards/mean": 0.4, "rewards/std": 0.2],
            [.clipFraction: 0.03, .rewardMean: 0.4, .rewardStd: 0.2]
        ),
        (
            "TRL PPO",
            [
                "objective/entropy": 1.5, "objective/kl": 0.3, "policy/clipfrac_avg": 0.1, "loss/policy_avg": -0.2,
                "objective/scores": 0.7, "lr": 1e-6,
            ],
            [
                .entropy: 1.5, .klDivergence: 0.3, .clipFraction: 0.1, .loss: -0.2, .rewardMean: 0.7,
                .learningRate: 1e-6,
            ]
        ),
        (
            "rlwatch 0.5.1 TRL adapter",
            [
                "policy_entropy": 1, "kl_penalty": 2, "env/reward_mean": 3, "env/reward_std": 4, "advantages_std": 5,
                "policy_loss": 6, "clipfrac": 7, "gradient_norm": 8,
            ],
            [
                .entropy: 1, .klDivergence: 2, .rewardMean: 3, .rewardStd: 4, .advantageStd: 5, .loss: 6,
                .clipFraction: 7, .gradNorm: 8,
            ]
        ),
        (
            "veRL",
            [
                "actor/entropy": 0.2, "actor/kl_loss": 0.05, "actor/ppo_kl": 0.001, "actor/grad_norm": 0.03,
                "actor/pg_loss": 0.027, "actor/lr": 1e-5, "actor/pg_clipfrac": 0.0012, "critic/score/mean": 0.71,
                "critic/score/std": 0.3, "critic/rewards/mean": 0.69, "critic/rewards/std": 0.31, "actor/loss": 0.028,
            ],
            [
                .entropy: 0.2, .klDivergence: 0.05, .gradNorm: 0.03, .loss: 0.027, .learningRate: 1e-5,
                .clipFraction: 0.0012, .rewardMean: 0.71, .rewardStd: 0.3,
            ]
        ),
        (
            "veRL, KL in the reward",
            [
                "actor/reward_kl_penalty": 0.02, "actor/ppo_kl": 0.001, "critic/rewards/mean": 0.5,
                "critic/rewards/std": 0.2,
            ],
            [.klDivergence: 0.02, .rewardMean: 0.5, .rewardStd: 0.2]
        ),
        (
            "veRL, only the rollout KL",
            ["actor/ppo_kl": 0.001],
            [.klDivergence: 0.001]
        ),
        (
            "rlwatch 0.5.1 veRL adapter",
            ["actor/kl_divergence": 1, "training/kl_penalty": 2, "training/policy_loss": 3, "training/grad_norm": 4],
            [.klDivergence: 1, .loss: 3, .gradNorm: 4]
        ),
        (
            "OpenRLHF",
            [
                "entropy_loss": -1.25, "kl": 0.02, "ppo_kl": 0.001, "vllm_kl": 0.0001, "rollout/reward_mean": 0.6,
                "rollout/reward_std": 0.2, "policy_loss": 0.1, "actor_grad_norm": 0.9, "advantage_std": 1.1,
                "actor_lr": 5e-7, "return": 0.4, "response_length": 812,
            ],
            [
                .entropy: 1.25, .klDivergence: 0.02, .rewardMean: 0.6, .rewardStd: 0.2, .loss: 0.1, .gradNorm: 0.9,
                .advantageStd: 1.1, .learningRate: 5e-7,
            ]
        ),
        (
            "OpenRLHF, positive entropy_loss",
            ["entropy_loss": 0.75, "ppo_kl": 0.001, "vllm_kl": 0.5],
            [.entropy: 0.75, .klDivergence: 0.001]
        ),
        (
            "canonical",
            [
                "entropy": 1, "kl_divergence": 2, "reward_mean": 3, "reward_std": 4, "advantage_std": 5, "loss": 6,
                "grad_norm": 7, "learning_rate": 8, "clip_fraction": 9,
            ],
            [
                .entropy: 1, .klDivergence: 2, .rewardMean: 3, .rewardStd: 4, .advantageStd: 5, .loss: 6,
                .gradNorm: 7, .learningRate: 8, .clipFraction: 9,
            ]
        ),
    ]

    @Test(arguments: families.indices)
    func aliasFamily(index: Int) throws {
        let family = Self.families[index]
        let body = family.keys.map { "\"\($0.key)\": \($0.value)" }.joined(separator: ", ")
        let step = try parse("{\"step\": 1, \(body)}")
        for metric in MetricName.allCases {
            #expect(step[metric] == family.expected[metric], "\(family.name): \(metric)")
        }
        let mapped = Set(family.keys.keys.filter { FrameworkKeyMap.binding(forKey: $0) != nil })
        #expect(Set(step.extras.keys) == Set(family.keys.keys).subtracting(mapped), "\(family.name)")
        // The format-independent path agrees with the parser.
        #expect(FrameworkKeyMap.makeStep(step: 1, values: family.keys) == step, "\(family.name)")
    }

    @Test(arguments: [false, true])
    func priorityDoesNotDependOnKeyOrder(reversed: Bool) throws {
        var pairs = [
            ("actor/ppo_kl", 0.001), ("actor/kl_loss", 1.05), ("kl", 0.5), ("kl_divergence", 0.25),
            ("critic/rewards/mean", 0.1), ("critic/score/mean", 0.2),
            ("actor/pg_clipfrac", 0.3), ("clip_ratio/region_mean", 0.4),
        ]
        if reversed { pairs.reverse() }
        let body = pairs.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ")
        let step = try parse("{\"step\": 1, \(body)}")
        #expect(step.klDivergence == 0.25)
        #expect(step.rewardMean == 0.2)
        #expect(step.clipFraction == 0.4)
    }

    @Test func veRLPrefersTheReferenceKL() throws {
        let step = try parse(#"{"step": 1, "data": {"actor/ppo_kl": 0.55, "actor/kl_loss": 1.05}}"#)
        #expect(step.klDivergence == 1.05)
    }

    @Test func canonicalNameWinsOverEveryAlias() throws {
        for (metric, aliases) in FrameworkKeyMap.aliases {
            #expect(aliases.first?.key == metric.rawValue)
            let body = aliases.enumerated().reversed().map { "\"\($0.element.key)\": \($0.offset + 1)" }
            let step = try parse("{\"step\": 1, \(body.joined(separator: ", "))}")
            #expect(step[metric] == 1, "\(metric)")
            #expect(step.extras.isEmpty)
        }
    }

    @Test func eachAliasWinsOverThoseAfterIt() throws {
        for (metric, aliases) in FrameworkKeyMap.aliases {
            for index in aliases.indices {
                let body = aliases[index...].enumerated().map { "\"\($0.element.key)\": \($0.offset + 10)" }
                let step = try parse("{\"step\": 1, \(body.joined(separator: ", "))}")
                #expect(step[metric] == 10, "\(metric) \(aliases[index].key)")
            }
        }
    }

    @Test func tableIsConsistent() {
        let allKeys = FrameworkKeyMap.aliases.flatMap { $0.keys.map(\.key) }
        #expect(Set(allKeys).count == allKeys.count, "a key maps to two metrics or appears twice")
        #expect(FrameworkKeyMap.bindings.count == allKeys.count)
        #expect(FrameworkKeyMap.aliases.map(\.metric) == MetricName.allCases)
        // The builder keeps a priority in four bits per metric.
        #expect(FrameworkKeyMap.aliases.allSatisfy { $0.keys.count < 15 })
        for key in ["step", "metrics", "data", "rewards", "train_loss", "actor/loss", "epoch"] {
            #expect(FrameworkKeyMap.binding(forKey: key) == nil, "\(key)")
        }
    }

    @Test func negationOnlyForOpenRLHFEntropyLoss() throws {
        #expect(try parse(#"{"step": 1, "entropy_loss": -0.5}"#).entropy == 0.5)
        #expect(try parse(#"{"step": 1, "entropy_loss": 0.5}"#).entropy == 0.5)
        #expect(try parse(#"{"step": 1, "entropy_loss": "-inf"}"#).entropy == .infinity)
        #expect(try parse(#"{"step": 1, "policy_entropy": -0.5}"#).entropy == -0.5)
        #expect(try parse(#"{"step": 1, "entropy_loss": -0.5, "entropy": -0.25}"#).entropy == -0.25)
    }

    @Test func builderWorksWithoutTheParser() {
        var builder = MetricStepBuilder()
        builder.add(key: "actor/ppo_kl", value: 0.1)
        builder.add(key: "custom", value: 2)
        builder.add(key: "actor/kl_loss", value: 0.2)
        builder.add(key: "actor/ppo_kl", value: 0.3)
        builder.rewards = [1, 2]
        let expected = MetricStep(step: 4, klDivergence: 0.2, rewards: [1, 2], extras: ["custom": 2])
        #expect(builder.build(step: 4) == expected)
    }
}
