import RLWatchCore

/// The metric keys that TRL, veRL and OpenRLHF log, mapped to rlwatch's canonical metrics.
///
/// Frameworks, and versions of one framework, name the same metric differently, and some lines carry
/// two names for one metric (veRL logs both `actor/kl_loss` and `actor/ppo_kl`). Each canonical metric
/// therefore has an ordered alias list: when a step carries several keys of one list, the earliest in
/// the list wins, whatever their order in the line. The canonical name is always first, so an explicit
/// value written by rlwatch's own clients is never overridden by a framework alias.
///
/// The lists merge rlwatch 0.5.1's TRL, veRL and OpenRLHF adapters with the keys those frameworks
/// really log today (the 0.5.1 adapters miss most of them). Keys that measure something else on purpose
/// stay unmapped and end up in ``MetricStep/extras``: `actor/loss` (veRL's total loss including the KL and
/// entropy terms), `critic/advantages/*` (no std is logged), `train_loss` (the Hugging Face end-of-training
/// summary, which would add a spurious last row with the run's average loss).
public enum FrameworkKeyMap {
    /// How a logged value becomes the canonical one.
    public enum Transform: Sendable, Hashable {
        /// The value is used as it is.
        case identity
        /// OpenRLHF's `entropy_loss` is sometimes logged as a negated entropy: a negative value is negated.
        case negateIfNegative

        @inline(__always)
        func apply(_ value: Double) -> Double {
            switch self {
            case .identity: value
            case .negateIfNegative: value < 0 ? -value : value
            }
        }
    }

    /// One key of a canonical metric's alias list.
    public struct Alias: Sendable, Hashable {
        public let key: String
        public let transform: Transform

        public init(_ key: String, transform: Transform = .identity) {
            self.key = key
            self.transform = transform
        }
    }

    /// What a logged key stands for.
    public struct Binding: Sendable, Hashable {
        public let metric: MetricName
        /// One more than the key's position in the metric's alias list; a lower priority wins. 0 is a
        /// user's mapping (`metrics.keys` in `rlwatch.yaml`), which beats every built-in alias.
        public let priority: Int
        public let transform: Transform
        /// The metric's position in ``MetricName/allCases``, cached for the parser's bookkeeping.
        let slot: Int

        init(metric: MetricName, priority: Int, transform: Transform) {
            self.metric = metric
            self.priority = priority
            self.transform = transform
            slot = MetricName.allCases.firstIndex(of: metric) ?? 0
        }
    }

    /// The alias lists, in ``MetricName/allCases`` order, each in priority order (canonical name first).
    public static let aliases: [(metric: MetricName, keys: [Alias])] = [
        (.entropy, [
            Alias("entropy"),
            Alias("actor/entropy"),  // veRL
            Alias("policy_entropy"),
            Alias("approx_entropy"),
            Alias("objective/entropy"),  // TRL PPO
            Alias("entropy_loss", transform: .negateIfNegative),  // OpenRLHF
        ]),
        (.klDivergence, [
            Alias("kl_divergence"),
            Alias("kl"),  // TRL GRPO, OpenRLHF: KL to the reference policy
            Alias("actor/kl_loss"),  // veRL with use_kl_loss: KL to the reference policy
            Alias("actor/reward_kl_penalty"),  // veRL with the KL in the reward: KL to the reference policy
            Alias("actor/kl_divergence"),
            Alias("objective/kl"),  // TRL PPO
            Alias("training/kl_penalty"),
            Alias("kl_penalty"),
            Alias("approx_kl"),
            Alias("ppo_kl"),  // OpenRLHF: KL to the rollout policy
            Alias("actor/ppo_kl"),  // veRL: KL to the rollout policy, a fallback only
            Alias("vllm_kl"),
        ]),
        (.rewardMean, [
            Alias("reward_mean"),
            Alias("reward"),  // TRL GRPO, OpenRLHF
            Alias("rewards/mean"),
            Alias("critic/score/mean"),  // veRL: the reward function's score
            Alias("critic/rewards/mean"),  // veRL: the score after a KL-in-reward penalty
            Alias("objective/scores"),  // TRL PPO / RLOO
            Alias("env/reward_mean"),
            Alias("rollout/reward_mean"),
        ]),
        (.rewardStd, [
            Alias("reward_std"),
            Alias("rewards/std"),
            Alias("critic/score/std"),
            Alias("critic/rewards/std"),
            Alias("env/reward_std"),
            Alias("rollout/reward_std"),  // OpenRLHF
            Alias("group_reward_std"),  // OpenRLHF: the std within prompt groups
        ]),
        (.advantageStd, [
            Alias("advantage_std"),
            Alias("advantages_std"),
        ]),
        (.loss, [
            Alias("loss"),
            Alias("actor/pg_loss"),  // veRL
            Alias("policy_loss"),  // OpenRLHF
            Alias("loss/policy_avg"),  // TRL PPO
            Alias("training/policy_loss"),
        ]),
        (.gradNorm, [
            Alias("grad_norm"),
            Alias("actor/grad_norm"),  // veRL
            Alias("actor_grad_norm"),  // OpenRLHF
            Alias("gradient_norm"),
            Alias("grads/norm"),
            Alias("training/grad_norm"),
        ]),
        (.learningRate, [
            Alias("learning_rate"),
            Alias("lr"),
            Alias("actor/lr"),  // veRL
            Alias("actor_lr"),  // OpenRLHF
        ]),
        (.clipFraction, [
            Alias("clip_fraction"),
            Alias("clip_ratio/region_mean"),  // TRL GRPO ≥ 0.17
            Alias("clip_ratio"),  // TRL GRPO < 0.17
            Alias("clipfrac"),
            Alias("policy/clipfrac_avg"),  // TRL PPO
            Alias("policy/clip_fraction"),
            Alias("actor/pg_clipfrac"),  // veRL
        ]),
    ]

