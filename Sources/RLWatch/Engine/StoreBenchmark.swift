import RLWatchCore
import RLWatchStore

/// `rlwatch db bench`: batched ingest into a store (steps/s), without HTTP or detectors.
///
/// Writes `runs` new runs in parallel, `steps / runs` synthetic steps each (`rewards` per-sample rewards), `batch`
/// steps per append (one transaction each). The rows stay: run it on a scratch database.
public struct StoreBenchmark: Sendable {
    public var steps: Int
    public var batch: Int
    public var runs: Int
    public var rewards: Int

    public init(steps: Int, batch: Int, runs: Int, rewards: Int) {
        self.steps = steps
        self.batch = max(1, batch)
        self.runs = max(1, runs)
        self.rewards = max(0, rewards)
    }

    /// The steps written in all.
    public var written: Int { (steps / runs) * runs }

    /// Registers the runs, writes them, and returns the seconds the writes took.
    ///
    /// - Parameter clock: the wall clock the rows' timestamps are taken from.
    /// - Throws: the store's errors.
    public func run(on store: any Store, clock: AnyWallClock) async throws -> Double {
        let prefix = "bench-\(String(UInt64.random(in: 0...UInt64.max), radix: 16).prefix(8))"
        let batches = Self.batches(steps: steps / runs, batch: batch, rewards: rewards)
        for index in 0..<runs {
            try await store.registerRun(
                RunRecord(
                    runID: "\(prefix)-\(index)", framework: "manual", startedAt: clock.now.secondsSince1970,
                    configJSON: "{}"))
        }
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<runs {
                group.addTask {
                    let runID = "\(prefix)-\(index)"
                    for rows in batches {
                        let now = clock.now.secondsSince1970
                        try await store.append(
                            steps: rows.map { StoredStep(runID: runID, segment: 0, timestamp: now, metrics: $0) }, alerts: [])
                    }
                }
            }
            try await group.waitForAll()
        }
        return (ContinuousClock.now - start).seconds
    }

    /// The steps of one run, cut into batches: the monitored metrics with a little noise, `rewards` samples.
    static func batches(steps: Int, batch: Int, rewards: Int) -> [[MetricStep]] {
        var generator = SystemRandomNumberGenerator()
        let all = (0..<steps).map { step in
            MetricStep(
                step: step, entropy: 1.2 - Double(step) * 1e-6,
                klDivergence: 0.01 + Double.random(in: 0..<1e-3, using: &generator), rewardMean: 0.5, rewardStd: 0.1,
                rewards: (0..<rewards).map { _ in Double.random(in: 0..<1, using: &generator) }, loss: 0.3, gradNorm: 1.0,
                learningRate: 1e-6, extras: ["clip_ratio/region_mean": 0.01])
        }
        return stride(from: 0, to: all.count, by: batch).map { Array(all[$0..<min($0 + batch, all.count)]) }
    }
}
