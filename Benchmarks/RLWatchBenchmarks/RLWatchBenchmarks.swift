import Benchmark

/// Every benchmark of rlwatch, registered for ordo-one/benchmark (its build plugin generates the `main`).
///
/// Time metrics are per operation (a step, a row, an event): each benchmark's `scalingFactor` is the number of
/// operations one iteration does, and ordo-one divides by it. The budgets a change must keep are the p90
/// thresholds in `Benchmarks/Thresholds/` (`swift package --package-path Benchmarks benchmark thresholds check`);
/// the numbers measured are in README § Benchmarks. Inputs and scratch databases live in $RLWATCH_BENCH_DIR
/// (default /tmp/rlwatch-bench); the large input files are generated once and reused.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .throughput, .mallocCountTotal, .peakMemoryResident],
        warmupIterations: 1, maxDuration: .seconds(10), maxIterations: 1_000)
    DetectorBenchmarks.register()
    ReplayBenchmarks.register()
    TensorBoardBenchmarks.register()
    TrackerBenchmarks.register()
    StoreBenchmarks.register()
}
