import Foundation
import GRDB
import RLWatchCore
import RLWatchSQLite
import RLWatchStore
import Synchronization
import Testing

/// What only the SQLite store does: files, WAL, 0.5.1 databases, migrations, concurrent readers.
@Suite("SQLiteStore")
struct SQLiteStoreTests {
    @Test func reopenedFileReadsEverythingBack() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("nested/dir/metrics.db").path
            let steps = nonFiniteSteps(runID: "r") + ordinarySteps(runID: "r", steps: 4...50)
            let alerts = sampleAlerts(runID: "r")
            let run = RunRecord(runID: "r", framework: "openrlhf", startedAt: 1_700_000_000.5, configJSON: "{\"a\":[1,2]}")
            do {
                let store = try SQLiteStore(path: path)
                try await store.registerRun(run)
                try await store.append(steps: steps, alerts: alerts)
                try store.close()
            }
            let reopened = try SQLiteStore.openExisting(path: path)
            #expect(try await reopened.runs() == [run])
            #expect(try await reopened.steps(runID: "r").map(fingerprint) == steps.map(fingerprint))
            #expect(try await reopened.alerts(runID: "r").map(fingerprint) == alerts.map(fingerprint))

            let readOnly = try SQLiteStore.openExisting(path: path, readOnly: true)
            #expect(try await readOnly.steps(runID: "r").map(fingerprint) == steps.map(fingerprint))
            #expect(try await readOnly.alerts(runID: "r", filter: .suppressed).count == 3)
            await #expect(throws: SQLiteStoreError.readOnly(path: path)) {
                try await readOnly.append(steps: steps, alerts: [])
            }
        }
    }

    @Test func databaseIsInWALModeWithTheCurrentSchema() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("metrics.db").path
            let store = try SQLiteStore(path: path)
            defer { try? store.close() }
            let queue = try DatabaseQueue(path: path)
            try await queue.read { db throws in
                #expect(try String.fetchOne(db, sql: "PRAGMA journal_mode") == "wal")
                #expect(try Int.fetchAll(db, sql: "SELECT version FROM schema_version ORDER BY version") == [2, 3, 4, 5])
                let indexes = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' ORDER BY name")
                #expect(Set(indexes).isSuperset(of: ["idx_alerts_run", "idx_alerts_run_detector", "idx_metrics_run_step"]))
                let metricColumns = try db.columns(in: "metrics").map(\.name)
                #expect(metricColumns == [
                    "id", "run_id", "step", "timestamp", "entropy", "kl_divergence", "reward_mean", "reward_std",
                    "reward_min", "reward_max", "advantage_std", "loss", "learning_rate", "clip_fraction", "grad_norm",
                    "extra_json", "segment", "nan_columns", "rewards",
                ])
                let alertColumns = try db.columns(in: "alerts").map(\.name)
                #expect(alertColumns == [
                    "id", "run_id", "step", "timestamp", "detector", "severity", "message", "metric_values_json",
                    "recommendation", "status", "suppression_reason", "suppression_detail", "suppression_step",
                    "suppression_limit", "segment",
                ])
            }
            try queue.close()
        }
    }

    @Test func rowsAreReadableByPlainSQL() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("metrics.db").path
            let store = try SQLiteStore(path: path)
            defer { try? store.close() }
            try await store.registerRun(RunRecord(runID: "r", framework: "trl", startedAt: 1, configJSON: "{}"))
            try await store.append(
                steps: ordinarySteps(runID: "r", steps: 1...3, segment: 2) + nonFiniteSteps(runID: "r"),
                alerts: Array(sampleAlerts(runID: "r").prefix(2)))
            // An alert for a step stored by an earlier append takes that row's segment too.
            try await store.append(steps: [], alerts: [sampleAlerts(runID: "r")[4]])
            let queue = try DatabaseQueue(path: path)
            try await queue.read { db throws in
                let row = try #require(try Row.fetchOne(db, sql: "SELECT * FROM metrics WHERE step = 3 AND segment = 2"))
                #expect(row["reward_min"] == 0.0 && row["reward_max"] == 3.0)
                #expect(row["extra_json"] as String? == nil && row["nan_columns"] as String? == nil)
                let nanRow = try #require(try Row.fetchOne(db, sql: "SELECT * FROM metrics WHERE step = 1 AND segment = 0"))
                #expect(nanRow["loss"] as Double? == nil)
                #expect(nanRow["nan_columns"] as String? == MetricName.allCases.map(\.rawValue).joined(separator: ","))
                #expect(nanRow["extra_json"] as String? == #"{"completions/clipped_ratio":1e-05,"finite":0.25,"special":"NaN"}"#)
                let infRow = try #require(try Row.fetchOne(db, sql: "SELECT * FROM metrics WHERE step = 2 AND segment = 0"))
                #expect(infRow["loss"] as Double? == .infinity)

                let alerts = try Row.fetchAll(db, sql: "SELECT * FROM alerts ORDER BY id")
                #expect(alerts.map { $0["status"] as String } == ["delivered", "suppressed", "suppressed"])
                #expect(alerts.map { $0["segment"] as Int } == [0, 0, 0])
                #expect(alerts[1]["suppression_reason"] as String? == "cooldown")
                #expect(
                    alerts[1]["suppression_detail"] as String?
                        == SuppressionReason.cooldown(lastStep: 10, cooldown: 100).description)
                #expect(alerts[2]["suppression_reason"] as String? == "run_cap")
                let json = try #require(alerts[0]["metric_values_json"] as String?)
                #expect(json.hasPrefix(#"{"entropy":0.0123,"threshold":2.0,"window":50,"negative":-7,"note":"quote \" backslash \\ newline \n tab \t unicode é 🚀","missing":null,"nan":"NaN","inf":"Infinity","-inf":"-Infinity""#))
            }
            try queue.close()
        }
    }

    @Test func alertsTakeTheSegmentOfTheirStep() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("metrics.db").path
            let store = try SQLiteStore(path: path)
            defer { try? store.close() }
            let cooldown = sampleAlerts(runID: "r")[0]
            var atStep2 = cooldown
            atStep2.alert.step = 2
            var atStep3 = cooldown
            atStep3.alert.step = 3
            try await store.append(steps: ordinarySteps(runID: "r", steps: 1...3, segment: 4), alerts: [atStep2])
            try await store.append(steps: [], alerts: [atStep3, cooldown])
            let queue = try DatabaseQueue(path: path)
            let segments = try await queue.read { try Int.fetchAll($0, sql: "SELECT segment FROM alerts ORDER BY id") }
            #expect(segments == [4, 4, 0])
            try queue.close()
        }
    }

    /// A database written before receipts kept a digest gets the column on open; its receipts read back without one
    /// (and so match any batch, as before). The schema version is not raised: an older build still opens the file.
    @Test func receiptsFromBeforeDigestsGetTheColumnAndNoDigest() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("metrics.db").path
            try SQLiteStore(path: path).close()
            let queue = try DatabaseQueue(path: path)
            try await queue.write { db in
                try db.execute(sql: "ALTER TABLE batch_receipts DROP COLUMN body_digest")
                try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier = 'rlwatch-v5-receipt-digest'")
                try db.execute(sql: "INSERT INTO runs (run_id, framework, started_at, config_json) VALUES ('r', 'trl', 1, '{}')")
                try db.execute(
                    sql: "INSERT INTO batch_receipts (run_id, key, response, created_at) VALUES ('r', 'old', '{}', 1)")
            }
            try queue.close()
            let store = try SQLiteStore(path: path)
            defer { try? store.close() }
            #expect(try await store.receipt(runID: "r", key: "old") == BatchReceipt(runID: "r", key: "old", response: "{}"))
            let receipt = BatchReceipt(runID: "r", key: "new", response: "{}", batchDigest: "v1-1-0000000000000001")
            try await store.append(steps: [], alerts: [], options: AppendOptions(receipt: receipt, at: 1_000))
            #expect(try await store.receipt(runID: "r", key: "new") == receipt)
            let versions = try await DatabaseQueue(path: path).read {
                try Int.fetchAll($0, sql: "SELECT version FROM schema_version ORDER BY version")
            }
            #expect(versions == [2, 3, 4, 5])
        }
    }

    @Test func openingAMissingDatabaseFailsClearlyAndCreatesNothing() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("missing/metrics.db").path
            for readOnly in [false, true] {
                let error = #expect(throws: SQLiteStoreError.self) {
                    try SQLiteStore.openExisting(path: path, readOnly: readOnly)
                }
                #expect(error?.description == "No rlwatch database found at \(path)")
                #expect(error?.isDatabaseNotFound == true)
            }
            #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("missing").path))
        }
    }

    @Test func closedStoreReadsNothingAndRefusesWrites() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("metrics.db").path
            let store = try SQLiteStore(path: path)
            try await store.registerRun(RunRecord(runID: "r", framework: "trl", startedAt: 1, configJSON: "{}"))
            try await store.append(steps: ordinarySteps(runID: "r", steps: 1...3), alerts: [])
            try store.close()
            try store.close()
            #expect(try await store.runs().isEmpty)
            #expect(try await store.steps(runID: "r").isEmpty)
            #expect(try await store.stepCount(runID: "r") == 0)
            await #expect(throws: SQLiteStoreError.closed(path: path)) {
                try await store.append(steps: ordinarySteps(runID: "r", steps: 4...4), alerts: [])
            }
        }
    }

    @Test func unredactedSecretsInTheConfigAreNotStored() async throws {
        try await withTemporaryDirectory { directory in
            let messages = Mutex<[String]>([])
            let store = try SQLiteStore(path: directory.appendingPathComponent("metrics.db").path) { level, message in
                if level == .warning { messages.withLock { $0.append(message) } }
            }
            defer { try? store.close() }
            let config = """
                {"alerts": {"email": {"smtp_user": "me", "smtp_password": "hunter2"}, \
                "slack": {"webhook_url": "https://hooks.slack.com/services/T0/B0/XYZ"}, \
                "webhook": {"url": "https://example.com/hook?token=abc", "headers": {"Authorization": "Bearer abc"}}, \
                "discord": {"webhook_url": ""}}, "detectors": {"kl_explosion": {"threshold": 0.5}}}
                """
            try await store.registerRun(RunRecord(runID: "leaky", framework: "trl", startedAt: 1, configJSON: config))
            let stored = try #require(try await store.run(id: "leaky")).configJSON
            for secret in ["hunter2", "hooks.slack.com", "example.com", "Bearer"] { #expect(!stored.contains(secret)) }
            #expect(stored.contains(#""smtp_user":"me""#))
            #expect(stored.contains(#""threshold":0.5"#))
            #expect(stored.contains(#""webhook_url":"""#))
            #expect(messages.withLock { $0.count } == 1)
            #expect(messages.withLock { $0.first?.contains("alerts.email.smtp_password") } == true)

            let clean = #"{"alerts": {"email": {"smtp_password": "***REDACTED***"}}, "run_id": null}"#
            try await store.registerRun(RunRecord(runID: "clean", framework: "trl", startedAt: 2, configJSON: clean))
            #expect(try await store.run(id: "clean")?.configJSON == clean)
            #expect(messages.withLock { $0.count } == 1)
        }
    }

    // MARK: 0.5.1 databases

    @Test(arguments: [LegacyVersion.v2, .v1])
    func legacyDatabaseIsUpgradedInPlaceKeepingItsRows(version: LegacyVersion) async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("metrics.db").path
            try makeLegacyDatabase(at: path, version: version)

            let messages = Mutex<[String]>([])
            let store = try SQLiteStore(path: path) { _, message in messages.withLock { $0.append(message) } }
            #expect(messages.withLock { $0 } == [
                "Upgraded rlwatch database at \(path) from schema version \(version.rawValue) to 5"
            ])
            try await expectLegacyRows(in: store, version: version, segments: [0, 0, 0, 1, 1])

            // Still writable, and the new rows carry what 0.5.1 could not.
            try await store.append(steps: nonFiniteSteps(runID: "legacy"), alerts: [])
            #expect(try await store.steps(runID: "legacy", sinceStep: nil, limit: nil).count == 8)
            #expect(try await store.steps(runID: "legacy").last?.metrics.rewards?.count == 4)
            try store.close()

            let queue = try DatabaseQueue(path: path)
            try await queue.read { db throws in
                let expectedVersions = version == .v1 ? [1, 2, 3, 4, 5] : [2, 3, 4, 5]
                #expect(try Int.fetchAll(db, sql: "SELECT version FROM schema_version ORDER BY version") == expectedVersions)
                #expect(try db.columns(in: "metrics").map(\.name).contains("grad_norm"))
                #expect(try Int.fetchAll(db, sql: "SELECT segment FROM alerts ORDER BY id") == [0, 1])
                #expect(try String.fetchOne(db, sql: "PRAGMA journal_mode") == "wal")
            }
            try queue.close()

            // Reopening is a no-op.
            let again = try SQLiteStore(path: path)
            #expect(try await again.stepCount(runID: "legacy") == 8)
            try again.close()
        }
    }

    @Test(arguments: [LegacyVersion.v2, .v1])
    func legacyDatabaseOpenedReadOnlyIsReadAsItIs(version: LegacyVersion) async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("metrics.db").path
            try makeLegacyDatabase(at: path, version: version)
            let store = try SQLiteStore.openExisting(path: path, readOnly: true)
            // Segments are only numbered by the upgrade; read-only, the rows read as segment 0.
            try await expectLegacyRows(in: store, version: version, segments: [0, 0, 0, 0, 0])
            await #expect(throws: SQLiteStoreError.readOnly(path: path)) {
                try await store.registerRun(RunRecord(runID: "x", framework: "trl", startedAt: 1, configJSON: "{}"))
            }
            try store.close()
            let queue = try DatabaseQueue(path: path)
            try await queue.read { db throws in
                #expect(try Int.fetchOne(db, sql: "SELECT MAX(version) FROM schema_version") == version.rawValue)
                #expect(try !db.tableExists("grdb_migrations"))
            }
            try queue.close()
        }
    }

    @Test(arguments: [false, true])
    func newerSchemaIsRefusedWithAClearError(readOnly: Bool) async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("metrics.db").path
            try makeLegacyDatabase(at: path, version: .v2)
            let queue = try DatabaseQueue(path: path)
            try await queue.write { try $0.execute(sql: "INSERT INTO schema_version (version) VALUES (999)") }
            try queue.close()
            let error = #expect(throws: SQLiteStoreError.self) {
                try SQLiteStore.openExisting(path: path, readOnly: readOnly)
            }
            #expect(
                error?.description
                    == "rlwatch database at \(path) is at schema version 999, but this version of rlwatch supports up to 5. Upgrade rlwatch."
            )
        }
    }

    @Test func anotherSQLiteFileIsNotMistakenForAnRLWatchDatabase() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("other.db").path
            let queue = try DatabaseQueue(path: path)
            try await queue.write { try $0.execute(sql: "CREATE TABLE notes (body TEXT)") }
            try queue.close()
            #expect(throws: SQLiteStoreError.notAnRLWatchDatabase(path: path, missingTable: "runs")) {
                try SQLiteStore.openExisting(path: path, readOnly: true)
            }
        }
    }

    // MARK: Concurrency

    @Test func aSecondStoreReadsWhileTheFirstWrites() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("metrics.db").path
            let writer = try SQLiteStore(path: path)
            try await writer.registerRun(RunRecord(runID: "r", framework: "trl", startedAt: 1, configJSON: "{}"))
            let reader = try SQLiteStore.openExisting(path: path, readOnly: true)
            let batches = 60
            let batchSize = 100
            let done = DoneFlag()

            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    defer { done.value.store(true, ordering: .releasing) }
                    for batch in 0..<batches {
                        let first = batch * batchSize + 1
                        try await writer.append(
                            steps: ordinarySteps(runID: "r", steps: first...(first + batchSize - 1)),
                            alerts: batch.isMultiple(of: 10) ? [sampleAlerts(runID: "r")[0]] : [])
                    }
                }
                group.addTask {
                    var lastCount = 0
                    var reads = 0
                    while !done.value.load(ordering: .acquiring) || reads == 0 {
                        let count = try await reader.stepCount(runID: "r")
                        #expect(count >= lastCount)
                        #expect(count.isMultiple(of: batchSize))
                        let steps = try await reader.steps(runID: "r", sinceStep: nil, limit: nil)
                        #expect(steps.count >= count)
                        #expect(steps.count.isMultiple(of: batchSize))
                        lastCount = steps.count
                        reads += 1
                        await Task.yield()
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await reader.stepCount(runID: "r") == batches * batchSize)
            #expect(try await reader.alerts(runID: "r").count == batches / 10)
            try reader.close()
            try writer.close()
        }
    }
}

