import RLWatchCore
import Testing

/// Steps `first…first+count-1`, optionally carrying an extra.
private func batch(_ first: Int, _ count: Int, extras: [String: Double] = [:]) -> [MetricStep] {
    (first..<(first + count)).map { number in
        var step = MetricStep(step: number)
        step.extras = extras
        return step
    }
}

private func config(_ change: (inout RLWatchConfig) -> Void = { _ in }) -> RLWatchConfig {
    var config = RLWatchConfig()
    change(&config)
    return config
}

@Suite("run_stalled")
struct StallTrackerTests {
    let t0 = 1_800_000_000.0

    @Test("no stall before the first step, however long the wait")
    func neverBeforeFirstStep() {
        var tracker = LivenessTracker(config: config())
        #expect(tracker.check(at: t0 + 1e6).isEmpty)
    }

    @Test("warning at the configured time, critical at the critical time, each once; a new step resolves with a note")
    func configuredTimes() throws {
        var tracker = LivenessTracker(config: config {
            $0.stall.afterSeconds = 60
            $0.stall.criticalAfterSeconds = 180
        })
        _ = tracker.stepsArrived(batch(1, 1), at: t0)
        #expect(tracker.check(at: t0 + 59.9).isEmpty)
        let warning = tracker.check(at: t0 + 60)
        #expect(warning.map(\.alert.severity) == [.warning])
        #expect(warning.first?.alert.detector == .runStalled)
        #expect(warning.first?.alert.step == 1)
        #expect(warning.first?.isNote == false)
        #expect(tracker.check(at: t0 + 120).isEmpty, "one warning per silence")
        let critical = tracker.check(at: t0 + 180)
        #expect(critical.map(\.alert.severity) == [.critical])
        #expect(tracker.check(at: t0 + 10_000).isEmpty, "one critical per silence")

        let resumed = tracker.stepsArrived(batch(2, 1), at: t0 + 200)
        let note = try #require(resumed.first)
        #expect(note.isNote)
        #expect(note.alert.detector == .runStalled)
        #expect(note.alert.message.contains("resumed"))
        #expect(tracker.check(at: t0 + 259).isEmpty)
        #expect(tracker.check(at: t0 + 260).map(\.alert.severity) == [.warning], "a new silence is a new episode")
    }

    @Test("default: the larger of 10 minutes and 10x the median interval; critical 3x that")
    func automaticTimes() {
        // Quick steps: 10 min floor.
        var quick = LivenessTracker(config: config())
        for index in 0..<20 { _ = quick.stepsArrived(batch(index + 1, 1), at: t0 + Double(index) * 2) }
        let lastQuick = t0 + 38
        #expect(quick.stall.warningAfter == 600)
        #expect(quick.check(at: lastQuick + 599).isEmpty)
        #expect(quick.check(at: lastQuick + 600).map(\.alert.severity) == [.warning])
        #expect(quick.check(at: lastQuick + 1800).map(\.alert.severity) == [.critical])

        // A step every 2 minutes: 20 minutes.
        var slow = LivenessTracker(config: config())
        for index in 0..<10 { _ = slow.stepsArrived(batch(index + 1, 1), at: t0 + Double(index) * 120) }
        let lastSlow = t0 + 9 * 120
        #expect(slow.stall.warningAfter == 1200)
        #expect(slow.check(at: lastSlow + 1000).isEmpty)
        #expect(slow.check(at: lastSlow + 1200).map(\.alert.severity) == [.warning])
    }

    @Test("a batch spreads its gap over its steps")
    func batchedIntervals() {
        var tracker = LivenessTracker(config: config { $0.stall.minAfterSeconds = 1 })
        for index in 0..<10 { _ = tracker.stepsArrived(batch(index * 10 + 1, 10), at: t0 + Double(index)) }
        #expect(tracker.stall.medianInterval == 0.1)
        #expect(abs(tracker.stall.warningAfter - 1) < 1e-9)
    }

    @Test("a finished run is never stalled; steps after finish reopen it")
    func finished() {
        var tracker = LivenessTracker(config: config { $0.stall.afterSeconds = 60 })
        _ = tracker.stepsArrived(batch(1, 1), at: t0)
        tracker.finish()
        #expect(tracker.check(at: t0 + 1e6).isEmpty)
        _ = tracker.stepsArrived(batch(2, 1), at: t0 + 2e6)
        #expect(tracker.check(at: t0 + 2e6 + 60).map(\.alert.severity) == [.warning])
    }

    @Test("a silence longer than the critical time raises the critical alone")
    func straightToCritical() {
        var tracker = LivenessTracker(config: config { $0.stall.afterSeconds = 60 })
        _ = tracker.stepsArrived(batch(1, 1), at: t0)
        #expect(tracker.check(at: t0 + 500).map(\.alert.severity) == [.critical])
    }

    @Test("restored from a stored run: silent since its last row")
    func restored() {
        var tracker = LivenessTracker(config: config { $0.stall.afterSeconds = 60 }, lastStep: 42, lastArrival: t0)
        let found = tracker.check(at: t0 + 61)
        #expect(found.map(\.alert.severity) == [.warning])
        #expect(found.first?.alert.step == 42)
    }

