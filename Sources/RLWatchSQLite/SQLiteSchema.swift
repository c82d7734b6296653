import GRDB

/// The SQLite schema: rlwatch 0.5.1's tables, plus what this port adds, built by GRDB migrations.
///
/// Two bookkeeping tables coexist. `schema_version` is rlwatch's own (0.5.1 wrote 1 or 2, we write 3)
/// and is the one that decides compatibility: 0.5.1 refuses a database above 2, we refuse one above
/// ``version``. `grdb_migrations` is GRDB's record of which of our migrations ran. A 0.5.1 database
/// has no `grdb_migrations`, so every migration here is idempotent: it inspects the tables and
/// columns that exist and only adds what is missing. Running the 0.5.1 baseline on a 0.5.1 v2
/// database is then a no-op, on a v1 database it adds `metrics.grad_norm`, and the v3 migration
/// adds our columns to either, keeping every row.
enum SQLiteSchema {
    /// The schema version this build writes and understands.
    static let version = 5

    static let baselineMigration = "rlwatch-0.5.1-v2"
    static let v3Migration = "rlwatch-v3-segments-nan-rewards-suppression"
    static let v4Migration = "rlwatch-v4-finished-checkpoints-receipts"
    static let v5Migration = "rlwatch-v5-alert-outbox-delivery-log"
    /// Adds `batch_receipts.body_digest`. It does not raise ``version``: the column is nullable and every statement
    /// names its columns, so a build that does not know it reads and writes such a database as before (its receipts
    /// then carry no digest and match any batch).
    static let receiptDigestMigration = "rlwatch-v5-receipt-digest"
    /// Adds `training_checkpoints` and `alert_actions`. Like ``receiptDigestMigration`` it does not raise ``version``:
    /// both are new tables that a build which does not know them never touches.
    static let actingMigration = "rlwatch-v5-training-checkpoints-alert-actions"

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration(baselineMigration) { db in try createBaseline(db) }
        migrator.registerMigration(v3Migration) { db in try upgradeToV3(db) }
        migrator.registerMigration(v4Migration) { db in try upgradeToV4(db) }
        migrator.registerMigration(v5Migration) { db in try upgradeToV5(db) }
        migrator.registerMigration(receiptDigestMigration) { db in
            try addColumnIfMissing(db, table: ReceiptsTable.name, column: "body_digest", definition: "TEXT")
        }
        migrator.registerMigration(actingMigration) { db in try db.execute(sql: actingTables) }
        return migrator
    }

    /// The highest version in `schema_version`, or nil when the table is missing or empty.
    static func storedVersion(_ db: Database) throws -> Int? {
        guard try db.tableExists(SchemaVersionTable.name) else { return nil }
        return try Int.fetchOne(db, sql: "SELECT MAX(version) FROM \(SchemaVersionTable.name)")
    }

    /// Throws when the database was written by a newer rlwatch.
    static func checkSupported(_ db: Database, path: String) throws {
        if let stored = try storedVersion(db), stored > version {
            throw SQLiteStoreError.schemaTooNew(path: path, version: stored, supported: version)
        }
    }

    // MARK: Migrations

    /// rlwatch 0.5.1's schema at version 2, exactly as it created it; upgrades a v1 database in place.
    private static func createBaseline(_ db: Database) throws {
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
                    grad_norm REAL,
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
        // A 0.5.1 v1 database: v2 minus metrics.grad_norm.
        try addColumnIfMissing(db, table: MetricsTable.name, column: "grad_norm", definition: "REAL")
        try stamp(db, version: 2)
    }

    /// Our additions: step segments, NaN bookkeeping, per-sample rewards, suppressed alerts.
    private static func upgradeToV3(_ db: Database) throws {
        let metrics = MetricsTable.name
        let alerts = AlertsTable.name
        try addColumnIfMissing(db, table: metrics, column: "segment", definition: "INTEGER NOT NULL DEFAULT 0")
        try addColumnIfMissing(db, table: metrics, column: "nan_columns", definition: "TEXT")
        try addColumnIfMissing(db, table: metrics, column: "rewards", definition: "BLOB")
        try addColumnIfMissing(db, table: alerts, column: "status", definition: "TEXT NOT NULL DEFAULT 'delivered'")
        try addColumnIfMissing(db, table: alerts, column: "suppression_reason", definition: "TEXT")
        try addColumnIfMissing(db, table: alerts, column: "suppression_detail", definition: "TEXT")
        try addColumnIfMissing(db, table: alerts, column: "suppression_step", definition: "INTEGER")
        try addColumnIfMissing(db, table: alerts, column: "suppression_limit", definition: "INTEGER")
        try addColumnIfMissing(db, table: alerts, column: "segment", definition: "INTEGER NOT NULL DEFAULT 0")
        try db.execute(sql: "CREATE INDEX IF NOT EXISTS idx_alerts_run_detector ON alerts(run_id, detector)")
        try backfillSegments(db)
        try stamp(db, version: 3)
    }

    /// Live monitoring: when a run was finished, how far each watched file was read, and the receipts
    /// of idempotent batches.
    private static func upgradeToV4(_ db: Database) throws {
        try addColumnIfMissing(db, table: RunsTable.name, column: "finished_at", definition: "REAL")
        try db.execute(
            sql: """
                CREATE TABLE IF NOT EXISTS \(CheckpointsTable.name) (
                    source TEXT PRIMARY KEY,
                    run_id TEXT NOT NULL,
                    state TEXT NOT NULL,
                    updated_at REAL NOT NULL
                );
                CREATE TABLE IF NOT EXISTS \(ReceiptsTable.name) (
                    run_id TEXT NOT NULL,
                    key TEXT NOT NULL,
                    response TEXT NOT NULL,
                    created_at REAL NOT NULL,
                    PRIMARY KEY (run_id, key)
                );
                """)
        try stamp(db, version: 4)
    }

    /// Alert delivery: the outbox (one entry per alert and channel) and the log of every attempt.
    private static func upgradeToV5(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE IF NOT EXISTS \(DeliveriesTable.name) (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    alert_id INTEGER NOT NULL,
                    run_id TEXT NOT NULL,
                    channel TEXT NOT NULL,
                    status TEXT NOT NULL DEFAULT 'pending',
                    attempts INTEGER NOT NULL DEFAULT 0,
                    next_attempt_at REAL NOT NULL,
                    created_at REAL NOT NULL,
                    updated_at REAL NOT NULL,
                    last_outcome TEXT,
                    last_detail TEXT,
                    UNIQUE (alert_id, channel)
                );
                CREATE INDEX IF NOT EXISTS idx_alert_deliveries_due ON \(DeliveriesTable.name)(status, next_attempt_at);
                CREATE INDEX IF NOT EXISTS idx_alert_deliveries_run ON \(DeliveriesTable.name)(run_id);
                CREATE TABLE IF NOT EXISTS \(DeliveryAttemptsTable.name) (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    delivery_id INTEGER NOT NULL,
                    alert_id INTEGER NOT NULL,
                    channel TEXT NOT NULL,
                    attempt INTEGER NOT NULL,
                    attempted_at REAL NOT NULL,
                    outcome TEXT NOT NULL,
                    http_status INTEGER,
                    detail TEXT,
                    duration_seconds REAL NOT NULL DEFAULT 0
                );
                CREATE INDEX IF NOT EXISTS idx_delivery_attempts_delivery ON \(DeliveryAttemptsTable.name)(delivery_id);
                """)
        try stamp(db, version: 5)
    }

    /// The checkpoints a run's trainer saved and the actions taken on its alerts.
    static let actingTables = """
        CREATE TABLE IF NOT EXISTS \(TrainingCheckpointsTable.name) (
            run_id TEXT NOT NULL,
            step INTEGER NOT NULL,
            path TEXT NOT NULL,
            saved_at REAL NOT NULL,
            PRIMARY KEY (run_id, path)
        );
        CREATE TABLE IF NOT EXISTS \(AlertActionsTable.name) (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            run_id TEXT NOT NULL,
            time REAL NOT NULL,
            action TEXT NOT NULL,
            actor TEXT NOT NULL,
            step INTEGER NOT NULL,
            detector TEXT NOT NULL,
            severity TEXT NOT NULL,
            reason TEXT NOT NULL,
            result TEXT NOT NULL,
            output TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX IF NOT EXISTS idx_alert_actions_run ON \(AlertActionsTable.name)(run_id, id);
        """

    /// Numbers the segments of rows written by 0.5.1, which reused run IDs on resume.
    ///
    /// A metrics row starts a new segment when its step does not exceed the previous row's step in
    /// the same run (the rule the monitor applies live). An alert takes the segment of the latest
    /// metrics row of its run and step logged no later than the alert.
    private static func backfillSegments(_ db: Database) throws {
        try db.execute(
            sql: """
                WITH flagged AS (
                    SELECT id, run_id,
                           CASE WHEN step <= LAG(step) OVER (PARTITION BY run_id ORDER BY id) THEN 1 ELSE 0 END AS restart
                    FROM metrics
                ),
                numbered AS (
                    SELECT id, SUM(restart) OVER (PARTITION BY run_id ORDER BY id) AS segment FROM flagged
                )
                UPDATE metrics SET segment = numbered.segment
                FROM numbered
                WHERE numbered.id = metrics.id AND numbered.segment <> 0;

                UPDATE alerts SET segment = COALESCE(
                    (SELECT m.segment FROM metrics AS m
                     WHERE m.run_id = alerts.run_id AND m.step = alerts.step AND m.timestamp <= alerts.timestamp
                     ORDER BY m.id DESC LIMIT 1),
                    (SELECT m.segment FROM metrics AS m
                     WHERE m.run_id = alerts.run_id AND m.step = alerts.step
                     ORDER BY m.id LIMIT 1),
                    0);
                """)
    }

    private static func stamp(_ db: Database, version: Int) throws {
        if try storedVersion(db) ?? 0 < version {
            try db.execute(sql: "INSERT OR IGNORE INTO schema_version (version) VALUES (?)", arguments: [version])
        }
    }

    private static func addColumnIfMissing(_ db: Database, table: String, column: String, definition: String) throws {
        let existing = try db.columns(in: table).map { $0.name.lowercased() }
        if !existing.contains(column.lowercased()) {
            try db.execute(sql: "ALTER TABLE \(table) ADD COLUMN \(column) \(definition)")
        }
    }

    // MARK: Shape of an existing database

    /// Which optional columns a database has: all of them once migrated, fewer in a 0.5.1 file
    /// opened read-only (which we never alter).
    struct Shape: Sendable, Hashable {
        var hasGradNorm = true
        var hasV3Columns = true
        var hasV4Tables = true
        var hasV5Tables = true
        var hasReceiptDigest = true

        static let current = Shape()

        init() {}

        init(_ db: Database, path: String) throws {
            for table in [RunsTable.name, MetricsTable.name, AlertsTable.name] where try !db.tableExists(table) {
                throw SQLiteStoreError.notAnRLWatchDatabase(path: path, missingTable: table)
            }
            let metricColumns = Set(try db.columns(in: MetricsTable.name).map { $0.name.lowercased() })
            let alertColumns = Set(try db.columns(in: AlertsTable.name).map { $0.name.lowercased() })
            hasGradNorm = metricColumns.contains("grad_norm")
            hasV4Tables = try db.tableExists(CheckpointsTable.name) && db.tableExists(ReceiptsTable.name)
            hasReceiptDigest =
                try hasV4Tables && db.columns(in: ReceiptsTable.name).contains { $0.name.lowercased() == "body_digest" }
            hasV5Tables = try db.tableExists(DeliveriesTable.name) && db.tableExists(DeliveryAttemptsTable.name)
            hasV3Columns =
                metricColumns.isSuperset(of: ["segment", "nan_columns", "rewards"])
                && alertColumns.isSuperset(of: [
                    "status", "suppression_reason", "suppression_detail", "suppression_step", "suppression_limit",
                ])
        }
    }
}
