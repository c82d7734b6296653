import Logging
import RLWatchCore
import RLWatchStore
import Synchronization

/// Watches runs for silence, slowdowns and crashes: the ``LivenessTracker`` of every live run, driven by a clock.
///
/// Callers report arrivals (``stepsArrived(runID:batch:config:)``), closes (``finished(runID:)``) and crash reports;
/// ``run()`` wakes every `stall.check_interval_seconds` of the clock and hands due alerts to `emit`, which records
/// them through the run's `Monitor` (the same alert policy, store and channels as every other alert).
///
/// Before a stall is emitted, the store is asked for the run's last row: when another process (a second
/// `rlwatch serve` on the same database) stored steps meanwhile, the run is not silent, and when the same stall
/// alert is already stored (raised before a restart, or by the other instance) it is not raised twice.
public final class LivenessWatchdog<C: Clock>: Sendable where C.Instant == WallInstant {
    /// Records findings for a run (its monitor's `record(_:at:)`), under whatever lock orders the run's writes.
    public typealias Emit = @Sendable (_ runID: String, _ findings: [LivenessFinding], _ time: Double) async -> Void

    private struct Entry: Sendable {
        var tracker: LivenessTracker
    }

    public let clock: C
    private let baseConfig: RLWatchConfig
    private let store: any Store
    private let emit: Emit
    private let logger: Logger
    private let entries = Mutex<[String: Entry]>([:])

    public init(clock: C, baseConfig: RLWatchConfig, store: any Store, logger: Logger, emit: @escaping Emit) {
        self.clock = clock
        self.baseConfig = baseConfig
        self.store = store
        self.logger = logger
        self.emit = emit
    }

    /// The clock's time, seconds since 1970.
    public var now: Double { clock.now.secondsSince1970 }

    /// How many runs are tracked.
    public var trackedCount: Int { entries.withLock { $0.count } }

    /// Records a stored batch of a run (judged with `config`), arriving now; returns the findings to record with it
    /// (the "resumed" note of a stall it ends, a throughput warning).
    public func stepsArrived(runID: String, batch: [MetricStep], config: RLWatchConfig) -> [LivenessFinding] {
        let time = now
        return entries.withLock { map in
            var entry = map[runID] ?? Entry(tracker: LivenessTracker(config: config))
            let findings = entry.tracker.stepsArrived(batch, at: time)
            map[runID] = entry
            return findings
        }
    }

    /// The run was closed: it is never reported stalled (until steps arrive again), and its state is dropped.
    public func finished(runID: String) {
        _ = entries.withLock { $0.removeValue(forKey: runID) }
    }

    /// A crash report: closes the run and returns the critical to record (none when `crash.enabled` is false).
    public func crashed(runID: String, report: CrashReport, config: RLWatchConfig, lastStep: Int?) -> [LivenessFinding] {
        let findings = entries.withLock { map -> [LivenessFinding] in
            var tracker = map[runID]?.tracker ?? LivenessTracker(config: config)
            map.removeValue(forKey: runID)
            if tracker.stall.lastStep == nil, let lastStep {
                tracker = LivenessTracker(config: config, lastStep: lastStep, lastArrival: now)
            }
            return tracker.crashed(report)
        }
        return findings
    }

    /// Starts tracking the runs a previous process left open: each unfinished run whose last row is younger than
    /// `stall.forget_after_seconds` is silent since that row, so a run that went quiet while no monitor ran is
    /// reported once the stall time has passed. Finished runs are not tracked.
    ///
    /// - Parameter configuration: the configuration a stored run is judged with.
    public func adoptOpenRuns(configuration: (RunRecord) -> RLWatchConfig) async {
        let time = now
        do {
            for run in try await store.runs() where run.finishedAt == nil {
                let config = configuration(run)
                guard config.stall.enabled, entries.withLock({ $0[run.runID] == nil }),
                    let last = try await store.lastActivity(runID: run.runID),
                    time - last.timestamp < config.stall.forgetAfterSeconds
                else { continue }
                entries.withLock { map in
                    if map[run.runID] == nil {
                        map[run.runID] = Entry(
                            tracker: LivenessTracker(config: config, lastStep: last.step, lastArrival: last.timestamp))
                    }
                }
            }
        } catch {
            logger.error("could not read the open runs to watch for stalls: \(error)")
        }
    }

    /// Checks every tracked run once and emits what is due.
    public func checkAll() async {
        let time = now
        let due = entries.withLock { map -> [(String, LivenessFinding, Double?)] in
            var due: [(String, LivenessFinding, Double?)] = []
            for (runID, var entry) in map {
                let lastArrival = entry.tracker.stall.lastArrival
                for finding in entry.tracker.check(at: time) { due.append((runID, finding, lastArrival)) }
                if let lastArrival, time - lastArrival >= entry.tracker.stall.config.forgetAfterSeconds {
                    map.removeValue(forKey: runID)
                } else {
                    map[runID] = entry
                }
            }
            return due
        }
        for (runID, finding, lastArrival) in due {
            guard await stillDue(runID: runID, finding: finding, lastArrival: lastArrival) else { continue }
            await emit(runID, [finding], time)
        }
    }

    /// Whether a stall found in memory holds in the store too: no newer row from another process, not raised yet.
    private func stillDue(runID: String, finding: LivenessFinding, lastArrival: Double?) async -> Bool {
        do {
            if let run = try await store.run(id: runID), run.finishedAt != nil, lastArrival.map({ run.finishedAt! >= $0 }) ?? true {
                finished(runID: runID)
                return false
            }
            if let last = try await store.lastActivity(runID: runID), let lastArrival, last.timestamp > lastArrival + 1e-6 {
                // Another process stored steps meanwhile: the run is alive; start its silence from that row.
                entries.withLock { map in
                    guard var entry = map[runID] else { return }
                    entry.tracker.activitySeen(step: last.step, at: last.timestamp)
                    map[runID] = entry
                }
                return false
            }
            let alert = finding.alert
            let stored = try await store.alerts(runID: runID)
            return !stored.contains {
                $0.alert.detector == alert.detector && $0.alert.severity == alert.severity && $0.alert.step == alert.step
                    && $0.disposition != .suppressed(.resolved)
            }
        } catch {
            logger.warning("could not check run \(runID) in the store before raising \(finding.alert.detector): \(error)")
            return true
        }
    }

    /// Checks every `stall.check_interval_seconds` of the clock until cancelled.
    public func run() async throws {
        let interval = Duration.seconds(baseConfig.stall.checkIntervalSeconds)
        while !Task.isCancelled {
            try await clock.sleep(for: interval)
            await checkAll()
        }
    }
}
