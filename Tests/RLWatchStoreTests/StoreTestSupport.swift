import Foundation
import RLWatchCore
import RLWatchPostgres
import RLWatchSQLite
import RLWatchStore
import Testing

/// The store implementations the shared suite runs against.
enum StoreKind: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case inMemory
    case sqlite
    /// A new database per test on the server at `RLWATCH_TEST_DATABASE_URL`, dropped afterwards.
    case postgres

    var testDescription: String { rawValue }

    /// Every kind; PostgreSQL only where a test server is configured, or in CI (where its absence is a failure).
    static var allCases: [StoreKind] {
        TestPostgres.isAvailable ? [.inMemory, .sqlite, .postgres] : [.inMemory, .sqlite]
    }

    /// The kinds that keep an alert outbox.
    static var outboxKinds: [StoreKind] { allCases }

    /// Runs `body` with a fresh store of this kind; an SQLite store lives in a temporary directory.
    func withStore<T: Sendable>(_ body: (any Store) async throws -> T) async throws -> T {
        switch self {
        case .inMemory:
            return try await body(InMemoryStore())
        case .sqlite:
            return try await withTemporaryDirectory { directory in
                let store = try SQLiteStore(path: directory.appendingPathComponent("metrics.db").path)
                defer { try? store.close() }
                return try await body(store)
            }
        case .postgres:
            return try await TestPostgres.withDatabase { url in
                try await PostgresStore.withStore(url: url, migrate: true) { store in try await body(store) }
            }
        }
    }
}

/// The PostgreSQL server the tests use: `RLWATCH_TEST_DATABASE_URL` (`.ci/run` starts one on 127.0.0.1:55432).
///
/// Without the variable the PostgreSQL cases are left out with a message, except in CI (`CI` set), where they run
/// and fail, so that a broken CI setup cannot pass by testing nothing.
enum TestPostgres {
    static let variable = "RLWATCH_TEST_DATABASE_URL"

    static let serverURL: String? = {
        let environment = ProcessInfo.processInfo.environment
        if let url = environment[variable], !url.isEmpty { return url }
        return nil
    }()

    static let isAvailable: Bool = {
        if serverURL != nil { return true }
        if ProcessInfo.processInfo.environment["CI"] != nil { return true }
        FileHandle.standardError.write(
            Data("note: PostgreSQL store tests skipped: set \(variable) (e.g. postgres://postgres@127.0.0.1:55432/postgres)\n".utf8))
        return false
    }()

    struct MissingServer: Error, CustomStringConvertible {
        var description: String { "\(TestPostgres.variable) is not set; CI must provide a PostgreSQL server for the store tests" }
    }

    static func server() throws -> PostgresURL {
        guard let serverURL else { throw MissingServer() }
        return try PostgresURL(serverURL)
    }

    /// Runs `body` with the URL of a new, empty database, dropped afterwards.
    static func withDatabase<T: Sendable>(_ body: (PostgresURL) async throws -> T) async throws -> T {
        let server = try server()
        let name = "rlwatch_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(20)
        try await PostgresServer.createDatabase(String(name), on: server)
        do {
            let value = try await body(server.with(database: String(name)))
            try await PostgresServer.dropDatabase(String(name), on: server)
            return value
        } catch {
            try? await PostgresServer.dropDatabase(String(name), on: server)
            throw error
        }
    }
}

