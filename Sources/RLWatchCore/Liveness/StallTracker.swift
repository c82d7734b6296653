/// `run_stalled`: a run that sent steps and then sends none for too long.
///
/// States: `waiting` (no step yet: never stalled), `active`, `warned` and `critical` (an episode of silence,
/// alerted once per severity), and `finished` (closed by `finish`, `stop()` or the end of a closed file: never
/// stalled again unless steps arrive, which reopen it). A step arriving in `warned` or `critical` ends the
/// episode with a "resumed" note.
///
/// The warning time is `stall.after_seconds`, or by default the larger of `min_after_seconds` (10 min) and
/// `interval_multiplier` (10) × the run's median wall-clock interval between steps, so a run that logs once
/// every 5 minutes is not called stalled after 10. The critical time is `critical_after_seconds`, or
/// `critical_multiplier` (3) × the warning time.
public struct StallTracker: Sendable {
    private enum State: Sendable, Hashable {
        case waiting
        case active
        case warned
        case critical
        case finished
    }

    public let config: StallConfig
    private var state = State.waiting
    /// When the last step arrived (seconds since 1970) and its step number.
    public private(set) var lastArrival: Double?
    public private(set) var lastStep: Int?
    /// The most recent per-step intervals (seconds), for the median.
    private var intervals: [Double] = []
    private var intervalHead = 0
    private static let intervalCapacity = 256

    public init(config: StallConfig) {
        self.config = config
    }

    /// Starts from a stored run's last row (a restarted monitor): silent since `time`.
    public init(config: StallConfig, lastStep: Int, lastArrival: Double) {
        self.config = config
        self.lastStep = lastStep
        self.lastArrival = lastArrival
        state = .active
    }

    public var isStalled: Bool { state == .warned || state == .critical }
    public var isFinished: Bool { state == .finished }

    /// The median wall-clock interval between steps seen so far, or nil before two arrivals.
    public var medianInterval: Double? { intervals.isEmpty ? nil : medianOf(intervals) }

    /// Seconds of silence after which the run is stalled (warning).
    public var warningAfter: Double {
        if let after = config.afterSeconds { return after }
        return max(config.minAfterSeconds, config.intervalMultiplier * (medianInterval ?? 0))
    }

    /// Seconds of silence after which the stall is critical.
    public var criticalAfter: Double {
        max(config.criticalAfterSeconds ?? config.criticalMultiplier * warningAfter, warningAfter)
    }

    /// Records `count` steps (the last numbered `lastStep`) arriving at `time`; returns the "resumed" note when
    /// they end a stall.
    public mutating func stepsArrived(count: Int, lastStep step: Int, at time: Double) -> LivenessFinding? {
        guard count > 0 else { return nil }
        var note: LivenessFinding?
        if isStalled, let lastArrival {
            let silence = time - lastArrival
            note = LivenessFinding(
                alert: Alert(
                    step: step, detector: .runStalled, severity: state == .critical ? .critical : .warning,
                    message: "Run resumed: step \(step) arrived after \(describeDuration(silence)) without steps "
                        + "(last step before the silence: \(lastStep.map(String.init) ?? "none")).",
                    metricValues: [
                        "silence_seconds": .double(silence.rounded()),
                        "resumed_at_step": .int(step),
                    ],
                    recommendation: "No action needed if the pause was expected (evaluation, checkpointing). If it "
                        + "was not, check the job's log around the silence for retries or a restarted worker."),
                isNote: true)
        } else if state != .finished, let lastArrival, time > lastArrival {
            // Spread the gap over the steps it brought, so a batch of 10 steps a second reads 0.1 s per step.
            let perStep = (time - lastArrival) / Double(count)
            if intervals.count < Self.intervalCapacity {
                intervals.append(perStep)
            } else {
                intervals[intervalHead] = perStep
                intervalHead = (intervalHead + 1) % Self.intervalCapacity
            }
        }
        state = .active
        lastArrival = time
        lastStep = step
        return note
    }

    /// Steps of this run were stored by someone else (another monitor process on the same database) at `time`: the
    /// run is alive; its silence counts from there. Undoes a stall found but not yet raised.
    public mutating func activitySeen(step: Int, at time: Double) {
        guard time > (lastArrival ?? -.infinity) else { return }
        lastArrival = time
        lastStep = step
        if state != .finished { state = .active }
    }

    /// The run was closed: it is never stalled until steps arrive again.
    public mutating func finish() {
        state = .finished
    }

    /// The alert due at `time`, if any: a warning once the silence passes ``warningAfter``, a critical once it
    /// passes ``criticalAfter`` (each once per silence).
    public mutating func check(at time: Double) -> LivenessFinding? {
        guard config.enabled, let lastArrival else { return nil }
        let silence = time - lastArrival
        let warning = warningAfter
        let critical = criticalAfter
        let severity: Severity
        switch state {
        case .waiting, .finished, .critical:
            return nil
        case .active:
            guard silence >= warning else { return nil }
            severity = silence >= critical ? .critical : .warning
        case .warned:
            guard silence >= critical else { return nil }
            severity = .critical
        }
        state = severity == .critical ? .critical : .warned
        return LivenessFinding(alert: alert(severity: severity, silence: silence, threshold: severity == .critical ? critical : warning))
    }

    private func plain(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : formatNumber(value)
    }

    /// Where a limit came from, so the user knows which setting to change.
    private func limitSource(severity: Severity) -> String {
        if severity == .critical, config.criticalAfterSeconds != nil { return "stall.critical_after_seconds" }
        if severity == .critical {
            return "\(plain(config.criticalMultiplier)) × the stall limit, stall.critical_multiplier"
        }
        if config.afterSeconds != nil { return "stall.after_seconds" }
        if let median = medianInterval, config.intervalMultiplier * median > config.minAfterSeconds {
            return "\(plain(config.intervalMultiplier)) × the median step interval, "
                + "stall.interval_multiplier"
        }
        return "stall.min_after_seconds"
    }

    private func alert(severity: Severity, silence: Double, threshold: Double) -> Alert {
        var values: MetricValues = [
            "silence_seconds": .double(silence.rounded()),
            "threshold_seconds": .double(threshold.rounded()),
        ]
        var usual = ""
        if let median = medianInterval {
            values["median_step_interval_seconds"] = .double((median * 100).rounded() / 100)
            usual = " It usually logs a step every \(describeDuration(median))."
        }
        let step = lastStep ?? 0
        let recommendation =
            severity == .critical
            ? "The run is likely hung or dead. Check that the job is still running (scheduler state, GPU "
                + "utilisation with nvidia-smi); a hang at 0% utilisation is usually a collective (NCCL) waiting on a "
                + "lost rank: look at each rank's last log line, then restart from the last checkpoint. Call "
                + "finish/stop() when a run ends so a finished run is never reported as stalled."
            : "Check whether the job is still making progress: a long evaluation or checkpoint save is expected "
                + "silence; a hung data loader or a collective (NCCL) waiting on a lost rank is not. Look at the "
                + "job's log and GPU utilisation before the critical fires."
        return Alert(
            step: step, detector: .runStalled, severity: severity,
            message: "No steps for \(describeDuration(silence)) (last step \(step)); the \(severity == .critical ? "critical" : "stall") "
                + "limit is \(describeLimit(threshold)) (\(limitSource(severity: severity))).\(usual)",
            metricValues: values, recommendation: recommendation)
    }
}
