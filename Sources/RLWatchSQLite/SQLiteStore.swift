import Foundation
import GRDB
import RLWatchCore
import RLWatchStore
import Synchronization

/// The embedded store: one SQLite file, compatible with rlwatch 0.5.1's `metrics.db`.
///
/// The file is opened in WAL mode through a GRDB `DatabasePool`, so the CLI and the dashboard can
/// read (each from their own process or store) while the monitor writes. `synchronous=NORMAL`
/// makes a commit cost a `write(2)` rather than an `fsync`: a committed step survives the process
/// crashing, though not the machine losing power (the same trade-off as 0.5.1).
///
/// Pointed at a 0.5.1 database (schema version 1 or 2), a writable store upgrades it in place on
/// open, keeping every row; see `SQLiteSchema` for the layout and how versions are tracked. A store
/// opened read-only never alters the file and reads an un-upgraded one as it is.
public final class SQLiteStore: Store {
    /// How important a message from the store is.
    public enum LogLevel: Sendable, Hashable {
        case info
        case warning
    }

    /// Receives the store's few messages: schema upgrades and secrets found in a run's config.
    ///
    /// A closure rather than a swift-log `Logger` because this module does not depend on swift-log;
    /// the caller forwards the messages to its own logger.
    public typealias LogHandler = @Sendable (LogLevel, String) -> Void

    /// The database file.
    public let path: String
    /// True when the store was opened read-only: writes throw.
    public let isReadOnly: Bool

    let database: any DatabaseWriter
    private let log: LogHandler?
    private let closed = Atomic<Bool>(false)
    private let stepsSelect: String
    let alertsSelect: String
    let shape: SQLiteSchema.Shape

    /// Opens the database at `path`, creating it (and its parent directory) when missing.
    ///
    /// - Parameters:
    ///   - path: The database file, for example `./rlwatch_logs/metrics.db`.
    ///   - log: Where to report schema upgrades and unredacted secrets; nil to drop them.
    /// - Throws: `SQLiteStoreError.schemaTooNew` for a database from a newer rlwatch, or a GRDB
    ///   `DatabaseError` when the file cannot be opened or is not an SQLite database.
    public convenience init(path: String, log: LogHandler? = nil) throws {
        try self.init(path: path, mode: .create, log: log)
    }

    /// Opens an existing database, failing clearly when there is none.
    ///
    /// The CLI uses this so that `rlwatch runs` on a wrong `--log-dir` reports the missing file
    /// instead of creating an empty database there.
    ///
    /// - Parameters:
    ///   - path: The database file.
    ///   - readOnly: Open without write access: no schema upgrade, and writes throw. A 0.5.1
    ///     database opened this way is read as it is.
    ///   - log: Where to report schema upgrades; nil to drop them.
    /// - Returns: The open store.
    /// - Throws: `SQLiteStoreError.databaseNotFound` ("No rlwatch database found at {path}") when
    ///   the file does not exist, `SQLiteStoreError.schemaTooNew` for a database from a newer
    ///   rlwatch, `SQLiteStoreError.notAnRLWatchDatabase` for another SQLite file opened read-only.
    public static func openExisting(path: String, readOnly: Bool = false, log: LogHandler? = nil) throws -> SQLiteStore {
        try SQLiteStore(path: path, mode: readOnly ? .readOnly : .existing, log: log)
    }

    private enum Mode {
        case create
        case existing
        case readOnly
    }

    private init(path: String, mode: Mode, log: LogHandler?) throws {
        self.path = path
        self.log = log
        isReadOnly = mode == .readOnly

        let fileManager = FileManager.default
        switch mode {
        case .create:
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
            try fileManager.createDirectory(at: directory, withIntermediateDirectories: true)
        case .existing, .readOnly:
            var isDirectory: ObjCBool = false
            guard fileManager.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
                throw SQLiteStoreError.databaseNotFound(path: path)
            }
        }

        var configuration = Configuration()
        configuration.label = "rlwatch"
        configuration.readonly = isReadOnly
        // 0.5.1 declared foreign keys but never enforced them; enforcing them now would make an
        // append for an unregistered run fail the whole batch.
        configuration.foreignKeysEnabled = false
        configuration.busyMode = .timeout(5)
        configuration.prepareDatabase { db in
            if !db.configuration.readonly {
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
            }
        }
        let pool = try DatabasePool(path: path, configuration: configuration)
        database = pool

