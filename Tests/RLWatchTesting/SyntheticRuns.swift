import RLWatchCore

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Generators of GRPO-like runs for tests and benchmarks (the demo's own run is RLWatchCore's `DemoRun`).
///
/// The healthy run has what real healthy runs have and naive detectors trip on: step-to-step noise on
/// every metric, a KL that grows from near zero and then levels off, a gradient norm that slowly climbs,
/// and discrete 0/1 correctness rewards whose accuracy improves.
public enum SyntheticRuns {
    public struct HealthyOptions: Sendable {
        public var steps = 1000
        public var seed: UInt64 = 1
        /// Per-sample rewards per step (a GRPO batch: prompts × completions).
        public var samplesPerStep = 16
        /// Relative noise (coefficient of variation) on KL, grad norm, advantage std and loss.
        public var noise = 0.12
        /// How much the grad norm grows over the run (0.5 = +50 %).
        public var gradNormClimb = 0.5
        public var includeRewards = true
        public init() {}
    }

    /// A healthy GRPO-like run: nothing in it should alert.
    public static func healthy(_ options: HealthyOptions = HealthyOptions()) -> [MetricStep] {
        var rng = SeededRandom(seed: options.seed)
        var steps: [MetricStep] = []
        steps.reserveCapacity(options.steps)
        let n = Double(max(1, options.steps))
        for i in 0..<options.steps {
            let t = Double(i) / n
            let noisy = { (base: Double) -> Double in max(0, base * (1 + options.noise * rng.gaussian())) }
            // KL grows from ~0.002 and saturates near 0.03; never exactly zero after the first update.
            let kl = noisy(0.002 + 0.028 * (1 - exp(-Double(i) / 150)))
            let grad = noisy(1.0 + options.gradNormClimb * t)
            let entropy = 2.2 - 0.5 * t + 0.05 * rng.gaussian()
            let accuracy = 0.3 + 0.3 * t
            var rewards: [Double]?
            if options.includeRewards {
                rewards = (0..<options.samplesPerStep).map { _ in rng.bernoulli(accuracy) ? 1.0 : 0.0 }
            }
            steps.append(
                MetricStep(
                    step: i + 1, entropy: entropy, klDivergence: kl, rewards: rewards,
                    advantageStd: noisy(0.9), loss: 0.05 + 0.02 * rng.gaussian(), gradNorm: grad,
                    learningRate: 1e-6, clipFraction: noisy(0.02)))
        }
        return steps
    }

    /// The demo's run (``DemoRun/entropyCollapseWithKLRunaway(steps:collapseAt:seed:)``, which `rlwatch demo`
    /// simulates), for tests that check what the demo shows.
    public static func entropyCollapseWithKLRunaway(
        steps count: Int = 500, collapseAt: Int = 280, seed: UInt64 = 0
    ) -> [MetricStep] {
        DemoRun.entropyCollapseWithKLRunaway(steps: count, collapseAt: collapseAt, seed: seed)
    }
}

extension SyntheticRuns {
    /// Which framework's key names a real-scale run puts in its extras.
    public enum ExtrasStyle: Sendable {
        /// TRL GRPO: `frac_reward_zero_std`, `completions/clipped_ratio`, `completions/mean_length`.
        case trl
        /// veRL: `response_length/clip_ratio`, `response_length/mean`; no zero-std fraction.
        case veRL
    }

    public struct RealScaleOptions: Sendable {
        /// Logged rows (the run covers `rows × loggingInterval` training steps).
        public var rows = 300
        public var seed: UInt64 = 1
        /// Training steps between logged rows (TRL's `logging_steps`: 1, 5 and 10 are common).
        public var loggingInterval = 1
        /// Prompt groups per step and completions per prompt (GRPO's `num_generations`).
        public var groups = 8
        public var completionsPerGroup = 8
        /// Relative step-to-step noise on entropy, KL and grad norm.
        public var noise = 0.2
        public var extrasStyle = ExtrasStyle.trl
        public init() {}
    }

