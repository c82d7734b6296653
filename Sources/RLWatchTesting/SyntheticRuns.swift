import RLWatchCore

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Generators of GRPO-like runs for tests, the demo and benchmarks.
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

    /// The demo's run: healthy for `collapseAt` steps, then entropy collapses while KL runs away
    /// (the shape of rlwatch 0.5.1's `simulate_grpo_run.py`), with 64 continuous rewards per step.
    public static func entropyCollapseWithKLRunaway(
        steps count: Int = 500, collapseAt: Int = 280, seed: UInt64 = 0
    ) -> [MetricStep] {
        var rng = SeededRandom(seed: seed)
        var steps: [MetricStep] = []
        for i in 0..<count {
            let healthy = i < collapseAt
            let since = Double(max(0, i - collapseAt))
            let entropy =
                healthy
                ? 2.5 - 0.3 * Double(i) / Double(collapseAt) + 0.05 * rng.gaussian()
                : max(0.05, 2.2 * exp(-since / 30) + 0.02 * rng.gaussian())
            let kl = healthy ? 0.02 + 0.003 * rng.gaussian() : 0.02 + 0.004 * since * since / 10 + 0.01 * rng.gaussian()
            let rewardCenter = healthy ? 0.3 + 0.2 * Double(i) / Double(collapseAt) : 0.5 + 0.01 * since
            let rewardSpread = healthy ? 0.15 : 0.15 + 0.02 * since
            let rewards = (0..<64).map { _ in rng.gaussian(mean: rewardCenter, std: rewardSpread) }
            let grad = healthy ? 1.0 + 0.08 * rng.gaussian() : 1.0 + 0.05 * since + 0.1 * rng.gaussian()
            steps.append(
                MetricStep(
                    step: i, entropy: entropy, klDivergence: max(0, kl), rewards: rewards,
                    advantageStd: 1.0 + 0.05 * rng.gaussian(), loss: 0.3 + 0.02 * rng.gaussian(),
                    gradNorm: max(0.01, grad), learningRate: 1e-5))
        }
        return steps
    }
}
