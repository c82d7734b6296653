import Foundation
import RLWatchCore
import RLWatchStore
import Synchronization

/// The one pipeline of every command that judges a run: a batch of steps → ``Monitor`` (detectors, alert policy,
/// sinks, outbox entries for the alert dispatcher) → store, and the tally of what was judged.
///
/// The commands differ only in their source and whether they follow: `watch` feeds each poll of its followed sources
/// (``Watcher``), `replay` feeds finished logs read to their end (``ReplayFeeder``), `serve` feeds each HTTP batch
/// of a run (one pipeline per live run), `demo` feeds its simulated run.
public final class RunPipeline: Sendable {
    public let monitor: Monitor
    private let counts = Mutex(RunTally())

    public init(monitor: Monitor) {
        self.monitor = monitor
    }

    /// What was judged so far.
    public var tally: RunTally { counts.withLock { $0 } }

    /// Judges and stores a batch of steps in one transaction, with the source's position (a watched file) or the
    /// batch's receipt (an HTTP batch with an idempotency key) when there is one.
    ///
    /// - Parameter skippingRepeats: leave out steps that repeat the run's latest ones value for value (a client
    ///   retrying a batch whose answer it lost; see ``Monitor/log(batch:checkpoint:receipt:skippingRepeats:)``).
    /// - Returns: every candidate alert with its decision.
    /// - Throws: the store's error (the alerts were still printed).
    @discardableResult
    public func judge(
        _ steps: [MetricStep], checkpoint: SourceCheckpoint? = nil,
        receipt: (([AlertOutcome]) -> BatchReceipt)? = nil, skippingRepeats: Bool = false
    ) async throws -> [AlertOutcome] {
        let outcomes = try await monitor.log(
            batch: steps, checkpoint: checkpoint, receipt: receipt, skippingRepeats: skippingRepeats)
        count(outcomes, steps: steps.count)
        return outcomes
    }

    /// Records what the liveness detectors found (a stall, a crash) through the run's alert policy.
    ///
    /// - Parameter countingSuppressed: also count the suppressed ones in the tally.
    /// - Throws: the store's error (the alerts were still printed).
    @discardableResult
    public func record(_ findings: [LivenessFinding], at time: Double, countingSuppressed: Bool = true) async throws
        -> [AlertOutcome]
    {
        let outcomes = try await monitor.record(findings, at: time)
        count(countingSuppressed ? outcomes : outcomes.filter(\.disposition.isDelivered), steps: 0)
        return outcomes
    }

    private func count(_ outcomes: [AlertOutcome], steps: Int) {
        counts.withLock { tally in
            tally.steps += steps
            for outcome in outcomes {
                if outcome.disposition.isDelivered {
                    tally.delivered.append(outcome.alert)
                } else {
                    tally.suppressed += 1
                }
            }
        }
    }
}

/// `replay`'s source side of the ``RunPipeline``: the readers of finished logs call back once per step, synchronously;
/// the steps are gathered into batches, each judged and stored before the reader goes on, so a replay stopped by a
/// bad line has stored everything before it.
///
/// Waiting for a batch blocks the thread: read on a thread of its own (``runOnOwnThread(_:)``), never on one of Swift
/// concurrency's. Not `Sendable`: that one thread drives it.
public final class ReplayFeeder {
    public let pipeline: RunPipeline
    private let batchSize: Int
    private let clock: AnyWallClock
    private let printer: BufferedAlertPrinter?
    private var pending: [MetricStep] = []

    /// - Parameters:
    ///   - batchSize: the most steps judged and stored in one transaction.
    ///   - printer: where delivered alerts are printed (also a sink of the pipeline's monitor); flushed with each batch.
    public init(
        pipeline: RunPipeline, batchSize: Int = 8192, clock: AnyWallClock = .system, printer: BufferedAlertPrinter?
    ) {
        self.pipeline = pipeline
        self.batchSize = max(1, batchSize)
        self.clock = clock
        self.printer = printer
        pending.reserveCapacity(self.batchSize)
    }

    /// Queues one step; judges and stores the batch once it is full.
    public func consume(_ step: MetricStep) throws {
        pending.append(step)
        if pending.count >= batchSize { try flush() }
    }

    /// The log recorded that the run crashed (a tracker's failed exit): `run_crashed` at the last step, through the
    /// alert policy like a live watch's (nothing when `crash` is disabled).
    public func crashed(_ report: CrashReport) throws {
        try flush()
        guard pipeline.monitor.config.crash.enabled else { return }
        let finding = LivenessFinding(alert: report.alert(lastStep: pipeline.monitor.progress.lastStep))
        let (pipeline, time) = (pipeline, clock.now.secondsSince1970)
        try Self.wait { try await pipeline.record([finding], at: time) }
        printer?.flush()
    }

    /// Judges and stores what is queued, and writes the printed alerts.
    public func flush() throws {
        defer { printer?.flush() }
        guard !pending.isEmpty else { return }
        let (pipeline, batch) = (pipeline, pending)
        pending.removeAll(keepingCapacity: true)
        try Self.wait { try await pipeline.judge(batch) }
    }

    /// Runs `body` as a task and blocks this thread until it is done.
    private static func wait(_ body: @escaping @Sendable () async throws -> [AlertOutcome]) throws {
        let done = DispatchSemaphore(value: 0)
        let outcome = Outcome()
        Task {
            do {
                _ = try await body()
            } catch {
                outcome.fail(error)
            }
            done.signal()
        }
        done.wait()
        if let error = outcome.error { throw error }
    }

    /// Runs `body` on a new thread, where it may wait for the pipeline, and returns what it returns.
    ///
    /// - Throws: what `body` throws.
    public static func runOnOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread { continuation.resume(with: Result { try body() }) }
            // The readers recurse into nested JSON: the main thread's stack size, not a secondary thread's 512 KiB.
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    /// The error of a batch, set by its task and read by the waiting thread.
    private final class Outcome: Sendable {
        private let stored = Mutex<(any Error)?>(nil)

        var error: (any Error)? { stored.withLock { $0 } }

        func fail(_ error: any Error) { stored.withLock { $0 = error } }
    }
}