        let before = try pool.read { db in
            try SQLiteSchema.checkSupported(db, path: path)
            return try SQLiteSchema.storedVersion(db)
        }
        if !isReadOnly {
            try Self.migrate(pool, path: path)
            if let before, before < SQLiteSchema.version {
                log?(.info, "Upgraded rlwatch database at \(path) from schema version \(before) to \(SQLiteSchema.version)")
            }
        }
        shape = try pool.read { db in try SQLiteSchema.Shape(db, path: path) }
        stepsSelect = "SELECT \(MetricsTable.selectList(shape)) FROM \(MetricsTable.name)"
        alertsSelect = "SELECT \(AlertsTable.selectList(shape)) FROM \(AlertsTable.name)"
    }

    /// Runs the migrations, tolerating another process that migrates the same file at the same time.
    private static func migrate(_ writer: some DatabaseWriter, path: String) throws {
        let migrator = SQLiteSchema.migrator
        do {
            try migrator.migrate(writer)
        } catch {
            // Each migration is idempotent; if the other process won the race, we are done.
            guard try writer.read({ try migrator.hasCompletedMigrations($0) }) else { throw error }
        }
        // A newer rlwatch may have stamped the file between our check and our migration.
        try writer.read { try SQLiteSchema.checkSupported($0, path: path) }
    }

    /// Closes the database. Later reads return nothing and later writes throw.
    public func close() throws {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        try database.close()
    }

    var isClosed: Bool { closed.load(ordering: .acquiring) }

    func checkWritable() throws {
        if isReadOnly { throw SQLiteStoreError.readOnly(path: path) }
        if isClosed { throw SQLiteStoreError.closed(path: path) }
    }

    // MARK: Writing

    public func registerRun(_ run: RunRecord) async throws {
        try checkWritable()
        var run = run
        let redaction = StoreRowCodec.redactSecrets(configJSON: run.configJSON)
        if !redaction.keyPaths.isEmpty {
            run.configJSON = redaction.json
            log?(
                .warning,
                "Run \(run.runID): config values at \(redaction.keyPaths.joined(separator: ", ")) look like "
                    + "unredacted secrets; they were stored as \"\(StoreRowCodec.secretMarker)\"")
        }
        let row = RunsTable(run)
        try await database.write { db in
            // Re-registering a run updates its framework and config but keeps its start time.
            _ = try row.upsertAndFetch(db) { _ in [RunsTable.Columns.startedAt.noOverwrite] }
        }
    }

    /// Appends steps and alerts in one transaction.
    ///
    /// The write runs synchronously on the calling thread. Hopping to GRDB's writer queue and back
    /// (its `async` API) costs more than committing a step, and the monitor commits one per training
    /// step. The wait is short because this process is the only writer: a batch of 1000 rows takes a
    /// few milliseconds, and the busy timeout (5 s) only comes into play when another process writes.
    /// A lone step is committed without an explicit transaction, since one `INSERT` is atomic on its own.
    public func append(steps: [StoredStep], alerts: [AlertRecord], options: AppendOptions) async throws {
        try checkWritable()
        if steps.isEmpty && alerts.isEmpty && options == .none { return }
        try Self.write(steps: steps, alerts: alerts, options: options, to: database)
        ringIfQueued(alerts)
    }

    public let outboxDoorbell: OutboxDoorbell? = OutboxDoorbell()

    /// Wakes this process's dispatcher when the committed alerts queued deliveries.
    private func ringIfQueued(_ alerts: [AlertRecord]) {
        if alerts.contains(where: { $0.disposition.isDelivered && !$0.channels.isEmpty }) { outboxDoorbell?.ring() }
    }

    /// The write behind both appends. Not `async`, so that GRDB's synchronous `write` is the one called.
    private static func write(
        steps: [StoredStep], alerts: [AlertRecord], options: AppendOptions = .none, to database: any DatabaseWriter
    ) throws {
        if alerts.isEmpty && steps.count == 1 && options == .none {
            try database.writeWithoutTransaction { db in try insert(steps: steps, alerts: [], db) }
        } else {
            try database.write { db in
                try insert(steps: steps, alerts: alerts, db)
                try record(options, db)
            }
        }
    }

    /// Writes an append's checkpoint and receipt inside its transaction.
    private static func record(_ options: AppendOptions, _ db: Database) throws {
        let now = options.time
        if let checkpoint = options.checkpoint {
            try db.cachedStatement(sql: CheckpointsTable.upsertSQL)
                .execute(arguments: [checkpoint.source, checkpoint.runID, checkpoint.state, now])
        }
        if let receipt = options.receipt {
            try db.cachedStatement(sql: ReceiptsTable.insertSQL)
                .execute(arguments: [receipt.runID, receipt.key, receipt.response, now, receipt.batchDigest])
        }
    }

    public func finishRun(id: String, at time: Double) async throws {
        try checkWritable()
        try await database.write { db in
            try db.execute(
                sql: "UPDATE \(RunsTable.name) SET \(RunsTable.Columns.finishedAt.name) = ? WHERE \(RunsTable.Columns.runID.name) = ?",
                arguments: [time, id])
        }
    }

    /// `append(steps:alerts:)` for synchronous callers (the replay engine's tight loop): one blocking
    /// write transaction on the calling thread.
    public func appendSynchronously(steps: [StoredStep], alerts: [AlertRecord]) throws {
        try checkWritable()
        if steps.isEmpty && alerts.isEmpty { return }
        try Self.write(steps: steps, alerts: alerts, to: database)
        ringIfQueued(alerts)
    }

    /// The write transaction's body: hand-bound cached statements, no record machinery.
    private static func insert(steps: [StoredStep], alerts: [AlertRecord], _ db: Database) throws {
        if !steps.isEmpty {
            let statement = try db.cachedStatement(sql: MetricsTable.insertSQL)
            for step in steps {
                try MetricsTable.bind(step, to: statement)
                try statement.execute()
            }
        }
        if !alerts.isEmpty {
            let statement = try db.cachedStatement(sql: AlertsTable.insertSQL)
            for alert in alerts {
                let segment = try segment(of: alert, in: steps, db)
                statement.setUncheckedArguments(AlertsTable.insertArguments(alert, segment: segment))
                try statement.execute()
                if alert.disposition.isDelivered && !alert.channels.isEmpty {
                    try queueDeliveries(of: alert, alertID: db.lastInsertedRowID, db)
                }
            }
        }
    }

    /// One outbox entry per channel of a delivered alert, due when it was judged (on the monitor's clock, which the
    /// dispatcher claims on).
    private static func queueDeliveries(of alert: AlertRecord, alertID: Int64, _ db: Database) throws {
        let now = alert.timestamp
        let statement = try db.cachedStatement(sql: DeliveriesTable.insertSQL)
        for channel in alert.channels {
            try statement.execute(arguments: [alertID, alert.runID, channel, now, now, now])
        }
    }

    /// The segment an alert belongs to: that of the latest row of its run at its step.
    ///
    /// `AlertRecord` carries no segment, and an alert is raised on the step it arrives with, so
    /// the step is looked up in the batch first and in the table second.
    private static func segment(of record: AlertRecord, in steps: [StoredStep], _ db: Database) throws -> Int {
        if let step = steps.last(where: { $0.runID == record.runID && $0.metrics.step == record.alert.step }) {
            return step.segment
        }
        let statement = try db.cachedStatement(
            sql: """
                SELECT \(MetricsTable.Columns.segment.name) FROM \(MetricsTable.name)
                WHERE \(MetricsTable.Columns.runID.name) = ? AND \(MetricsTable.Columns.step.name) = ?
                ORDER BY \(MetricsTable.Columns.id.name) DESC LIMIT 1
                """)
        return try Int.fetchOne(statement, arguments: [record.runID, record.alert.step]) ?? 0
    }

    // MARK: Reading

    public func runs() async throws -> [RunRecord] {
        if isClosed { return [] }
        return try await database.read { db in
            try RunsTable
                .order(RunsTable.Columns.startedAt.desc, RunsTable.Columns.runID.desc)
                .fetchAll(db)
                .map(\.run)
        }
    }

    public func run(id: String) async throws -> RunRecord? {
        if isClosed { return nil }
        return try await database.read { db in
            try RunsTable.filter(RunsTable.Columns.runID == id).fetchOne(db)?.run
        }
    }

    /// A run's rows in arrival (`id`) order.
    ///
    /// The only index on `metrics` is 0.5.1's `(run_id, step)`, which yields rows in step order;
    /// asking SQLite for `WHERE run_id = ? ORDER BY id` makes it sort the whole run in a temporary
    /// b-tree before the first row (and before any `LIMIT`). So the read goes in two steps inside one
    /// snapshot: the covering index gives the run's smallest and largest id, then the table is walked
    /// in rowid order over that range, the `+` prefixes keeping SQLite on the rowid. Rows of other
    /// runs written in between are skipped by the filter.
    public func steps(runID: String, sinceStep: Int?, limit: Int?) async throws -> [StoredStep] {
        if isClosed { return [] }
        if let limit, limit <= 0 { return [] }
        let runIDColumn = MetricsTable.Columns.runID.name
        let stepColumn = MetricsTable.Columns.step.name
        let idColumn = MetricsTable.Columns.id.name
        var boundsSQL = "SELECT MIN(\(idColumn)), MAX(\(idColumn)) FROM \(MetricsTable.name) WHERE \(runIDColumn) = ?"
        var rowsSQL = "\(stepsSelect) WHERE \(idColumn) BETWEEN ? AND ? AND +\(runIDColumn) = ?"
        var filter: StatementArguments = [runID]
        if let sinceStep {
            boundsSQL += " AND \(stepColumn) >= ?"
            rowsSQL += " AND +\(stepColumn) >= ?"
            filter += [sinceStep]
        }
        rowsSQL += " ORDER BY \(idColumn)"
        var limitArgument: StatementArguments = []
        if let limit {
            rowsSQL += " LIMIT ?"
            limitArgument = [limit]
        }
        let path = path
        return try await database.read { [boundsSQL, rowsSQL, filter, limitArgument] db in
            let bounds = try Row.fetchOne(db.cachedStatement(sql: boundsSQL), arguments: filter)
            guard let bounds, let low = try bounds.decode(Int64?.self, atIndex: 0),
                let high = try bounds.decode(Int64?.self, atIndex: 1)
            else { return [] }
            let rows = try Row.fetchCursor(db.cachedStatement(sql: rowsSQL), arguments: [low, high] + filter + limitArgument)
            var steps: [StoredStep] = []
            while let row = try rows.next() {
                steps.append(try MetricsTable.decode(row, runID: runID, path: path))
            }
            return steps
        }
    }

    public func alerts(runID: String, filter: AlertFilter) async throws -> [AlertRecord] {
        if isClosed { return [] }
        var sql = "\(alertsSelect) WHERE \(AlertsTable.Columns.runID.name) = ?"
        if let condition = AlertsTable.condition(filter, shape: shape) { sql += " AND \(condition)" }
        sql += " ORDER BY \(AlertsTable.Columns.id.name)"
        let path = path
        return try await database.read { [sql] db in
            let statement = try db.cachedStatement(sql: sql)
            let rows = try Row.fetchCursor(statement, arguments: [runID])
            var alerts: [AlertRecord] = []
            while let row = try rows.next() {
                alerts.append(try AlertsTable.decode(row, runID: runID, path: path))
            }
            return alerts
        }
    }

    public func checkpoint(source: String) async throws -> SourceCheckpoint? {
        if isClosed || !shape.hasV4Tables { return nil }
        return try await database.read { db in
            try Row.fetchOne(db.cachedStatement(sql: CheckpointsTable.selectSQL), arguments: [source]).map {
                SourceCheckpoint(source: $0[0], runID: $0[1], state: $0[2])
            }
        }
    }

    public func receipt(runID: String, key: String) async throws -> BatchReceipt? {
        if isClosed || !shape.hasV4Tables { return nil }
        return try await database.read { db in
            let sql = shape.hasReceiptDigest ? ReceiptsTable.selectSQL : ReceiptsTable.selectWithoutDigestSQL
            return try Row.fetchOne(db.cachedStatement(sql: sql), arguments: [runID, key]).map {
                BatchReceipt(runID: $0[0], key: $0[1], response: $0[2], batchDigest: $0[3])
            }
        }
    }

    public func stepCount(runID: String) async throws -> Int {
        if isClosed { return 0 }
        return try await database.read { db in
            try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM \(MetricsTable.name) WHERE \(MetricsTable.Columns.runID.name) = ?",
                arguments: [runID]) ?? 0
        }
    }
}

extension SQLiteStore {
    public func lastActivity(runID: String) async throws -> RunActivity? {
        if isClosed { return nil }
        let sql = """
            SELECT \(MetricsTable.Columns.step.name), \(MetricsTable.Columns.timestamp.name) FROM \(MetricsTable.name)
            WHERE \(MetricsTable.Columns.id.name) = (SELECT MAX(\(MetricsTable.Columns.id.name)) FROM \(MetricsTable.name)
            WHERE \(MetricsTable.Columns.runID.name) = ?)
            """
        return try await database.read { db in
            guard let row = try Row.fetchOne(db, sql: sql, arguments: [runID]) else { return nil }
            return RunActivity(step: try row.decode(atIndex: 0), timestamp: try row.decode(atIndex: 1))
        }
    }
}
