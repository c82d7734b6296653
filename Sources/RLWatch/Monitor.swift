import Foundation
import Logging
import RLWatchCore
import RLWatchStore
import Synchronization

/// Where delivered alerts go besides the store (the console today; chat and mail channels later).
public protocol AlertSink: Sendable {
    func deliver(_ alert: Alert, runID: String)
}

extension ConsoleAlertPrinter: AlertSink {
    public func deliver(_ alert: Alert, runID: String) { print(alert, runID: runID) }
}

/// The rlwatch monitor for one run: steps in, alerts out, everything stored.
///
/// `log(_:)` never throws and never traps: a store failure is logged and counted, and the step's alerts
/// are still returned and printed. Concurrent callers are serialised per monitor; detector state lives
/// behind a lock and is never shared.
public final class Monitor: Sendable {
    public let runID: String
    public let config: RLWatchConfig
    let store: any Store
    private let sinks: [any AlertSink]
    /// Per severity, the channels each delivered alert is queued for (empty when not queueing).
    private let deliveryChannels: [Severity: [String]]
    let logger: Logger
    private let analyzer: Mutex<RunAnalyzer>
    private let failures = Atomic<Int>(0)
    /// Stamps the stored rows, the run's start and the checkpoints recorded.
    public let clock: AnyWallClock

    /// Creates the monitor and registers the run in the store.
    ///
    /// - Parameters:
    ///   - config: the resolved configuration; its `run_id` is used when `runID` is nil, and a fresh id
    ///     `run_YYYYmmdd_HHMMSS_xxxxxx` when both are empty.
    ///   - framework: recorded with the run (`auto`, `trl`, `verl`, `openrlhf`, `manual`).
    ///   - store: where steps and alerts go.
    ///   - sinks: where delivered alerts are printed or sent.
    ///   - logger: where store failures are logged (default: the task's `Logger.current`).
    ///   - clock: the wall clock the rows and the run's start are stamped with.
    ///   - queueDeliveries: queue each delivered alert for the enabled alert channels (Slack, Discord, email,
    ///     webhook, PagerDuty): one outbox entry per channel, written in the step's transaction, for an
    ///     `AlertDispatcher` (module RLWatchAlerts) to send. Nothing is sent from `log`.
    ///   - recognisingRepeats: remember a fingerprint of the latest steps, so that `log(batch:…skippingRepeats:)`
    ///     can tell a re-sent step (`serve`, whose clients retry batches); off, no step counts as a repeat and the
    ///     fingerprints are not computed (replay, watch).
    /// - Throws: when the run cannot be registered in the store.
    public init(
        config: RLWatchConfig, runID: String? = nil, framework: String? = nil, store: any Store,
        sinks: [any AlertSink] = [], queueDeliveries: Bool = false, recognisingRepeats: Bool = false,
        logger: Logger = .current, clock: AnyWallClock = .system
    ) async throws {
        let now = clock.date
        let chosen = runID.flatMap { $0.isEmpty ? nil : $0 } ?? (config.runID.isEmpty ? nil : config.runID)
        self.runID = chosen ?? Monitor.generateRunID(now: now)
        self.config = config
        self.store = store
        self.sinks = sinks
        var channels: [Severity: [String]] = [:]
        if queueDeliveries {
            for severity in Severity.allCases {
                channels[severity] = config.alerts.channels(for: severity).map(\.rawValue)
            }
        }
        deliveryChannels = channels
        self.logger = logger
        self.clock = clock
        analyzer = Mutex(RunAnalyzer(config: config, remembersRecentSteps: recognisingRepeats))
        try await store.registerRun(
            RunRecord(
                runID: self.runID, framework: framework ?? config.framework,
                startedAt: now.timeIntervalSince1970, configJSON: Monitor.configJSON(config)))
    }

    /// A run id like rlwatch 0.5.1's: `run_20261123_031500_a1b2c3` (local time).
    public static func generateRunID(now: Date = AnyWallClock.system.date) -> String {
        let suffix = String(UInt32.random(in: 0...0xFF_FFFF), radix: 16)
        return "run_\(formatLocalTime(now.timeIntervalSince1970, "yyyyMMdd_HHmmss"))_\(String(repeating: "0", count: 6 - suffix.count))\(suffix)"
    }

    /// How many store writes have failed since the monitor started.
    public var storeFailures: Int { failures.load(ordering: .relaxed) }

    /// Judges and stores one step; returns the alerts delivered for it. Never throws.
    @discardableResult
    public func log(_ step: MetricStep) async -> [Alert] {
        (try? await log(batch: [step], throwing: false).filter { $0.disposition.isDelivered }.map(\.alert)) ?? []
    }

    /// Judges and stores a batch of steps in one transaction; returns every candidate with its decision.
    ///
    /// - Throws: the store's error when the batch could not be stored (its alerts were still printed).
    public func log(batch: [MetricStep]) async throws -> [AlertOutcome] {
        try await log(batch: batch, throwing: true)
    }

