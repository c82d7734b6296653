#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// The run `rlwatch demo` simulates: a GRPO run that is healthy, then collapses.
///
/// It is product code, not part of the test kit, so that the shipped binary links no test code (the test kit's
/// `SyntheticRuns` hands the same run to the tests that check what the demo shows).
public enum DemoRun {
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
            let rewardCenter = healthy ? 0.3 + 0.2 * Double(i) / Double(collapseAt) : 0.5 - 0.002 * since
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
