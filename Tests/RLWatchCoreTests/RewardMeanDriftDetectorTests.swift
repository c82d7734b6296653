import RLWatchCore
import Testing

@Suite struct RewardMeanDriftDetectorTests {
    func detector(warmup: Int = 1, consecutive: Int = 5, magnitude: Double = 0.1) -> RewardMeanDriftDetector {
        var config = RewardMeanDriftConfig()
        config.warmupSteps = warmup
        config.consecutiveSteps = consecutive
        config.minDriftMagnitude = magnitude
        return RewardMeanDriftDetector(config)
    }

    func ramp(_ count: Int, from start: Double = 0, by delta: Double = 0.05) -> [Double?] {
        (0..<count).map { start + delta * Double($0) }
    }

    @Test func warningAfterConsecutiveMonotoneStepsOncePerRun() {
        let alerts = feed(detector(), series(.rewardMean, ramp(20)))
        #expect(alerts.summary == ["6:warning"])
        #expect(alerts[0].metricValues["direction"] == .string("up"))
    }

    @Test func magnitudeBoundaryIsInclusive() {
        // 5 steps of 0.25 (exact in binary) → magnitude exactly 1.25.
        #expect(feed(detector(magnitude: 1.25), series(.rewardMean, ramp(6, by: 0.25))).summary == ["6:warning"])
        #expect(feed(detector(magnitude: 1.2500001), series(.rewardMean, ramp(6, by: 0.25))).isEmpty)
    }

    @Test func reversalOrEqualityRearms() {
        let values = ramp(7) + [0.0] + ramp(7, from: 0.01)
        #expect(feed(detector(), series(.rewardMean, values)).summary == ["6:warning", "13:warning"])
        let flat = ramp(7) + [0.3] + ramp(6, from: 0.31)
        // The equal step (0.3 after 0.3) ends the run; the next one reaches 5 up-moves at step 13.
        #expect(feed(detector(), series(.rewardMean, flat)).summary == ["6:warning", "13:warning"])
    }

    @Test func downwardDrift() {
        let alerts = feed(detector(), series(.rewardMean, ramp(10, from: 1, by: -0.05)))
        #expect(alerts.summary == ["6:warning"])
        #expect(alerts[0].metricValues["direction"] == .string("down"))
    }

    @Test func nonFiniteIsSkippedNotAReset() {
        var values = ramp(6)
        values.insert(.nan, at: 3)
        values.insert(nil, at: 4)
        #expect(feed(detector(), series(.rewardMean, values)).summary == ["8:warning"])
    }

    @Test func warmupBoundary() {
        // warmup 3: observations 1–2 only set "previous"; the first comparison is 3 vs 2.
        #expect(feed(detector(warmup: 3, consecutive: 2), series(.rewardMean, ramp(4))).summary == ["4:warning"])
    }

    // MARK: Training steps, not log rows (issue 8 item 6)

    /// A steady climb logged every `interval` steps from step `interval`, the same slope per training step.
    func climb(every interval: Int, rows count: Int = 100) -> [MetricStep] {
        series(.rewardMean, ramp(count, by: 0.01 * Double(interval))).map { row -> MetricStep in
            var row = row
            row.step *= interval
            return row
        }
    }

    @Test(arguments: [1, 2, 5])
    func consecutiveStepsCountTrainingStepsAtAnyLoggingInterval(interval: Int) {
        // Consecutive 50: the move that completes 50 steps of climbing alerts, at step 50 + interval logged every
        // `interval` (not 50 rows later) — as long as those 50 steps hold the minimum eight moves.
        let alerts = feed(detector(consecutive: 50), climb(every: interval))
        #expect(alerts.summary == ["\(50 + interval):warning"], "every \(interval)")
        #expect(alerts.first?.metricValues["consecutive_steps"] == .int(50))
    }

    @Test(arguments: [10, 25])
    func aSparselyLoggedClimbNeedsEightMovesNotJustTheSpan(interval: Int) {
        // Logged every 25 steps, 50 steps are two moves: three rows of a healthy run are monotone one time in
        // three. The streak needs eight moves (nine rows), so the alert comes at step 9 × interval.
        let alerts = feed(detector(consecutive: 50), climb(every: interval))
        #expect(alerts.summary == ["\(9 * interval):warning"], "every \(interval)")
        #expect(alerts.first?.metricValues["consecutive_steps"] == .int(8 * interval))
        // Eight rows climbing (seven moves), then a dip: nothing, however many steps they span.
        let dipped = Array(climb(every: interval, rows: 8)) + series(.rewardMean, [0.0], from: 9).map { row in
            var row = row
            row.step *= interval
            return row
        }
        #expect(feed(detector(consecutive: 50), dipped).isEmpty, "every \(interval)")
    }

    @Test func aResumeStartsTheMonotoneRunOver() {
        // Climbing on steps 1–4, resumed at step 2 and climbing on: the run restarts at the resume.
        let rows = series(.rewardMean, ramp(4)) + series(.rewardMean, ramp(10, from: 0.2), from: 2)
        #expect(feed(detector(), rows).summary == ["7:warning"])
    }
}
