import Foundation
import RLWatchCore
import Testing

@Suite struct EntropyCollapseDetectorTests {
    func detector(warmup: Int = 1, consecutive: Int = 10, threshold: Double = 1.0) -> EntropyCollapseDetector {
        var config = EntropyCollapseConfig()
        config.warmupSteps = warmup
        config.consecutiveSteps = consecutive
        config.threshold = threshold
        return EntropyCollapseDetector(config)
    }

    @Test func warningAtHalfAndCriticalAtFullCountOncePerEpisode() {
        let alerts = feed(detector(), series(.entropy, constant(0.5, 30)))
        #expect(alerts.summary == ["5:warning", "10:critical"])
        #expect(alerts.allSatisfy { !$0.recommendation.isEmpty })
        #expect(alerts[1].metricValues["consecutive_steps_below"] == .int(10))
    }

    @Test func warmupBoundaryTheWarmupThObservationIsTheFirstEvaluated() {
        // consecutive 2 → warning at 1 below, critical at 2. With warmup 5, observations 1–4 are silent.
        let d = detector(warmup: 5, consecutive: 2)
        let alerts = feed(d, series(.entropy, constant(0.5, 5)))
        #expect(alerts.summary == ["5:warning"])
    }

    @Test func thresholdIsStrict() {
        #expect(feed(detector(consecutive: 2), series(.entropy, constant(1.0, 10))).isEmpty)
        #expect(feed(detector(consecutive: 2), series(.entropy, constant(0.999_999, 2))).summary == ["1:warning", "2:critical"])
    }

    @Test func recoveryRearmsAndANewCollapseAlertsAgain() {
        let values = constant(0.5, 10) + constant(2.0, 3) + constant(0.5, 10)
        let alerts = feed(detector(), series(.entropy, values))
        #expect(alerts.summary == ["5:warning", "10:critical", "18:warning", "23:critical"])
    }

    @Test func briefRecoveryBelowRearmCountDoesNotRealert() {
        // One healthy value resets the counter but the episode only ends after 3 quiet observations;
        // the counter below warning level is itself quiet, so the warning comes back after 5 more.
        let values = constant(0.5, 10) + [2.0] + constant(0.5, 4)
        #expect(feed(detector(), series(.entropy, values)).summary == ["5:warning", "10:critical"])
    }

    @Test func nilAndNonFiniteValuesAreIgnoredNotRecoveries() {
        var values: [Double?] = constant(0.5, 4)
        values += [nil, .nan, .infinity, -.infinity]
        values += constant(0.5, 6)
        let alerts = feed(detector(), series(.entropy, values))
        #expect(alerts.summary == ["9:warning", "14:critical"])
    }

    @Test func consecutiveOneGoesStraightToCritical() {
        #expect(feed(detector(consecutive: 1), series(.entropy, constant(0.5, 3))).summary == ["1:critical"])
    }

    @Test func disabledDetectorIsNotBuilt() {
        var config = RLWatchConfig()
        config.entropyCollapse.enabled = false
        #expect(!DetectorRegistry.makeDetectors(config).contains { $0.id == .entropyCollapse })
        #expect(DetectorRegistry.makeDetectors(RLWatchConfig()).count == DetectorID.all.count)
    }

    // MARK: Relative floor (the default since issue 8)

    /// The default configuration's detector, with a smaller warmup/baseline where a test says so.
    func relative(consecutive: Int = 50, warmup: Int = 20, baseline: Int = 10) -> EntropyCollapseDetector {
        var config = EntropyCollapseConfig()
        config.consecutiveSteps = consecutive
        config.warmupSteps = warmup
        config.baselineWindow = baseline
        return EntropyCollapseDetector(config)
    }

    @Test func defaultIsRelativeWithNoAbsoluteThreshold() {
        let config = EntropyCollapseConfig()
        #expect(config.threshold == nil && config.relativeThreshold == 0.3 && config.baselineWindow == 10)
        #expect(config.consecutiveSteps == 50 && config.warmupSteps == 20)
    }

    @Test func flatLowEntropyAtRealScaleIsNotACollapse() {
        // The real sparse-reward run: 0.07–0.09 from step 1. 0.5.1's 1.0 called it collapsed at step 45.
        let values = (0..<300).map { 0.08 + 0.01 * Double($0 % 3 - 1) }
        #expect(feed(relative(), series(.entropy, values)).isEmpty)
    }

