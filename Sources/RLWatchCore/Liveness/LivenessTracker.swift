/// The liveness detectors of one run — `run_stalled`, `throughput_drop`, `run_crashed` — judged on when steps
/// arrive and on crash reports, not on metric values. Pure: every method takes the time (seconds since 1970), so
/// tests step time instead of sleeping; a watchdog with a `Clock` drives ``check(at:)``.
public struct LivenessTracker: Sendable {
    public private(set) var stall: StallTracker
    public private(set) var throughput: ThroughputTracker
    public let crash: CrashConfig

    public init(config: RLWatchConfig) {
        stall = StallTracker(config: config.stall)
        throughput = ThroughputTracker(config: config.throughput)
        crash = config.crash
    }

    /// A tracker for a run that a restarted monitor finds open in the store, silent since `lastArrival`.
    public init(config: RLWatchConfig, lastStep: Int, lastArrival: Double) {
        stall = StallTracker(config: config.stall, lastStep: lastStep, lastArrival: lastArrival)
        throughput = ThroughputTracker(config: config.throughput)
        crash = config.crash
    }

    /// Records a batch arriving at `time`: the "resumed" note of a stall it ends, a throughput warning.
    public mutating func stepsArrived(_ batch: [MetricStep], at time: Double) -> [LivenessFinding] {
        guard let last = batch.last else { return [] }
        var findings: [LivenessFinding] = []
        if let note = stall.stepsArrived(count: batch.count, lastStep: last.step, at: time) { findings.append(note) }
        if let slow = throughput.stepsArrived(batch, at: time) { findings.append(slow) }
        return findings
    }

    /// Steps of the run were stored elsewhere at `time` (another monitor process): it is not silent.
    public mutating func activitySeen(step: Int, at time: Double) {
        stall.activitySeen(step: step, at: time)
    }

    /// The run was closed (finish, `stop()`, a crash): never stalled until steps arrive again.
    public mutating func finish() {
        stall.finish()
    }

    /// Alerts due at `time` (stalls).
    public mutating func check(at time: Double) -> [LivenessFinding] {
        stall.check(at: time).map { [$0] } ?? []
    }

    /// A crash report: the run is closed and, when `crash` is enabled, a critical is raised.
    public mutating func crashed(_ report: CrashReport) -> [LivenessFinding] {
        let lastStep = stall.lastStep
        stall.finish()
        guard crash.enabled else { return [] }
        return [LivenessFinding(alert: report.alert(lastStep: lastStep))]
    }
}