/// Runs `body` with a new empty directory that is removed afterwards.
func withTemporaryDirectory<T>(_ body: (URL) async throws -> T) async throws -> T {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("rlwatch-store-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    return try await body(directory)
}

// MARK: Fingerprints
//
// `MetricStep` and `MetricValue` are Hashable, but NaN != NaN, so round trips are compared through
// exact text fingerprints instead: finite values by bit pattern, every NaN as "NaN", dictionaries sorted.

func fingerprint(_ value: Double) -> String {
    value.isNaN ? "NaN" : "\(value)#\(value.bitPattern)"
}

func fingerprint(_ step: StoredStep) -> String {
    let metrics = step.metrics
    var parts = ["run=\(step.runID)", "segment=\(step.segment)", "ts=\(fingerprint(step.timestamp))", "step=\(metrics.step)"]
    for name in MetricName.allCases {
        parts.append("\(name.rawValue)=\(metrics[name].map(fingerprint) ?? "nil")")
    }
    parts.append("rewards=\(metrics.rewards.map { "[" + $0.map(fingerprint).joined(separator: ",") + "]" } ?? "nil")")
    let extras = metrics.extras.sorted { $0.key < $1.key }.map { "\($0.key):\(fingerprint($0.value))" }
    parts.append("extras={\(extras.joined(separator: ","))}")
    return parts.joined(separator: " ")
}

func fingerprint(_ value: MetricValue) -> String {
    switch value {
    case .double(let d): "double(\(fingerprint(d)))"
    case .int(let i): "int(\(i))"
    case .string(let s): "string(\(s.debugDescription))"
    case .null: "null"
    }
}

/// An alert record's fingerprint, without its store-assigned id.
func fingerprint(_ record: AlertRecord) -> String {
    let alert = record.alert
    let values = alert.metricValues.map { "\($0.key.debugDescription):\(fingerprint($0.value))" }
    return [
        "run=\(record.runID)", "ts=\(fingerprint(record.timestamp))", "step=\(alert.step)",
        "detector=\(alert.detector)", "severity=\(alert.severity)", "message=\(alert.message.debugDescription)",
        "values=[\(values.joined(separator: ", "))]", "recommendation=\(alert.recommendation.debugDescription)",
        "disposition=\(record.disposition)",
    ].joined(separator: " ")
}

// MARK: Sample data

/// Steps that put NaN, +Inf and -Inf in every metric column, in extras and in reward samples.
func nonFiniteSteps(runID: String) -> [StoredStep] {
    var steps: [StoredStep] = []
    for (index, special) in [Double.nan, .infinity, -.infinity].enumerated() {
        var metrics = MetricStep(step: index + 1)
        for name in MetricName.allCases { metrics[name] = special }
        metrics.rewards = [1.0, special, -2.5, 0.0]
        metrics.extras = ["special": special, "finite": 0.25, "completions/clipped_ratio": 1e-5]
        steps.append(StoredStep(runID: runID, segment: 0, timestamp: 1_700_000_000.125 + Double(index), metrics: metrics))
    }
    return steps
}

/// Ordinary steps: every metric set to distinct values, some left nil, rewards present, empty or absent.
func ordinarySteps(runID: String, steps range: ClosedRange<Int>, segment: Int = 0) -> [StoredStep] {
    range.map { step in
        let x = Double(step)
        var metrics = MetricStep(
            step: step, entropy: 2.0 - x / 1000, klDivergence: x * 1e-4, rewardMean: 0.1 * x, rewardStd: 0.5,
            advantageStd: step.isMultiple(of: 2) ? nil : 1.0 / 3.0, loss: -x, gradNorm: 1e300,
            learningRate: 1e-6, clipFraction: step.isMultiple(of: 3) ? nil : 0.2)
        switch step % 3 {
        case 0: metrics.rewards = [0.0, 1.0, 0.5, x]
        case 1: metrics.rewards = []
        default: metrics.rewards = nil
        }
        if step.isMultiple(of: 5) { metrics.extras = ["tokens": x * 100, "aux/loss": 0.001] }
        return StoredStep(runID: runID, segment: segment, timestamp: 1_700_000_100 + x / 10, metrics: metrics)
    }
}

func sampleAlerts(runID: String) -> [AlertRecord] {
    let values: MetricValues = [
        "entropy": .double(0.0123), "threshold": .double(2.0), "window": .int(50), "negative": .int(-7),
        "note": .string("quote \" backslash \\ newline \n tab \t unicode é 🚀"), "missing": .null,
        "nan": .double(.nan), "inf": .double(.infinity), "-inf": .double(-.infinity), "tiny": .double(1e-300),
        "huge": .double(1e300),
    ]
    func alert(step: Int, _ detector: DetectorID, _ severity: Severity, _ values: MetricValues) -> Alert {
        Alert(
            step: step, detector: detector, severity: severity, message: "\(detector) at step \(step)",
            metricValues: values, recommendation: "Lower the learning rate.")
    }
    return [
        AlertRecord(
            runID: runID, timestamp: 1_700_000_200.5, alert: alert(step: 10, .entropyCollapse, .warning, values),
            disposition: .delivered),
        AlertRecord(
            runID: runID, timestamp: 1_700_000_201, alert: alert(step: 11, .entropyCollapse, .warning, ["entropy": .double(0.01)]),
            disposition: .suppressed(.cooldown(lastStep: 10, cooldown: 100))),
        AlertRecord(
            runID: runID, timestamp: 1_700_000_202, alert: alert(step: 12, .klExplosion, .warning, [:]),
            disposition: .suppressed(.criticalCooldown(criticalStep: 9, cooldown: 50))),
        AlertRecord(
            runID: runID, timestamp: 1_700_000_203, alert: alert(step: 13, .lossNaN, .critical, ["loss": .double(.nan)]),
            disposition: .delivered),
        AlertRecord(
            runID: runID, timestamp: 1_700_000_204, alert: alert(step: 14, .gradientNormSpike, .critical, ["grad_norm": .int(3)]),
            disposition: .suppressed(.runCap(limit: 50))),
    ]
}