    @Test func dropBelowThreeTenthsOfTheBaselineWarnsAtHalfAndIsCriticalAtTheFullCount() {
        // Baseline 0.2 (median of steps 1–10); floor 0.06. Below from step 41: 25 steps → 65, 50 → 90.
        let values = constant(0.2, 40) + constant(0.04, 80)
        let alerts = feed(relative(), series(.entropy, values))
        #expect(alerts.summary == ["65:warning", "90:critical"])
        let critical = alerts[1]
        #expect(critical.metricValues["baseline_entropy"] == .double(0.2))
        #expect(critical.metricValues["current_entropy"] == .double(0.04))
        #expect(critical.metricValues["ratio"]?.doubleValue.map { abs($0 - 0.2) < 1e-12 } == true)
        #expect(critical.metricValues["consecutive_steps_below"] == .int(50))
        #expect(critical.message.contains("0.2000") && critical.message.contains("0.0400"))
        #expect(critical.message.contains("0.20×") && critical.message.contains("0.3×"))
        #expect(alerts[0].message.contains("0.20× its early baseline"))
    }

    @Test func aModerateHealthyDeclineStaysQuiet() {
        // 0.25 → 0.09 (0.36× the baseline) over the run, as healthy LLM runs sharpen: above the 0.3× floor.
        let values = (0..<400).map { 0.25 - 0.16 * Double($0) / 399 }
        #expect(feed(relative(), series(.entropy, values)).isEmpty)
    }

    @Test func nothingIsJudgedBeforeTheBaselineIsComplete() {
        // Warmup 1, consecutive 1: the first 10 observations form the baseline, the 11th is the first judged.
        let values = constant(0.3, 10) + constant(0.01, 2)
        #expect(feed(relative(consecutive: 1, warmup: 1), series(.entropy, values)).summary == ["11:critical"])
        // A zero baseline has no scale: it is collected again.
        let zeros = constant(0, 10) + constant(0.3, 10) + [0.01]
        #expect(feed(relative(consecutive: 1, warmup: 1), series(.entropy, zeros)).summary == ["21:critical"])
    }

    @Test func anExplicitThresholdUsesTheAbsoluteRule() throws {
        // A 0.5.1 rlwatch.yaml: `threshold: 1.0` written out keeps 0.5.1's behaviour.
        let config = try RLWatchConfig.parse(yaml: "entropy_collapse:\n  threshold: 1.0\n").config
        #expect(config.entropyCollapse.threshold == 1.0)
        let alerts = feed(EntropyCollapseDetector(config.entropyCollapse), series(.entropy, constant(0.5, 80)))
        #expect(alerts.summary == ["44:warning", "69:critical"])
        #expect(alerts[1].message.contains("below 1.0 for 50 consecutive steps"))
        // `threshold: null` is the default: unset.
        #expect(try RLWatchConfig.parse(yaml: "entropy_collapse:\n  threshold: null\n").config == RLWatchConfig())
    }

    @Test func theTemplateLeavesTheThresholdUnset() throws {
        #expect(ConfigTemplate.defaultYAML.contains("\n  # threshold: 1.0\n"))
        #expect(ConfigTemplate.defaultYAML.contains("\n  relative_threshold: 0.3\n"))
        #expect(try RLWatchConfig.parse(yaml: ConfigTemplate.defaultYAML).config.entropyCollapse.threshold == nil)
        // Uncommenting the line opts in.
        let uncommented = ConfigTemplate.defaultYAML.replacingOccurrences(
            of: "\n  # threshold: 1.0\n", with: "\n  threshold: 1.0\n")
        #expect(try RLWatchConfig.parse(yaml: uncommented).config.entropyCollapse.threshold == 1.0)
    }

    // MARK: Training steps, not log rows (issue 8 item 6)

    /// Healthy entropy 0.2 up to step 300, 0.03 from step 301 on, logged every `interval` steps.
    static func collapse(loggedEvery interval: Int) -> [MetricStep] {
        stride(from: interval, through: 600, by: interval).map { step in
            var row = MetricStep(step: step)
            row.entropy = step <= 300 ? 0.2 : 0.03
            return row
        }
    }