    /// Every alias by its key.
    public static let bindings: [String: Binding] = {
        var result: [String: Binding] = [:]
        for (metric, keys) in aliases {
            for (position, alias) in keys.enumerated() {
                result[alias.key] = Binding(metric: metric, priority: position + 1, transform: alias.transform)
            }
        }
        return result
    }()

    /// The canonical metric a logged key stands for, or `nil` for a key that goes into ``MetricStep/extras``.
    public static func binding(forKey key: String) -> Binding? {
        bindings[key]
    }

    /// KL aliases that measure the old-vs-new policy KL inside one update, not the KL to the reference
    /// policy; they feed `kl_divergence` only when no reference KL is logged.
    public static let policyUpdateKLKeys: Set<String> = ["ppo_kl", "actor/ppo_kl"]

    /// Which logged key feeds each canonical metric, given the keys a step carries.
    ///
    /// The same priority rule as ``makeStep(step:values:rewards:)``: of several aliases of one metric, the
    /// earliest in its list wins. ``MetricKeyMap/sources(forKeys:)`` does the same with a user's mappings.
    /// - Parameter keys: The keys logged for one step.
    /// - Returns: The winning key of every canonical metric that has one, in ``MetricName/allCases`` order.
    public static func sources(forKeys keys: some Sequence<String>) -> [(metric: MetricName, key: String)] {
        MetricKeyMap.builtIn.sources(forKeys: keys).compactMap { source in
            MetricName(rawValue: source.metric).map { ($0, source.key) }
        }
    }

    /// A one-line account of which logged key feeds each canonical metric, for a user checking a mapping:
    /// `kl_divergence ← actor/kl_loss, entropy ← actor/entropy`.
    ///
    /// A policy-update KL used as the fallback is marked as such; a step with no known key says so.
    public static func describeSources(forKeys keys: some Sequence<String>) -> String {
        MetricKeyMap.builtIn.describeSources(forKeys: keys)
    }

    /// A step from a flat map of logged values, resolving aliases by priority.
    ///
    /// This is the format-independent path (for example for TensorBoard scalars or `trainer_state.json`
    /// rows); the JSONL parser produces the same result without building the map.
    /// - Parameters:
    ///   - step: The step number.
    ///   - values: Every numeric value logged for the step, by its original key.
    ///   - rewards: The per-sample rewards, if any were logged.
    /// - Returns: The step, with unmapped keys in ``MetricStep/extras``.
    public static func makeStep(step: Int, values: [String: Double], rewards: [Double]? = nil) -> MetricStep {
        MetricKeyMap.builtIn.makeStep(step: step, values: values, rewards: rewards)
    }
}
