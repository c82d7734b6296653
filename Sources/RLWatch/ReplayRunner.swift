import Foundation
import RLWatchCore
import RLWatchStore

/// The offline engine behind `rlwatch replay`: steps in order → detectors → policy → output and store.
///
/// Works synchronously on the caller's thread so a million-line file runs in a tight loop; stored rows
/// are handed to `persist` in batches of `batchSize` (one transaction each), so a replay interrupted by a
/// bad line has already stored everything before it.
public final class ReplayRunner {
    public enum OutputFormat: String, Sendable, CaseIterable { case text, jsonl }

    public let runID: String
    private let analyzer: RunAnalyzer
    private let format: OutputFormat
    private let persist: (([StoredStep], [AlertRecord]) throws -> Void)?
    private let batchSize: Int
    private var pendingSteps: [StoredStep] = []
    private var pendingAlerts: [AlertRecord] = []
    private var output = OutputBuffer()
    private let timestamp: Double
    private let crashEnabled: Bool
    private var lastStep: Int?

    public private(set) var stepsProcessed = 0
    public private(set) var delivered: [Alert] = []
    public private(set) var suppressedCount = 0

    /// - Parameters:
    ///   - persist: writes one batch durably; nil for `--no-store`.
    ///   - clock: the wall clock the stored rows are stamped with (once: a replay is one moment).
    public init(
        config: RLWatchConfig, runID: String, format: OutputFormat, batchSize: Int = 8192, clock: AnyWallClock = .system,
        persist: (([StoredStep], [AlertRecord]) throws -> Void)?
    ) {
        analyzer = RunAnalyzer(config: config)
        self.runID = runID
        self.format = format
        self.persist = persist
        self.batchSize = max(1, batchSize)
        timestamp = clock.now.secondsSince1970
        crashEnabled = config.crash.enabled
        if persist != nil { pendingSteps.reserveCapacity(self.batchSize) }
    }

    /// Judges one step, prints its delivered alerts, and queues it for storage.
    public func consume(_ step: MetricStep) throws {
        let result = analyzer.process(step)
        stepsProcessed += 1
        lastStep = step.step
        for outcome in result.outcomes {
            if outcome.disposition.isDelivered {
                delivered.append(outcome.alert)
                write(outcome.alert)
            } else {
                suppressedCount += 1
            }
        }
        guard persist != nil else { return }
        let rows = result.records(runID: runID, timestamp: timestamp)
        pendingSteps.append(rows.step)
        pendingAlerts += rows.alerts
        if pendingSteps.count >= batchSize { try flush() }
    }

    /// The log recorded that the run crashed (a tracker's failed exit): `run_crashed` at the last step, through the
    /// alert policy like a live watch's (nothing when `crash` is disabled).
    public func crashed(_ report: CrashReport) throws {
        guard crashEnabled else { return }
        let alert = report.alert(lastStep: lastStep)
        let disposition = analyzer.decideLiveness(alert)
        if disposition.isDelivered {
            delivered.append(alert)
            write(alert)
        } else {
            suppressedCount += 1
        }
        guard persist != nil else { return }
        pendingAlerts.append(AlertRecord(runID: runID, timestamp: timestamp, alert: alert, disposition: disposition))
        try flush()
    }

    /// Stores what is queued and writes buffered output.
    public func flush() throws {
        output.flush()
        guard let persist, !pendingSteps.isEmpty || !pendingAlerts.isEmpty else { return }
        try persist(pendingSteps, pendingAlerts)
        pendingSteps.removeAll(keepingCapacity: true)
        pendingAlerts.removeAll(keepingCapacity: true)
    }

    /// What the replay judged so far.
    public var tally: RunTally { RunTally(steps: stepsProcessed, delivered: delivered, suppressed: suppressedCount) }

    /// The most severe delivered alert, if any.
    public var worstSeverity: Severity? { tally.worstSeverity }

    /// The closing summary line of a text replay.
    public var summary: String { tally.line("Replayed", runID: runID) }

    private func write(_ alert: Alert) {
        switch format {
        case .jsonl:
            output.append(alert.json.serialized())
            output.append("\n")
        case .text:
            output.append("step \(alert.step)  \(alert.severity.rawValue.uppercased())  \(alert.detector)\n")
            output.append("  \(alert.message)\n")
            output.append("  Recommendation: \(alert.recommendation)\n")
        }
    }
}

/// Buffered standard output: one `write(2)` per 64 KiB instead of one per alert.
struct OutputBuffer {
    private var bytes: [UInt8] = []

    mutating func append(_ text: String) {
        bytes.append(contentsOf: text.utf8)
        if bytes.count >= 1 << 16 { flush() }
    }

    mutating func flush() {
        guard !bytes.isEmpty else { return }
        bytes.withUnsafeBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            var offset = 0
            while offset < buffer.count {
                let written = Foundation.write(STDOUT_FILENO, base + offset, buffer.count - offset)
                if written <= 0 { break }
                offset += written
            }
        }
        bytes.removeAll(keepingCapacity: true)
    }
}