    @Test(arguments: [1, 5, 10])
    func theSameCollapseAlertsAtAboutTheSameTrainingStepAtAnyLoggingInterval(interval: Int) {
        let alerts = feed(relative(), Self.collapse(loggedEvery: interval))
        #expect(alerts.map(\.severity) == [.warning, .critical], "every \(interval): \(alerts.summary)")
        // Logged every step: 25 and 50 steps below from 301 → 325 and 350. Sparser logs land on the first row
        // at or after that: never more than one logging interval late (never 5× or 10× late).
        #expect((325..<(325 + interval)).contains(alerts[0].step), "every \(interval): \(alerts.summary)")
        #expect((350..<(350 + interval)).contains(alerts[1].step), "every \(interval): \(alerts.summary)")
    }

    @Test(arguments: [1, 5, 10])
    func warmupCountsTrainingSteps(interval: Int) {
        // Absolute rule, consecutive 1, warmup 40 steps: collapsed from the first row, judged from ~step 40.
        var config = EntropyCollapseConfig()
        config.threshold = 1.0
        config.consecutiveSteps = 1
        config.warmupSteps = 40
        let rows = stride(from: interval, through: 200, by: interval).map { step -> MetricStep in
            var row = MetricStep(step: step)
            row.entropy = 0.5
            return row
        }
        let alerts = feed(EntropyCollapseDetector(config), rows)
        let first = alerts.first?.step ?? -1
        #expect((40..<(40 + 2 * interval)).contains(first), "every \(interval): \(alerts.summary)")
    }

    @Test func aSingleSparseRowNeverMakesAStreak() {
        // Logged every 100 steps with consecutive 50: one row below covers 100 steps but is one row.
        var config = EntropyCollapseConfig()
        config.threshold = 1.0
        config.warmupSteps = 0
        let rows = [100, 200, 300].map { step -> MetricStep in
            var row = MetricStep(step: step)
            row.entropy = step == 200 ? 0.5 : 2.0
            return row
        }
        #expect(feed(EntropyCollapseDetector(config), rows).isEmpty)
    }

    @Test func missingRowsOfTheMetricAreHolesNotSteps() {
        // Rows every step; entropy only on some: each observation counts one step (the row before it).
        let values: [Double?] = [0.5, nil, nil, nil, 0.5, nil, nil, nil, 0.5, nil, nil, nil, 0.5]
        // consecutive 10 → warning at 5 rows, never at "13 steps" worth of rows.
        #expect(feed(detector(), series(.entropy, values)).isEmpty)
    }

    @Test func aResumeToAnEarlierStepRestartsTheStreak() {
        // 4 rows below (steps 1–4), then a resume at step 2: the count starts over, so 9 rows in all do not reach
        // the critical 10 … but the 5th row after the resume is a new warning streak — inside the same episode.
        var rows = series(.entropy, constant(0.5, 4))
        rows += series(.entropy, constant(0.5, 9), from: 2)
        let alerts = feed(detector(), rows)
        #expect(alerts.summary == ["6:warning"])
        #expect(!alerts.contains { $0.severity == .critical })
    }
}

@Suite struct StepClockTests {
    @Test func ticksCountTheStepsSinceThePreviousRow() {
        var clock = StepClock()
        #expect(clock.tick(5) == StepTick(steps: 1, resumed: false))
        #expect(clock.tick(10) == StepTick(steps: 5, resumed: false))
        #expect(clock.tick(10) == StepTick(steps: 0, resumed: false))
        #expect(clock.tick(3) == StepTick(steps: 1, resumed: true))
        #expect(clock.tick(Int.max) == StepTick(steps: Int.max - 3, resumed: false))
        #expect(clock.tick(Int.min) == StepTick(steps: 1, resumed: true))
        #expect(clock.tick(Int.max) == StepTick(steps: Int.max, resumed: false))
    }