    /// Judges a batch and stores it together with a watched file's checkpoint or a batch receipt.
    ///
    /// - Parameters:
    ///   - receipt: builds the receipt from the batch's outcomes (the answer a re-sent batch gets).
    ///   - skippingRepeats: leave out steps that repeat one of the run's latest steps value for value
    ///     (``RunAnalyzer/isRepeat(_:)``): a client retrying a batch whose answer it lost. `serve` sets it; a
    ///     watched file read again from its start is a new segment instead.
    /// - Throws: the store's error when the batch could not be stored (its alerts were still printed).
    public func log(
        batch: [MetricStep], checkpoint: SourceCheckpoint? = nil,
        receipt: (([AlertOutcome]) -> BatchReceipt)? = nil, skippingRepeats: Bool = false
    ) async throws -> [AlertOutcome] {
        try await log(
            batch: batch, throwing: true, checkpoint: checkpoint, receipt: receipt, skippingRepeats: skippingRepeats)
    }

    /// Brings the detectors and the alert policy to where they were after `history` (a run's stored rows,
    /// in arrival order): a resumed run neither re-raises its old alerts nor forgets its baselines.
    /// Nothing is stored or printed.
    public func restore(from history: [StoredStep]) {
        analyzer.withLock { analyzer in
            for row in history { _ = analyzer.process(row.metrics) }
        }
    }

    /// Records what the liveness detectors found (a stall, a slowdown, a crash, a "resumed" note): alerts go through
    /// the run's alert policy and, when delivered, to the sinks and the alert channels like any other; notes are
    /// stored as `resolved` and never delivered.
    ///
    /// - Parameter time: when it was found (seconds since 1970), stored as the alerts' timestamp.
    /// - Throws: the store's error (the alerts were still printed).
    @discardableResult
    public func record(_ findings: [LivenessFinding], at time: Double) async throws -> [AlertOutcome] {
        guard !findings.isEmpty else { return [] }
        let outcomes = analyzer.withLock { analyzer in
            findings.map { finding in
                AlertOutcome(
                    alert: finding.alert,
                    disposition: finding.isNote ? .suppressed(.resolved) : analyzer.decideLiveness(finding.alert))
            }
        }
        let (judged, annotated) = await namingResumePoint(
            outcomes.map { AlertRecord(runID: runID, timestamp: time, alert: $0.alert, disposition: $0.disposition) },
            outcomes: outcomes)
        let records = prepareDelivery(judged, outcomes: annotated)
        do {
            try await store.append(steps: [], alerts: records, options: .none)
        } catch {
            failures.add(1, ordering: .relaxed)
            logger.error("rlwatch could not store \(records.count) liveness alert(s) of run \(runID): \(error)")
            throw error
        }
        return annotated
    }

    /// Queues each delivered alert for its severity's channels and prints it to the sinks; returns the records to
    /// store.
    private func prepareDelivery(_ judged: [AlertRecord], outcomes: [AlertOutcome]) -> [AlertRecord] {
        var records = judged
        if !deliveryChannels.isEmpty {
            for index in records.indices where records[index].disposition.isDelivered {
                records[index].channels = deliveryChannels[records[index].alert.severity] ?? []
                if config.actions.runsCommand(for: records[index].alert) {
                    records[index].channels.append(AlertCommand.channel)
                }
            }
        }
        for outcome in outcomes where outcome.disposition.isDelivered {
            for sink in sinks { sink.deliver(outcome.alert, runID: runID) }
        }
        return records
    }

    /// How many steps the detectors have seen (restored history included), and the last step number.
    public var progress: (steps: Int, lastStep: Int?) {
        analyzer.withLock { ($0.stepsSeen, $0.lastStep) }
    }

    private func log(
        batch: [MetricStep], throwing: Bool, checkpoint: SourceCheckpoint? = nil,
        receipt: (([AlertOutcome]) -> BatchReceipt)? = nil, skippingRepeats: Bool = false
    ) async throws -> [AlertOutcome] {
        let timestamp = clock.now.secondsSince1970
        let (stored, judged, outcomes) = analyzer.withLock { analyzer in
            var stored: [StoredStep] = []
            var records: [AlertRecord] = []
            var outcomes: [AlertOutcome] = []
            stored.reserveCapacity(batch.count)
            for step in batch {
                // The same step sent again (a retried batch whose answer was lost): already judged and stored.
                if skippingRepeats && analyzer.isRepeat(step) { continue }
                let result = analyzer.process(step)
                let rows = result.records(runID: runID, timestamp: timestamp)
                stored.append(rows.step)
                records += rows.alerts
                outcomes += result.outcomes
            }
            return (stored, records, outcomes)
        }
        let (named, annotated) = await namingResumePoint(judged, outcomes: outcomes)
        let records = prepareDelivery(named, outcomes: annotated)
        do {
            try await store.append(
                steps: stored, alerts: records,
                options: AppendOptions(checkpoint: checkpoint, receipt: receipt?(outcomes), at: timestamp))
        } catch {
            failures.add(1, ordering: .relaxed)
            logger.error("rlwatch could not store \(batch.count) step(s) of run \(runID): \(error)")
            if throwing { throw error }
        }
        return annotated
    }
}

extension Monitor {
    /// The run's config as stored: redacted JSON.
    public static func configJSON(_ config: RLWatchConfig) -> String {
        config.toJSON(redactingSecrets: true)
    }
}
