import Benchmark
import RLWatchCore

/// `RunAnalyzer.process` (every detector + the alert policy, default config) per step.
///
/// One iteration judges the next 1000 steps of a run on one analyzer (primed with 100 steps, as rlwatch 0.5.1's
/// perf test primes), so the detectors' windows are full as in a long run. Budgets (Thresholds/): 1.5 µs a step
/// without per-sample rewards, 10 µs with 256 rewards.
enum DetectorBenchmarks {
    static let primingSteps = 100
    static let stepsPerIteration = 1_000

    static func register() {
        analyzer("analyzer.scalars", iterations: 200) { BenchInput.scalarSteps($0) }
        analyzer("analyzer.rewards256.binary", iterations: 20) { BenchInput.binaryRewardSteps($0) }
        // As `serve`'s analyzer: also fingerprints each step to recognise a re-sent batch.
        analyzer("analyzer.rewards256.binary.remembering", iterations: 20, remembering: true) {
            BenchInput.binaryRewardSteps($0)
        }
        // The worst case: the dip test runs on every step after the baseline.
        analyzer("analyzer.rewards256.continuous", iterations: 20) { BenchInput.continuousRewardSteps($0) }
    }

    /// Registers one analyzer benchmark over `iterations` × 1000 steps made by `makeSteps`.
    static func analyzer(
        _ name: String, iterations: Int, remembering: Bool = false, makeSteps: @escaping (Int) -> [MetricStep]
    ) {
        let feed = StepFeed()
        Benchmark(
            name,
            configuration: .init(
                scalingFactor: .kilo, maxIterations: iterations,
                setup: {
                    feed.start(
                        steps: makeSteps(primingSteps + stepsPerIteration * (iterations + 1)), remembering: remembering)
                },
                teardown: { feed.stop() })
        ) { benchmark in
            for _ in benchmark.scaledIterations { blackHole(feed.next()) }
        }
    }

    /// The steps of one benchmark and the analyzer judging them, across its iterations.
    final class StepFeed {
        private var steps: [MetricStep] = []
        private var position = 0
        private var analyzer: RunAnalyzer?

        func start(steps: [MetricStep], remembering: Bool) {
            self.steps = steps
            let analyzer = RunAnalyzer(config: RLWatchConfig(), remembersRecentSteps: remembering)
            for step in steps.prefix(DetectorBenchmarks.primingSteps) { blackHole(analyzer.process(step)) }
            self.analyzer = analyzer
            position = DetectorBenchmarks.primingSteps
        }

        /// Judges the next step (the warm-up iteration included, there is one spare iteration of steps).
        func next() -> Int {
            guard let analyzer, position < steps.count else { return 0 }
            let result = analyzer.process(steps[position])
            position += 1
            return result.outcomes.count &+ result.segment
        }

        func stop() {
            steps = []
            analyzer = nil
        }
    }
}
