import Foundation
import RLWatch
import RLWatchCore
import RLWatchSQLite
import RLWatchStore
import RLWatchTesting
import Testing

/// A sink that remembers what it was given (a real sink, not a mock: the console printer renders the same alerts).
final class RecordingSink: AlertSink, @unchecked Sendable {
    private let lock = NSLock()
    private var _alerts: [(Alert, String)] = []
    var alerts: [(Alert, String)] { lock.withLock { _alerts } }
    func deliver(_ alert: Alert, runID: String) { lock.withLock { _alerts.append((alert, runID)) } }
}

func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("rlwatch-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

@Suite struct MonitorTests {
    @Test func logsStepsAndAlertsIntoARealSQLiteFile() async throws {
        let dir = try temporaryDirectory()
        let path = dir.appendingPathComponent("metrics.db").path
        let store = try SQLiteStore(path: path)
        let sink = RecordingSink()
        var config = RLWatchConfig()
        config.alerts.slack.webhookURL = "https://hooks.example.invalid/secret-token"
        let monitor = try await Monitor(config: config, runID: "run-a", framework: "trl", store: store, sinks: [sink])
        var delivered: [Alert] = []
        for i in 1...30 { delivered += await monitor.log(MetricStep(step: i, loss: 0.3, gradNorm: 1.0)) }
        delivered += await monitor.log(MetricStep(step: 31, loss: .nan, gradNorm: .nan))
        #expect(Set(delivered.map(\.detector)) == [.lossNaN, .gradientNormSpike])
        #expect(sink.alerts.count == 2)
        #expect(sink.alerts.allSatisfy { $0.1 == "run-a" })

        // A second connection reads what the first wrote: 31 rows, 2 alerts, NaN intact, secret redacted.
        let reader = try SQLiteStore(path: path)
        #expect(try await reader.stepCount(runID: "run-a") == 31)
        let steps = try await reader.steps(runID: "run-a")
        #expect(steps.last?.metrics.loss?.isNaN == true)
        #expect(try await reader.alerts(runID: "run-a").count == 2)
        let run = try #require(try await reader.run(id: "run-a"))
        #expect(run.framework == "trl")
        #expect(!run.configJSON.contains("secret-token"))
        #expect(monitor.storeFailures == 0)
    }

    @Test func aStoreFailureNeverReachesTheTrainingLoop() async throws {
        let dir = try temporaryDirectory()
        let path = dir.appendingPathComponent("metrics.db").path
        // Create the database, then reopen it read-only: every write fails for real.
        _ = try SQLiteStore(path: path)
        let readOnly = try SQLiteStore.openExisting(path: path, readOnly: true)
        let failing = try await Monitor(config: RLWatchConfig(), runID: "ro", store: SeparateRegistration(readOnly))
        let alerts = await failing.log(MetricStep(step: 1, loss: .infinity))
        #expect(alerts.map(\.detector) == [.lossNaN])
        #expect(failing.storeFailures == 1)
        await #expect(throws: (any Error).self) { try await failing.log(batch: [MetricStep(step: 2)]) }
    }

    @Test func suppressedAlertsAreStoredWithTheirReason() async throws {
        let store = InMemoryStore()
        var config = RLWatchConfig()
        config.alerts.maxAlertsPerRun = 1
        config.lossNaN.warmupSteps = 0
        let monitor = try await Monitor(config: config, runID: "cap", store: store)
        // Two NaN episodes: the second one is over the cap.
        let steps = [MetricStep(step: 1, loss: .nan)] + (2...5).map { MetricStep(step: $0, loss: 0.1) }
            + [MetricStep(step: 6, loss: .nan)]
        let outcomes = try await monitor.log(batch: steps)
        #expect(outcomes.map(\.disposition) == [.delivered, .suppressed(.runCap(limit: 1))])
        let stored = try await store.alerts(runID: "cap", filter: .suppressed)
        #expect(stored.count == 1)
        #expect(stored.first?.disposition == .suppressed(.runCap(limit: 1)))
    }

    @Test func generatedRunIDsLookLike051s() {
        let id = Monitor.generateRunID(now: Date(timeIntervalSince1970: 0))
        #expect(id.hasPrefix("run_19700101_") || id.hasPrefix("run_1969"))
        #expect(id.count == "run_19700101_000000_abcdef".count)
    }
}

/// A store that registers runs in memory but writes metric rows through a read-only SQLite connection,
/// so the monitor's construction succeeds and every later write fails for real.
struct SeparateRegistration: Store {
    let sqlite: SQLiteStore
    let memory = InMemoryStore()
    init(_ sqlite: SQLiteStore) { self.sqlite = sqlite }
    func registerRun(_ run: RunRecord) async throws { try await memory.registerRun(run) }
    func append(steps: [StoredStep], alerts: [AlertRecord], options: AppendOptions) async throws {
        try await sqlite.append(steps: steps, alerts: alerts, options: options)
    }
    func finishRun(id: String, at time: Double) async throws { try await memory.finishRun(id: id, at: time) }
    func checkpoint(source: String) async throws -> SourceCheckpoint? { try await sqlite.checkpoint(source: source) }
    func receipt(runID: String, key: String) async throws -> BatchReceipt? {
        try await sqlite.receipt(runID: runID, key: key)
    }
    func runs() async throws -> [RunRecord] { try await memory.runs() }
    func run(id: String) async throws -> RunRecord? { try await memory.run(id: id) }
    func steps(runID: String, sinceStep: Int?, limit: Int?) async throws -> [StoredStep] {
        try await sqlite.steps(runID: runID, sinceStep: sinceStep, limit: limit)
    }
    func alerts(runID: String, filter: AlertFilter) async throws -> [AlertRecord] {
        try await sqlite.alerts(runID: runID, filter: filter)
    }
    func stepCount(runID: String) async throws -> Int { try await sqlite.stepCount(runID: runID) }
    // The outbox and retention are requirements of every store: forwarded to the SQLite side.
    func claimDueDeliveries(at time: Double, leaseUntil: Double, limit: Int) async throws -> [DueDelivery] {
        try await sqlite.claimDueDeliveries(at: time, leaseUntil: leaseUntil, limit: limit)
    }
    func nextDeliveryDue() async throws -> Double? { try await sqlite.nextDeliveryDue() }
    func recordDeliveryAttempt(_ attempt: DeliveryAttemptRecord, status: DeliveryStatus, nextAttemptAt: Double)
        async throws
    { try await sqlite.recordDeliveryAttempt(attempt, status: status, nextAttemptAt: nextAttemptAt) }
    func deliveries(runID: String?, filter: DeliveryFilter) async throws -> [DeliveryRecord] {
        try await sqlite.deliveries(runID: runID, filter: filter)
    }
    func deliveryAttempts(deliveryID: Int64) async throws -> [DeliveryAttemptRecord] {
        try await sqlite.deliveryAttempts(deliveryID: deliveryID)
    }
    func pruneSteps(before time: Double) async throws -> Int { try await sqlite.pruneSteps(before: time) }
    func recordTrainingCheckpoint(_ checkpoint: TrainingCheckpoint, runID: String) async throws -> Bool {
        try await sqlite.recordTrainingCheckpoint(checkpoint, runID: runID)
    }
    func trainingCheckpoints(runID: String) async throws -> [TrainingCheckpoint] {
        try await sqlite.trainingCheckpoints(runID: runID)
    }
    func recordAlertAction(_ action: AlertActionRecord) async throws { try await sqlite.recordAlertAction(action) }
    func alertActions(runID: String) async throws -> [AlertActionRecord] { try await sqlite.alertActions(runID: runID) }
}

@Suite struct ConsoleAlertPrinterTests {
    let alert = Alert(
        step: 42, detector: .klExplosion, severity: .critical, message: "KL divergence = 5.0000, far above.",
        metricValues: [:], recommendation: "Raise the KL penalty.")

    @Test func plainTextWhenColorIsOff() {
        let text = ConsoleAlertPrinter(useColor: false).render(alert, runID: "r1")
        #expect(!text.contains("\u{1B}["))
        #expect(text.contains("rlwatch CRITICAL: kl_explosion"))
        #expect(text.contains("Step 42 | Run: r1"))
        #expect(text.contains("Recommendation: Raise the KL penalty."))
    }

    @Test func redForCriticalYellowForWarning() {
        #expect(ConsoleAlertPrinter(useColor: true).render(alert, runID: "r").contains("\u{1B}[31m"))
        var warning = alert
        warning.severity = .warning
        #expect(ConsoleAlertPrinter(useColor: true).render(warning, runID: "r").contains("\u{1B}[33m"))
    }

    @Test func noColorEnvironmentDisablesColor() {
        #expect(ConsoleAlertPrinter(environment: ["NO_COLOR": "1"]).useColor == false)
    }
}
