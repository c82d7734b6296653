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
/// the steps are gathered into batches and each batch is judged and stored while the reader parses the next one (one
/// batch in flight at a time, in order), so reading and judging use two cores. ``flush()`` returns once everything
/// consumed so far is stored: a replay stopped by a bad line has stored everything before it.
///
/// Waiting for a batch blocks the thread: read on a thread of its own (``runOnOwnThread(_:)``), never on one of Swift
/// concurrency's. Not `Sendable`: that one thread drives it.
public final class ReplayFeeder {
    public let pipeline: RunPipeline
    private let batchSize: Int
    private let clock: AnyWallClock
    private let printer: BufferedAlertPrinter?
    private var pending: [MetricStep] = []
    /// The batch being judged and stored, if any.
    private var inFlight: InFlight?

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

    /// Queues one step; hands the batch to the pipeline once it is full.
    ///
    /// - Throws: the store's error for the batch before (nothing after it is stored).
    public func consume(_ step: MetricStep) throws {
        pending.append(step)
        if pending.count >= batchSize { try submit() }
    }

    /// The log recorded that the run crashed (a tracker's failed exit): `run_crashed` at the last step, through the
    /// alert policy like a live watch's (nothing when `crash` is disabled).
    public func crashed(_ report: CrashReport) throws {
        try flush()
        guard pipeline.monitor.config.crash.enabled else { return }
        let finding = LivenessFinding(alert: report.alert(lastStep: pipeline.monitor.progress.lastStep))
        let (pipeline, time) = (pipeline, clock.now.secondsSince1970)
        inFlight = InFlight { try await pipeline.record([finding], at: time) }
        try waitForInFlight()
    }

    /// Judges and stores everything consumed so far, and writes the printed alerts.
    public func flush() throws {
        try submit()
        try waitForInFlight()
    }

    /// Waits for the batch in flight, then starts judging what is queued without waiting for it.
    private func submit() throws {
        try waitForInFlight()
        guard !pending.isEmpty else { return }
        let (pipeline, batch) = (pipeline, pending)
        pending.removeAll(keepingCapacity: true)
        inFlight = InFlight { try await pipeline.judge(batch) }
    }

    /// Blocks until the batch in flight is stored; writes its printed alerts.
    private func waitForInFlight() throws {
        guard let running = inFlight else { return }
        inFlight = nil
        defer { printer?.flush() }
        try running.wait()
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

    /// A batch's task: started at once, waited for by the reading thread.
    private final class InFlight: Sendable {
        private let done = DispatchSemaphore(value: 0)
        private let failure = Mutex<(any Error)?>(nil)

        init(_ body: @escaping @Sendable () async throws -> [AlertOutcome]) {
            Task {
                do {
                    _ = try await body()
                } catch {
                    self.failure.withLock { $0 = error }
                }
                self.done.signal()
            }
        }

        /// Blocks until the task ends; throws its error.
        func wait() throws {
            done.wait()
            if let error = failure.withLock({ $0 }) { throw error }
        }
    }
}