/// Tells the reader task that the writer task has finished.
final class DoneFlag: Sendable {
    let value = Atomic<Bool>(false)
}

// MARK: 0.5.1 fixtures

enum LegacyVersion: Int, CustomTestStringConvertible, Sendable {
    case v1 = 1
    case v2 = 2

    var testDescription: String { "0.5.1 v\(rawValue)" }
}

/// A database as rlwatch 0.5.1 wrote it: its DDL, WAL mode, and rows with its quirks (NaN stored as
/// NULL, ±Inf as REAL, bare `NaN`/`Infinity` tokens in JSON, a run ID reused after a resume).
func makeLegacyDatabase(at path: String, version: LegacyVersion) throws {
    let queue = try DatabaseQueue(path: path)
    try queue.writeWithoutTransaction { db in
        try db.execute(sql: "PRAGMA journal_mode=WAL")
        try db.execute(
            sql: """
                CREATE TABLE IF NOT EXISTS runs (
                    run_id TEXT PRIMARY KEY,
                    framework TEXT,
                    started_at REAL,
                    config_json TEXT
                );
                CREATE TABLE IF NOT EXISTS metrics (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    run_id TEXT NOT NULL,
                    step INTEGER NOT NULL,
                    timestamp REAL NOT NULL,
                    entropy REAL,
                    kl_divergence REAL,
                    reward_mean REAL,
                    reward_std REAL,
                    reward_min REAL,
                    reward_max REAL,
                    advantage_std REAL,
                    loss REAL,
                    learning_rate REAL,
                    clip_fraction REAL,
                    \(version == .v2 ? "grad_norm REAL," : "")
                    extra_json TEXT,
                    FOREIGN KEY (run_id) REFERENCES runs(run_id)
                );
                CREATE INDEX IF NOT EXISTS idx_metrics_run_step ON metrics(run_id, step);
                CREATE TABLE IF NOT EXISTS alerts (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    run_id TEXT NOT NULL,
                    step INTEGER NOT NULL,
                    timestamp REAL NOT NULL,
                    detector TEXT NOT NULL,
                    severity TEXT NOT NULL,
                    message TEXT NOT NULL,
                    metric_values_json TEXT,
                    recommendation TEXT,
                    FOREIGN KEY (run_id) REFERENCES runs(run_id)
                );
                CREATE INDEX IF NOT EXISTS idx_alerts_run ON alerts(run_id);
                CREATE TABLE IF NOT EXISTS schema_version (
                    version INTEGER PRIMARY KEY
                );
                """)
        try db.execute(sql: "INSERT INTO schema_version (version) VALUES (?)", arguments: [version.rawValue])
        try db.execute(
            sql: """
                INSERT INTO runs VALUES ('legacy', 'trl', 1000.5, '{"alerts": {"email": {"smtp_password": "***"}}}');
                INSERT INTO runs VALUES ('older', 'auto', 500.0, NULL);
                """)
        let gradNorm = version == .v2 ? "grad_norm, " : ""
        let insert = """
            INSERT INTO metrics (run_id, step, timestamp, entropy, kl_divergence, reward_mean, reward_std, reward_min,
                reward_max, advantage_std, loss, learning_rate, clip_fraction, \(gradNorm)extra_json)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, \(version == .v2 ? "?, " : "")?)
            """
        // Steps 1, 2, 3, then a resume from a checkpoint: 2, 3 again.
        for (index, step) in [1, 2, 3, 2, 3].enumerated() {
            var values: [(any DatabaseValueConvertible)?] = [
                "legacy", step, 2000.0 + Double(index), index == 1 ? nil : 1.5 - Double(step) / 10, 0.01,
                0.5, 0.25, 0.0, 1.0, 0.75, index == 2 ? Double.infinity : -0.5, 1e-6, nil,
            ]
            if version == .v2 { values.append(index == 4 ? -Double.infinity : 3.0) }
            values.append(index == 0 ? #"{"custom": NaN, "other": Infinity, "x": 1.5, "label": "text", "flag": true}"# : nil)
            try db.execute(sql: insert, arguments: StatementArguments(values))
        }
        // An alert after the first step 3 (segment 0) and one after the second (segment 1).
        try db.execute(
            sql: """
                INSERT INTO alerts (run_id, step, timestamp, detector, severity, message, metric_values_json, recommendation)
                VALUES ('legacy', 3, 2002.5, 'loss_nan', 'critical', 'Loss is Infinity',
                        '{"loss": Infinity, "step": 3, "threshold": 2.0, "note": "x", "none": null}', 'Check the data.'),
                       ('legacy', 3, 2004.5, 'kl_explosion', 'warning', 'KL high', '{"kl": NaN}', NULL)
                """)
    }
    try queue.close()
}

/// The rows `makeLegacyDatabase` wrote, as the store reads them.
func expectLegacyRows(in store: SQLiteStore, version: LegacyVersion, segments: [Int]) async throws {
    #expect(try await store.runs().map(\.runID) == ["legacy", "older"])
    #expect(try await store.run(id: "older") == RunRecord(runID: "older", framework: "auto", startedAt: 500, configJSON: ""))
    let steps = try await store.steps(runID: "legacy")
    #expect(steps.map(\.metrics.step) == [1, 2, 3, 2, 3])
    #expect(steps.map(\.segment) == segments)
    #expect(steps.map(\.timestamp) == [2000, 2001, 2002, 2003, 2004])
    #expect(steps[1].metrics.entropy == nil)  // 0.5.1 stored NaN as NULL: it is gone
    #expect(steps[0].metrics.entropy == 1.4)
    #expect(steps[2].metrics.loss == .infinity)
    #expect(steps[0].metrics.rewards == nil)
    #expect(steps.map(\.metrics.gradNorm) == (version == .v2 ? [3, 3, 3, 3, -.infinity] : [nil, nil, nil, nil, nil]))
    let extras = steps[0].metrics.extras
    #expect(extras.count == 3 && extras["custom"]?.isNaN == true && extras["other"] == .infinity && extras["x"] == 1.5)
    #expect(try await store.stepCount(runID: "legacy") == 5)

    let alerts = try await store.alerts(runID: "legacy")
    #expect(alerts.map(\.disposition) == [.delivered, .delivered])
    #expect(alerts.map(\.alert.detector) == [.lossNaN, .klExplosion])
    #expect(alerts[0].alert.metricValues == ["loss": .double(.infinity), "step": .int(3), "threshold": .double(2.0), "note": .string("x"), "none": .null])
    #expect(alerts[1].alert.metricValues["kl"]?.doubleValue?.isNaN == true)
    #expect(alerts[1].alert.recommendation == "")
    #expect(try await store.alerts(runID: "legacy", filter: .suppressed).isEmpty)
}
