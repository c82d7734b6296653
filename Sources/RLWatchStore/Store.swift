import RLWatchCore

/// A monitored run, as the store keeps it.
public struct RunRecord: Sendable, Hashable {
    public var runID: String
    public var framework: String
    /// Seconds since 1970 when the run was first registered.
    public var startedAt: Double
    /// The resolved configuration as JSON, secrets already redacted by the caller.
    public var configJSON: String
    /// Seconds since 1970 when the run was closed (`finish`, the client's `stop()`); nil while open.
    public var finishedAt: Double?

    public init(runID: String, framework: String, startedAt: Double, configJSON: String, finishedAt: Double? = nil) {
        self.runID = runID
        self.framework = framework
        self.startedAt = startedAt
        self.configJSON = configJSON
        self.finishedAt = finishedAt
    }
}

/// How far a watched source (a log file a trainer writes) has been ingested, saved with the steps it covers.
///
/// `state` is opaque to the store: each reader writes what it needs to resume (a byte offset, a file
/// identity, a count of entries), as JSON by convention.
public struct SourceCheckpoint: Sendable, Hashable {
    /// What is watched, for example the absolute path of a file.
    public var source: String
    public var runID: String
    public var state: String

    public init(source: String, runID: String, state: String) {
        self.source = source
        self.runID = runID
        self.state = state
    }
}

/// The answer given to a batch sent with an idempotency key, kept so that a re-sent batch gets it again
/// instead of being applied twice.
public struct BatchReceipt: Sendable, Hashable {
    public var runID: String
    public var key: String
    /// The response body as it was first sent.
    public var response: String
    /// A digest of the batch the key was first used for, so that the key sent again with other steps is refused
    /// rather than answered with the first batch's receipt (its steps silently dropped); nil in receipts stored
    /// before digests were (SQLite schema v5, PostgreSQL v1), which match any batch.
    public var batchDigest: String?

    public init(runID: String, key: String, response: String, batchDigest: String? = nil) {
        self.runID = runID
        self.key = key
        self.response = response
        self.batchDigest = batchDigest
    }
}

/// What else an append records in the same transaction as its steps and alerts.
public struct AppendOptions: Sendable, Hashable {
    /// Moves a watched source's checkpoint forward with the steps read from it.
    public var checkpoint: SourceCheckpoint?
    /// Records the answer to an idempotent batch.
    public var receipt: BatchReceipt?

    public init(checkpoint: SourceCheckpoint? = nil, receipt: BatchReceipt? = nil) {
        self.checkpoint = checkpoint
        self.receipt = receipt
    }

    public static let none = AppendOptions()
}

/// One stored metrics row: a step as it arrived, with the time it arrived.
public struct StoredStep: Sendable, Hashable {
    public var runID: String
    /// Increments each time the step number fails to increase (a resume from a checkpoint).
    public var segment: Int
    public var timestamp: Double
    /// The step after `MetricStep.resolved()`: reward mean/std derived where possible.
    public var metrics: MetricStep

    public init(runID: String, segment: Int, timestamp: Double, metrics: MetricStep) {
        self.runID = runID
        self.segment = segment
        self.timestamp = timestamp
        self.metrics = metrics
    }
}

/// One stored alert, delivered or suppressed.
public struct AlertRecord: Sendable, Hashable {
    /// Assigned by the store; `nil` before insertion.
    public var id: Int64?
    public var runID: String
    public var timestamp: Double
    public var alert: Alert
    public var disposition: AlertDisposition
    /// The channels to deliver a delivered alert to (`slack`, `pagerduty`, …): appending the alert queues one
    /// outbox entry per channel in the same transaction. Not read back: queries return `[]`, see
    /// `OutboxStore.deliveries(runID:filter:)` for the queue.
    public var channels: [String]

    public init(
        id: Int64? = nil, runID: String, timestamp: Double, alert: Alert, disposition: AlertDisposition,
        channels: [String] = []
    ) {
        self.id = id
        self.runID = runID
        self.timestamp = timestamp
        self.alert = alert
        self.disposition = disposition
        self.channels = channels
    }
}

/// Which alerts a query returns.
public enum AlertFilter: Sendable, Hashable {
    case all
    case delivered
    case suppressed
}

/// Where rlwatch keeps runs, metric rows and alerts.
///
/// Implementations: `InMemoryStore` (tests, `--no-store`), `SQLiteStore` (the embedded default).
/// Every method may be called from any task; implementations serialise writes themselves.
public protocol Store: Sendable {
    /// Registers a run, or updates its framework and config if it exists (its start time is kept).
    func registerRun(_ run: RunRecord) async throws
    /// Appends steps and alerts, and the checkpoint or receipt of `options`, in one transaction: after it
    /// returns, all of them are durable; when it throws, none of them is stored.
    func append(steps: [StoredStep], alerts: [AlertRecord], options: AppendOptions) async throws
    /// Marks a run finished at `time`; a later `registerRun` of the same id (a resume) reopens it.
    func finishRun(id: String, at time: Double) async throws
    /// A watched source's last saved checkpoint, or nil.
    func checkpoint(source: String) async throws -> SourceCheckpoint?
    /// The receipt of a batch sent with this idempotency key, or nil.
    func receipt(runID: String, key: String) async throws -> BatchReceipt?
    /// All runs, newest first (by start time).
    func runs() async throws -> [RunRecord]
    /// One run, or nil.
    func run(id: String) async throws -> RunRecord?
    /// A run's metric rows in arrival order, optionally from a step on and at most `limit` rows.
    func steps(runID: String, sinceStep: Int?, limit: Int?) async throws -> [StoredStep]
    /// A run's alerts in arrival order.
    func alerts(runID: String, filter: AlertFilter) async throws -> [AlertRecord]
    /// The number of metric rows stored for a run.
    func stepCount(runID: String) async throws -> Int
}

extension Store {
    /// Appends steps and alerts in one transaction: after it returns, all of them are durable.
    public func append(steps: [StoredStep], alerts: [AlertRecord]) async throws {
        try await append(steps: steps, alerts: alerts, options: .none)
    }

    public func steps(runID: String) async throws -> [StoredStep] {
        try await steps(runID: runID, sinceStep: nil, limit: nil)
    }

    public func alerts(runID: String) async throws -> [AlertRecord] {
        try await alerts(runID: runID, filter: .all)
    }

    /// The most recently started run, or nil when the store holds none.
    public func latestRun() async throws -> RunRecord? {
        try await runs().first
    }
}
