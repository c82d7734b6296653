#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import RLWatchCore
import RLWatchTesting

/// The steps and files the benchmarks feed rlwatch, all from seeded generators.
///
/// `scripts/bench_rlwatch_051.py` builds the same shapes (the same SplitMix64 generator and formulas)
/// for rlwatch 0.5.1, so the two sets of numbers measure the same work.
enum BenchInput {
    /// A healthy GRPO run with every scalar metric a trainer logs, per-sample rewards already reduced to
    /// `reward_mean` / `reward_std` and dropped (the TRL shape: no reward array).
    static func scalarSteps(_ count: Int) -> [MetricStep] {
        var options = SyntheticRuns.HealthyOptions()
        options.steps = count
        options.samplesPerStep = 16
        return SyntheticRuns.healthy(options).map { step in
            var resolved = step.resolved()
            resolved.rewards = nil
            return resolved
        }
    }

    /// A healthy run with `samples` 0/1 correctness rewards per step; `reward_mean` / `reward_std` are left
    /// for the analyzer to derive. The dip test does not apply to discrete rewards, so it never runs.
    static func binaryRewardSteps(_ count: Int, samples: Int = 256) -> [MetricStep] {
        var options = SyntheticRuns.HealthyOptions()
        options.steps = count
        options.samplesPerStep = samples
        return SyntheticRuns.healthy(options)
    }

    /// A healthy run with `samples` continuous, unimodal rewards per step (a reward model's scores):
    /// the worst case, since the dip test runs on every step after the baseline.
    static func continuousRewardSteps(_ count: Int, samples: Int = 256) -> [MetricStep] {
        var rng = SeededRandom(seed: 7)
        return scalarSteps(count).enumerated().map { i, step in
            var step = step
            let center = 0.3 + 0.3 * Double(i) / Double(count)
            step.rewards = (0..<samples).map { _ in rng.gaussian(mean: center, std: 0.15) }
            step.rewardMean = nil
            step.rewardStd = nil
            return step
        }
    }

    /// A TRL-GRPO-like metrics JSONL file of `lines` healthy steps, written once and cached.
    ///
    /// Each line has the keys a TRL `GRPOTrainer` log line has that matter here — 8 that map to canonical
    /// metrics (`loss`, `grad_norm`, `learning_rate`, `reward`, `reward_std`, `kl`, `entropy`,
    /// `clip_ratio/region_mean`) and 6 extras (`num_tokens`, `completions/mean_length`,
    /// `completions/clipped_ratio`, `frac_reward_zero_std`, `step_time`, `epoch`) — with full-precision
    /// floats as Python's `json.dumps` writes them. About 400 bytes per line.
    static func replayFile(lines: Int) -> String {
        let path = "\(BenchPaths.root)/replay-\(lines).jsonl"
        if access(path, R_OK) == 0 { return path }
        note("generating \(path) …")
        let partial = path + ".partial"
        guard let file = fopen(partial, "w") else { fatalError("cannot write \(partial)") }
        var rng = SeededRandom(seed: 42)
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 20)
        let n = Double(lines)
        var tokens = 0.0
        for i in 0..<lines {
            let t = Double(i) / n
            func noisy(_ base: Double, _ cv: Double = 0.12) -> Double { max(0, base * (1 + cv * rng.gaussian())) }
            let loss = (0.05 + 0.02 * rng.gaussian()) * 10_000
            let grad = noisy(1.0 + 0.5 * t)
            let accuracy = 0.3 + 0.3 * t
            let reward = min(1, max(0, accuracy + 0.08 * rng.gaussian()))
            let rewardStd = noisy(0.45, 0.1)
            let kl = noisy(0.002 + 0.028 * (1 - exp(-Double(i) / 150)))
            let entropy = 2.2 - 0.5 * t + 0.05 * rng.gaussian()
            let meanLength = ((280 + 30 * rng.gaussian()) * 1000).rounded() / 1000
            tokens += (meanLength * 64).rounded()
            var line = "{\"step\": \(i + 1), \"loss\": \(loss.rounded() / 10_000), \"grad_norm\": \(grad), "
            line += "\"learning_rate\": \(1e-6 * (1 - t)), \"num_tokens\": \(tokens), "
            line += "\"completions/mean_length\": \(meanLength), \"completions/clipped_ratio\": \(noisy(0.05, 0.5)), "
            line +=
                "\"reward\": \(reward), \"reward_std\": \(rewardStd), \"frac_reward_zero_std\": \(noisy(0.1, 0.5)), "
            line += "\"kl\": \(kl), \"entropy\": \(entropy), \"clip_ratio/region_mean\": \(noisy(0.002, 0.5)), "
            line += "\"step_time\": \(noisy(3.7, 0.1)), \"epoch\": \((t * 3 * 10_000).rounded() / 10_000)}\n"
            buffer.append(contentsOf: line.utf8)
            if buffer.count >= 1 << 20 {
                fwrite(buffer, 1, buffer.count, file)
                buffer.removeAll(keepingCapacity: true)
            }
        }
        fwrite(buffer, 1, buffer.count, file)
        fclose(file)
        rename(partial, path)
        return path
    }
}