    @Test("activity stored elsewhere undoes a stall found but not raised")
    func activityElsewhere() {
        var tracker = LivenessTracker(config: config { $0.stall.afterSeconds = 60 })
        _ = tracker.stepsArrived(batch(1, 1), at: t0)
        tracker.activitySeen(step: 5, at: t0 + 50)
        #expect(tracker.check(at: t0 + 100).isEmpty)
        #expect(tracker.check(at: t0 + 110).first?.alert.step == 5)
    }

    @Test("disabled: never alerts")
    func disabled() {
        var tracker = LivenessTracker(config: config { $0.stall.enabled = false; $0.stall.afterSeconds = 1 })
        _ = tracker.stepsArrived(batch(1, 1), at: t0)
        #expect(tracker.check(at: t0 + 1e5).isEmpty)
    }
}

@Suite("throughput_drop")
struct ThroughputTrackerTests {
    let t0 = 1_800_000_000.0

    /// A throughput config with short times: 10 s window, 30 s sustained, 60 s warmup.
    func quick(_ change: (inout RLWatchConfig) -> Void = { _ in }) -> RLWatchConfig {
        config {
            $0.throughput.windowSeconds = 10
            $0.throughput.sustainedSeconds = 30
            $0.throughput.warmupSeconds = 60
            change(&$0)
        }
    }

    /// Feeds one step every `interval` seconds from `start` for `duration` seconds; returns the findings and the
    /// next step number and time.
    func run(
        _ tracker: inout LivenessTracker, from start: Double, step first: Int, interval: Double, for duration: Double,
        extras: (Int) -> [String: Double] = { _ in [:] }
    ) -> (findings: [(Double, LivenessFinding)], nextStep: Int, end: Double) {
        var findings: [(Double, LivenessFinding)] = []
        var time = start
        var step = first
        while time < start + duration {
            for finding in tracker.stepsArrived(batch(step, 1, extras: extras(step)), at: time) {
                findings.append((time, finding))
            }
            step += 1
            time += interval
        }
        return (findings, step, time)
    }

    @Test("a 4x slowdown sustained past the period warns once; steady speed never does")
    func slowdown() throws {
        var tracker = LivenessTracker(config: quick())
        let healthy = run(&tracker, from: t0, step: 1, interval: 0.5, for: 300)
        #expect(healthy.findings.isEmpty)
        let slow = run(&tracker, from: healthy.end, step: healthy.nextStep, interval: 2, for: 300)
        #expect(slow.findings.count == 1)
        let (time, finding) = try #require(slow.findings.first)
        #expect(finding.alert.detector == .throughputDrop)
        #expect(finding.alert.severity == .warning)
        // Slow from the first window fully at the new speed; alerted ~30 s after the rate fell below half.
        #expect(time - healthy.end >= 30)
        #expect(time - healthy.end <= 60)
        #expect(finding.alert.message.contains("steps/min"))
        // Back to speed: the episode ends; a second slowdown warns again.
        let recovered = run(&tracker, from: slow.end, step: slow.nextStep, interval: 0.5, for: 120)
        #expect(recovered.findings.isEmpty)
        let again = run(&tracker, from: recovered.end, step: recovered.nextStep, interval: 2, for: 120)
        #expect(again.findings.count == 1)
    }

    @Test("a short dip shorter than the sustained period does not warn")
    func shortDip() {
        var tracker = LivenessTracker(config: quick())
        let healthy = run(&tracker, from: t0, step: 1, interval: 0.5, for: 300)
        let dip = run(&tracker, from: healthy.end, step: healthy.nextStep, interval: 2, for: 20)
        let back = run(&tracker, from: dip.end, step: dip.nextStep, interval: 0.5, for: 200)
        #expect(dip.findings.isEmpty && back.findings.isEmpty)
    }

    @Test("nothing is judged during the warmup")
    func warmup() {
        var tracker = LivenessTracker(config: quick { $0.throughput.warmupSeconds = 1000 })
        let healthy = run(&tracker, from: t0, step: 1, interval: 0.5, for: 300)
        let slow = run(&tracker, from: healthy.end, step: healthy.nextStep, interval: 2, for: 300)
        #expect(slow.findings.isEmpty)
    }

    @Test("tokens per second from veRL's perf/throughput falling by half warns, with steady step rate")
    func tokenRate() throws {
        var tracker = LivenessTracker(config: quick())
        let healthy = run(&tracker, from: t0, step: 1, interval: 0.5, for: 300) { _ in ["perf/throughput": 2000] }
        #expect(healthy.findings.isEmpty)
        let slow = run(&tracker, from: healthy.end, step: healthy.nextStep, interval: 0.5, for: 300) { _ in
            ["perf/throughput": 600]
        }
        let finding = try #require(slow.findings.first?.1)
        #expect(finding.alert.message.contains("tokens/s"))
    }