    /// A healthy GRPO run at the scales real LLM runs log, where none of rlwatch's detectors may fire.
    ///
    /// Mean token entropy starts somewhere in 0.05–0.3 and drifts slowly (−50 % to +80 % over the run);
    /// KL to the reference grows from ≈1e-4 to somewhere in 0.005–0.05; rewards are 0/1 correctness in
    /// prompt groups, a third of which are far too easy or far too hard, so `frac_reward_zero_std` sits
    /// around 0.2–0.5 as on real runs; up to ≈10 % of completions hit the length cap. Reward mean and std
    /// are logged as TRL logs them (no per-sample rewards).
    public static func healthyAtRealScale(_ options: RealScaleOptions = RealScaleOptions()) -> [MetricStep] {
        var rng = SeededRandom(seed: options.seed)
        let entropyStart = 0.05 + 0.25 * rng.uniform()
        let entropyDrift = -0.5 + 1.3 * rng.uniform()
        let klEnd = 0.005 + 0.045 * rng.uniform()
        let clipLevel = 0.06 * rng.uniform()
        let lengthStart = 150 + 350 * rng.uniform()
        let samples = max(1, options.groups * options.completionsPerGroup)
        let rows = max(1, options.rows)
        var steps: [MetricStep] = []
        steps.reserveCapacity(rows)
        for row in 0..<rows {
            let t = Double(row) / Double(rows)
            let noisy = { (base: Double) -> Double in max(0, base * (1 + options.noise * rng.gaussian())) }
            let entropy = noisy(entropyStart * (1 + entropyDrift * t))
            let kl = noisy(1e-4 + (klEnd - 1e-4) * (1 - exp(-5 * t)))
            let accuracy = 0.35 + 0.3 * t
            var rewardSum = 0.0
            var rewardSquares = 0.0
            var zeroStdGroups = 0
            for _ in 0..<max(1, options.groups) {
                let p =
                    rng.bernoulli(0.35)
                    ? (rng.bernoulli(accuracy) ? 0.98 : 0.02) : min(0.95, max(0.05, accuracy + 0.25 * rng.gaussian()))
                var correct = 0
                for _ in 0..<max(1, options.completionsPerGroup) where rng.bernoulli(p) { correct += 1 }
                if correct == 0 || correct == options.completionsPerGroup { zeroStdGroups += 1 }
                rewardSum += Double(correct)
                rewardSquares += Double(correct)  // 0/1 rewards: r² = r
            }
            let rewardMean = rewardSum / Double(samples)
            let rewardStd = max(0, rewardSquares / Double(samples) - rewardMean * rewardMean).squareRoot()
            var clipped = 0
            for _ in 0..<samples where rng.bernoulli(noisy(clipLevel)) { clipped += 1 }
            let meanLength = max(1, lengthStart * (1 + 0.3 * t) * (1 + 0.1 * rng.gaussian()))
            var extras: [String: Double] = [:]
            switch options.extrasStyle {
            case .trl:
                extras["frac_reward_zero_std"] = Double(zeroStdGroups) / Double(max(1, options.groups))
                extras["completions/clipped_ratio"] = Double(clipped) / Double(samples)
                extras["completions/mean_length"] = meanLength
            case .veRL:
                extras["response_length/clip_ratio"] = Double(clipped) / Double(samples)
                extras["response_length/mean"] = meanLength
            }
            steps.append(
                MetricStep(
                    step: (row + 1) * max(1, options.loggingInterval), entropy: entropy, klDivergence: kl,
                    rewardMean: rewardMean, rewardStd: rewardStd, loss: 0.01 * rng.gaussian(),
                    gradNorm: noisy(0.3), learningRate: 1e-6, clipFraction: noisy(0.002), extras: extras))
        }
        return steps
    }
}
