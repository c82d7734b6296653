import RLWatchCore

/// `RunAnalyzer.process` (all seven detectors + alert policy, default config) per step.
enum DetectorBenchmarks {
    /// Steps fed to a fresh analyzer before timing starts (as rlwatch 0.5.1's perf test primes 100).
    static let primingSteps = 100

    static func all(scale: Double) -> [Benchmark] {
        [
            Benchmark(name: "analyzer.scalars", summary: "one step, 9 scalar metrics, no per-sample rewards") {
                let steps = BenchInput.scalarSteps(primingSteps + Int(200_000 * scale))
                return [
                    measure("analyzer.scalars", steps, target: .atMost(nanoseconds: 1_000), note: "0.5.1 ≈ 100 µs")
                ]
            },
            Benchmark(name: "analyzer.rewards256.binary", summary: "one step with 256 0/1 rewards (dip test n/a)") {
                let steps = BenchInput.binaryRewardSteps(primingSteps + Int(20_000 * scale))
                return [
                    measure(
                        "analyzer.rewards256.binary", steps, target: .atMost(nanoseconds: 10_000),
                        note: "GRPO correctness rewards")
                ]
            },
            Benchmark(
                name: "analyzer.rewards256.binary.remembering",
                summary: "the same as serve's analyzer: also fingerprints each step to recognise a re-sent batch"
            ) {
                let steps = BenchInput.binaryRewardSteps(primingSteps + Int(20_000 * scale))
                return [
                    measure(
                        "analyzer.rewards256.binary.remembering", steps, target: .atMost(nanoseconds: 10_000),
                        note: "compare analyzer.rewards256.binary", remembering: true)
                ]
            },
            Benchmark(
                name: "analyzer.rewards256.continuous",
                summary: "one step with 256 continuous rewards (dip test each step)"
            ) {
                let steps = BenchInput.continuousRewardSteps(primingSteps + Int(20_000 * scale))
                return [
                    measure(
                        "analyzer.rewards256.continuous", steps, target: .atMost(nanoseconds: 10_000),
                        note: "worst case; 0.5.1 ≈ 200 µs")
                ]
            },
        ]
    }

    /// Primes a fresh analyzer, then times the remaining steps twice: once as one loop (the mean) and
    /// once step by step on another fresh analyzer (the percentiles, each including a clock read).
    static func measure(
        _ name: String, _ steps: [MetricStep], target: Target, note: String, remembering: Bool = false
    ) -> BenchmarkResult {
        let config = RLWatchConfig()
        let measured = steps[primingSteps...]

        // Warm-up: one full pass on a throwaway analyzer (page-faults the inputs, trains the branch predictor).
        let warm = RunAnalyzer(config: config, remembersRecentSteps: remembering)
        for step in steps { blackHole(warm.process(step)) }

        let analyzer = RunAnalyzer(config: config, remembersRecentSteps: remembering)
        var sink = 0
        for step in steps[..<primingSteps] { sink &+= analyzer.process(step).outcomes.count }
        let times = measureTimes {
            for step in measured {
                let result = analyzer.process(step)
                sink &+= result.outcomes.count &+ result.segment
            }
        }
        blackHole(sink)

        let sampled = RunAnalyzer(config: config, remembersRecentSteps: remembering)
        for step in steps[..<primingSteps] { blackHole(sampled.process(step)) }
        let samples = sampleEach(measured.count) { i in
            blackHole(sampled.process(measured[measured.startIndex + i]))
        }
        let percentiles = Percentiles(samples)
        let mean = times.wall / Double(measured.count)
        return BenchmarkResult(
            name: name, iterations: measured.count, meanNanoseconds: mean,
            cpuNanoseconds: times.cpu / Double(measured.count), p50Nanoseconds: percentiles.p50,
            p99Nanoseconds: percentiles.p99, rate: (1e9 / mean, "steps"), target: target, note: note)
    }
}