    @Test("tokens per second from TRL's cumulative num_tokens")
    func cumulativeTokens() throws {
        var tracker = LivenessTracker(config: quick())
        var tokens = 0.0
        let healthy = run(&tracker, from: t0, step: 1, interval: 0.5, for: 300) { _ in
            tokens += 1000
            return ["num_tokens": tokens]
        }
        #expect(healthy.findings.isEmpty)
        let slow = run(&tracker, from: healthy.end, step: healthy.nextStep, interval: 0.5, for: 300) { _ in
            tokens += 200
            return ["num_tokens": tokens]
        }
        let finding = try #require(slow.findings.first?.1)
        #expect(finding.alert.message.contains("tokens/s"))
    }
}

@Suite("run_crashed")
struct CrashReportTests {
    @Test("a crash report raises a critical with the exception type and message and closes the run")
    func crash() throws {
        var tracker = LivenessTracker(config: config { $0.stall.afterSeconds = 60 })
        _ = tracker.stepsArrived(batch(1, 7), at: 100)
        let findings = tracker.crashed(CrashReport(exceptionType: "RuntimeError", message: "CUDA error: out of memory", exitCode: 1))
        let alert = try #require(findings.first?.alert)
        #expect(alert.detector == .runCrashed)
        #expect(alert.severity == .critical)
        #expect(alert.step == 7)
        #expect(alert.message.contains("RuntimeError: CUDA error: out of memory"))
        #expect(alert.recommendation.contains("memory"))
        #expect(tracker.check(at: 1e6).isEmpty, "a crashed run is not also stalled")
    }

    @Test("crash.enabled false: closed, no alert")
    func disabled() {
        var tracker = LivenessTracker(config: config { $0.crash.enabled = false })
        #expect(tracker.crashed(CrashReport(exceptionType: "ValueError", message: "x")).isEmpty)
    }

    @Test("an exit status alone")
    func exitOnly() {
        let alert = CrashReport(exceptionType: "", message: "", exitCode: 3).alert(lastStep: nil)
        #expect(alert.message == "Training process exited with status 3")
    }
}

@Suite("run_stalled message")
struct StallMessageTests {
    let t0 = 1_800_000_000.0

    /// The message quotes the limit it used, exactly and with the setting it came from: a 90 s limit once read
    /// "longer than 2 min", which contradicted the config the user had just written.
    @Test(
        "the stall message states the exact limit and where it came from",
        arguments: [
            (90.0, nil as Double?, "the stall limit is 90 s (stall.after_seconds)"),
            (150, nil, "the stall limit is 150 s (stall.after_seconds)"),
            (600, nil, "the stall limit is 10 min (stall.after_seconds)"),
            (7200, nil, "the stall limit is 2 h (stall.after_seconds)"),
            (2.5, nil, "the stall limit is 2.5 s (stall.after_seconds)"),
        ])
    func exactLimit(after: Double, critical: Double?, expected: String) throws {
        var tracker = LivenessTracker(config: config {
            $0.stall.afterSeconds = after
            $0.stall.criticalAfterSeconds = critical ?? after * 100
        })
        _ = tracker.stepsArrived(batch(1, 1), at: t0)
        let warning = try #require(tracker.check(at: t0 + after + 1).first)
        #expect(warning.alert.message.contains(expected), "\(warning.alert.message)")
        #expect(warning.alert.metricValues["threshold_seconds"] == .double(after.rounded()))
    }

    @Test("the default limit names min_after_seconds, the interval multiplier, and the critical multiplier")
    func defaultLimits() throws {
        var tracker = LivenessTracker(config: config())
        _ = tracker.stepsArrived(batch(1, 1), at: t0)
        let floor = try #require(tracker.check(at: t0 + 600).first)
        #expect(floor.alert.message.contains("the stall limit is 10 min (stall.min_after_seconds)"), "\(floor.alert.message)")
        let critical = try #require(tracker.check(at: t0 + 1800).first)
        #expect(critical.alert.message.contains("the critical limit is 30 min (3 × the stall limit, stall.critical_multiplier)"),
            "\(critical.alert.message)")

        // A run logging every 100 s: 10 × its median interval, 1000 s.
        var slow = LivenessTracker(config: config())
        for index in 0..<5 { _ = slow.stepsArrived(batch(index + 1, 1), at: t0 + Double(index) * 100) }
        let found = try #require(slow.check(at: t0 + 400 + 1000).first)
        #expect(found.alert.message.contains("the stall limit is 1000 s (10 × the median step interval, stall.interval_multiplier)"),
            "\(found.alert.message)")
        #expect(found.alert.message.contains("No steps for 17 min"), "\(found.alert.message)")
    }

    /// A measured silence under two minutes is said in seconds, so it never reads shorter than the limit beside it.
    @Test func aShortSilenceIsSaidInSeconds() throws {
        var tracker = LivenessTracker(config: config { $0.stall.afterSeconds = 90 })
        _ = tracker.stepsArrived(batch(1, 1), at: t0)
        let warning = try #require(tracker.check(at: t0 + 100).first)
        #expect(warning.alert.message.hasPrefix("No steps for 100 s (last step 1); the stall limit is 90 s"), "\(warning.alert.message)")
    }
}