    @Test func warmupCoversTrainingSteps() {
        var warmup = Warmup(steps: 20)
        var clock = StepClock()
        let evaluated = stride(from: 5, through: 40, by: 5).map { warmup.observe(clock.tick($0)) }
        // 5 counts one step, each later row five: 1, 6, 11, 16, 21 → the row at 25 is the first evaluated.
        #expect(evaluated == [false, false, false, false, true, true, true, true])
        var everyStep = Warmup(steps: 20)
        #expect((1...20).map { everyStep.observe($0) } == Array(repeating: false, count: 19) + [true])
    }
}

@Suite struct EntropyCollapseConvergenceTests {
    @Test func entropyFalling30xWhileRewardClimbsIsConvergence() {
        // Math RL on a strong base model: entropy 0.92 → 0.03 while accuracy climbs 0.02 → 0.88.
        let steps = (1...200).map { (i: Int) -> MetricStep in
            let entropy = 0.03 + 0.89 * exp(-Double(i) / 15)
            let reward = 0.02 + 0.86 * (1 - exp(-Double(i) / 30))
            return MetricStep(step: i, entropy: entropy, rewardMean: reward)
        }
        #expect(feed(EntropyCollapseDetector(EntropyCollapseConfig()), steps).isEmpty)
        // The same fall while reward stalls is a collapse: a warning, then a critical, onset at the streak's start.
        let stalled = (1...200).map { (i: Int) -> MetricStep in
            let entropy = 0.03 + 0.89 * exp(-Double(i) / 15)
            return MetricStep(step: i, entropy: entropy, rewardMean: 0.3 + 0.01 * sin(Double(i)))
        }
        let alerts = feed(EntropyCollapseDetector(EntropyCollapseConfig()), stalled)
        #expect(alerts.map(\.severity) == [Severity.warning, .critical])
        #expect(alerts.allSatisfy { $0.onsetStep < $0.step })
        #expect(!alerts[0].message.contains("critical at"))
    }

    @Test func convergenceLoggedEveryFiveStepsIsStillConvergence() {
        // The same kind of run logged every 5 steps (logging_steps: 5), converging fast: accuracy 0.29 (step 5)
        // → 0.61 (15) → 0.79 (50) → 0.82. The run's early reward is that of its first ten training steps (rows
        // 5, 10, 15), not of its first ten rows (steps 5–50, median ≈ 0.7), which would make the plateau look
        // like no progress and the convergence like a collapse.
        let converging = stride(from: 5, through: 300, by: 5).map { (i: Int) -> MetricStep in
            let entropy = 0.03 + 0.89 * exp(-Double(i) / 15)
            let reward = 0.02 + 0.8 * (1 - exp(-Double(i) / 12))
            return MetricStep(step: i, entropy: entropy, rewardMean: reward)
        }
        #expect(feed(EntropyCollapseDetector(EntropyCollapseConfig()), converging).isEmpty)
        // With the reward stalled at the same interval it is a collapse.
        let stalled = converging.map { step in
            MetricStep(step: step.step, entropy: step.entropy, rewardMean: 0.3 + 0.01 * sin(Double(step.step)))
        }
        #expect(feed(EntropyCollapseDetector(EntropyCollapseConfig()), stalled).map(\.severity) == [.warning, .critical])
    }

    @Test func aSuddenCollapseIsCriticalFromTheFirstSteps() {
        // The TRL run that blew up on step 2: entropy 3.8 → 0, default warmup (20) and baseline window (10).
        let alerts = feed(EntropyCollapseDetector(EntropyCollapseConfig()), series(.entropy, [3.8, 0.0, 0.0]))
        #expect(alerts.summary == ["2:critical"])
        #expect(alerts[0].message.contains("collapsed suddenly"))
        // 0.22 → 0.088 → 0.0068 (a veRL run whose completions shrank to one token).
        let verl = feed(EntropyCollapseDetector(EntropyCollapseConfig()), series(.entropy, constant(0.21, 10) + [0.37, 0.088, 0.0068]))
        #expect(verl.summary == ["13:critical"])
        // A slow fall of the same size over hundreds of steps is not "sudden".
        let slow: [Double?] = (0..<300).map { (i: Int) -> Double? in 0.22 * pow(0.03, Double(i) / 299) }
        #expect(feed(EntropyCollapseDetector(EntropyCollapseConfig()), series(.entropy, slow)).allSatisfy { !$0.message.contains("suddenly") })
    }
}
