import Foundation
import Logging
import PostgresNIO
import RLWatchCore
import RLWatchStore
import Synchronization

/// The team store: one PostgreSQL database that many training jobs, on many nodes, report to through several
/// `rlwatch serve` processes.
///
/// Connections come from a postgres-nio pool (`pool_size` in the URL, 20 by default). Each `append` is one
/// transaction: all of a batch's rows are one `INSERT … SELECT * FROM UNNEST(…)` (one bind per column), then its
/// alerts, outbox entries, checkpoint and receipt. See ``PostgresSchema`` for the tables, and
/// ``withExclusiveRun(_:after:_:)`` for how several processes share a run.
///
/// Open it with ``withStore(url:migrate:logger:_:)``: the pool runs for the closure's duration.
public final class PostgresStore: Sendable {
    /// The database, password masked when printed.
    public let url: PostgresURL
    /// The connection pool, replaced when it is stuck (see ``PostgresPools``).
    let pools: PostgresPools
    let logger: Logger
    /// Rung after an append that queued deliveries commits (see ``OutboxStore/outboxDoorbell``).
    public let outboxDoorbell: OutboxDoorbell? = OutboxDoorbell()

    private init(url: PostgresURL, pools: PostgresPools, logger: Logger) {
        self.url = url
        self.pools = pools
        self.logger = logger
    }

    /// Connects, checks the schema (or brings it up to date), runs `body`, then closes the pool.
    ///
    /// - Parameters:
    ///   - url: The database.
    ///   - migrate: Apply missing migrations first (`rlwatch db migrate`); otherwise a database whose schema is
    ///     not exactly this build's is an error.
    ///   - logger: postgres-nio's background logger.
    ///   - body: Uses the store; it must not keep it past its return.
    /// - Throws: `PostgresStoreError` when the server cannot be reached or the schema does not match, or `body`'s
    ///   error.
    public static func withStore<T: Sendable>(
        url: PostgresURL, migrate: Bool = false, logger: Logger = .current,
        _ body: (PostgresStore) async throws -> T
    ) async throws -> T {
        // The pool's own messages at error level: it warns about a lease requested before `run()` started, which
        // is the normal order here (the lease waits for it).
        var poolLogger = logger
        poolLogger.logLevel = max(logger.logLevel, .error)
        let pools = try PostgresPools(url: url, poolLogger: poolLogger, logger: logger)
        let store = PostgresStore(url: url, pools: pools, logger: logger)
        return try await withThrowingTaskGroup(of: Void.self, returning: T.self) { group in
            group.addTask { await pools.run() }
            defer { group.cancelAll() }
            try await store.prepare(migrate: migrate)
            return try await body(store)
        }
    }

    /// Connects and applies the missing migrations (`rlwatch db migrate`).
    ///
    /// - Returns: The version before, and the versions applied (empty when it was up to date).
    public static func migrate(url: PostgresURL, logger: Logger = .current) async throws
        -> (from: Int, applied: [Int])
    {
        try await PostgresServer.withConnection(to: url, logger: logger) { connection in
            try await migrate(connection, database: url.description, logger: logger)
        }
    }

    /// The stored version, then the migrations applied on `connection`.
    private static func migrate(_ connection: PostgresConnection, database: String, logger: Logger) async throws
        -> (from: Int, applied: [Int])
    {
        let before = try await PostgresSchema.storedVersion(connection, logger: logger)
        let applied = try await PostgresSchema.migrate(connection, database: database, logger: logger)
        return (before, applied)
    }

    /// Checks the schema (or migrates it) on a first connection, after ``PostgresServer/probe(_:logger:)`` has
    /// reported a server that cannot be reached as it is.
    private func prepare(migrate: Bool) async throws {
        try await PostgresServer.probe(url, logger: logger)
        if migrate {
            _ = try await self.migrate()
        } else {
            try await withConnection { connection in
                try await PostgresSchema.check(connection, database: url.description, logger: logger)
            }
        }
    }

    /// Applies the missing migrations.
    ///
    /// - Returns: The version before, and the versions applied (empty when it was up to date).
    public func migrate() async throws -> (from: Int, applied: [Int]) {
        try await withConnection { connection in
            try await Self.migrate(connection, database: url.description, logger: logger)
        }
    }

    /// The schema version this build writes.
    public static var schemaVersion: Int { PostgresSchema.version }

    /// The schema version of the database.
    public func storedSchemaVersion() async throws -> Int {
        try await withConnection { try await PostgresSchema.storedVersion($0, logger: logger) }
    }

    public func schemaVersions() async throws -> (stored: Int, current: Int)? {
        (try await storedSchemaVersion(), Self.schemaVersion)
    }

    // MARK: Connections

    /// Runs `body` on the connection of the enclosing ``withExclusiveRun(_:after:_:)`` of this store (same task),
    /// or on a pooled one (within seconds, or an error saying the server cannot be reached: ``PostgresPools``).
    @discardableResult
    func withConnection<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        do {
            if let transaction = RunTransaction.current, transaction.store == ObjectIdentifier(self) {
                return try await body(transaction.connection)
            }
            return try await pools.withConnection { connection in try await body(connection) }
        } catch {
            throw translate(error)
        }
    }

    /// Runs `body` in a transaction: the enclosing exclusive run's, or a new one on a pooled connection.
    @discardableResult
    func withTransaction<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        if let transaction = RunTransaction.current, transaction.store == ObjectIdentifier(self) {
            do { return try await body(transaction.connection) } catch { throw translate(error) }
        }
        return try await withConnection { connection in
            try await connection.query("BEGIN", logger: logger)
            do {
                let value = try await body(connection)
                try await connection.query("COMMIT", logger: logger)
                return value
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
        }
    }

    /// postgres-nio's errors as `PostgresStoreError` with the server's message; other errors unchanged.
    func translate(_ error: any Error) -> any Error {
        if error is PSQLError || error is PostgresTransactionError {
            return PostgresStoreError.server(database: url.description, message: PostgresStoreError.describe(error))
        }
        if String(reflecting: type(of: error)).contains("ConnectionPool") {
            return PostgresStoreError.server(
                database: url.description, message: "cannot connect to \(url.host):\(url.port) (\(error))")
        }
        return error
    }

    /// The rows of a query, collected.
    func rows(_ query: PostgresQuery, on connection: PostgresConnection) async throws -> [PostgresRow] {
        try await connection.query(query, logger: logger).collect()
    }
}

// MARK: Store

extension PostgresStore: Store {
    public func registerRun(_ run: RunRecord) async throws {
        var run = run
        let redaction = StoreRowCodec.redactSecrets(configJSON: run.configJSON)
        if !redaction.keyPaths.isEmpty {
            run.configJSON = redaction.json
            logger.warning(
                "Run \(run.runID): config values at \(redaction.keyPaths.joined(separator: ", ")) look like unredacted secrets; they were stored as \"\(StoreRowCodec.secretMarker)\"")
        }
        let row = run
        try await withConnection { connection in
            // Re-registering a run updates its framework, config and finish time but keeps its start time.
            try await connection.query(
                """
                INSERT INTO runs (run_id, framework, started_at, config_json, finished_at)
                VALUES (\(row.runID), \(row.framework), \(row.startedAt), \(row.configJSON), \(row.finishedAt))
                ON CONFLICT (run_id) DO UPDATE SET framework = excluded.framework, config_json = excluded.config_json,
                    finished_at = excluded.finished_at
                """, logger: logger)
        }
    }

    public func append(steps: [StoredStep], alerts: [AlertRecord], options: AppendOptions) async throws {
        if steps.isEmpty && alerts.isEmpty && options == .none { return }
        let lastRowID = try await withTransaction { connection in
            try await self.write(steps: steps, alerts: alerts, options: options, on: connection)
        }
        if let transaction = RunTransaction.current, transaction.store == ObjectIdentifier(self), let lastRowID {
            transaction.saw(rowID: lastRowID)
        }
        if alerts.contains(where: { $0.disposition.isDelivered && !$0.channels.isEmpty }) { outboxDoorbell?.ring() }
    }

    /// An append's statements, inside its transaction; returns the highest metrics row id written.
    private func write(steps: [StoredStep], alerts: [AlertRecord], options: AppendOptions, on connection: PostgresConnection)
        async throws -> Int64?
    {
        var lastRowID: Int64?
        if !steps.isEmpty {
            for try await (maxID, count) in try await connection.execute(InsertStepsStatement(steps: steps), logger: logger)
            where count > 0 {
                lastRowID = maxID
            }
        }
        let now = options.time
        for record in alerts {
            let segment = try await segment(of: record, in: steps, on: connection)
            let inserted = try await rows(PostgresRows.insertAlertQuery(record, segment: segment), on: connection)
            guard let alertID = try inserted.first?.decode(Int64.self) else { continue }
            if record.disposition.isDelivered && !record.channels.isEmpty {
                try await connection.query(
                    """
                    INSERT INTO alert_deliveries (alert_id, run_id, channel, status, attempts, next_attempt_at, created_at, updated_at)
                    SELECT \(alertID), \(record.runID), channel, 'pending', 0, \(record.timestamp), \(record.timestamp),
                        \(record.timestamp)
                    FROM UNNEST(\(record.channels)::text[]) AS channel
                    ON CONFLICT (alert_id, channel) DO NOTHING
                    """, logger: logger)
            }
        }
        if let checkpoint = options.checkpoint {
            try await connection.query(
                """
                INSERT INTO checkpoints (source, run_id, state, updated_at)
                VALUES (\(checkpoint.source), \(checkpoint.runID), \(checkpoint.state), \(now))
                ON CONFLICT (source) DO UPDATE SET run_id = excluded.run_id, state = excluded.state,
                    updated_at = excluded.updated_at
                """, logger: logger)
        }
        if let receipt = options.receipt {
            try await connection.query(
                """
                INSERT INTO batch_receipts (run_id, key, response, created_at, body_digest)
                VALUES (\(receipt.runID), \(receipt.key), \(receipt.response), \(now), \(receipt.batchDigest))
                ON CONFLICT (run_id, key) DO UPDATE SET response = excluded.response, created_at = excluded.created_at,
                    body_digest = excluded.body_digest
                """, logger: logger)
        }
        return lastRowID
    }

    /// The segment of an alert: that of its step in the batch, else of the latest stored row of its run and step.
    private func segment(of record: AlertRecord, in steps: [StoredStep], on connection: PostgresConnection) async throws
        -> Int
    {
        if let step = steps.last(where: { $0.runID == record.runID && $0.metrics.step == record.alert.step }) {
            return step.segment
        }
        let found = try await rows(
            """
            SELECT segment FROM metrics WHERE run_id = \(record.runID) AND step = \(Int64(record.alert.step))
            ORDER BY id DESC LIMIT 1
            """, on: connection)
        return Int(try found.first?.decode(Int32.self) ?? 0)
    }

    public func finishRun(id: String, at time: Double) async throws {
        try await withConnection { connection in
            try await connection.query("UPDATE runs SET finished_at = \(time) WHERE run_id = \(id)", logger: logger)
        }
    }

    public func checkpoint(source: String) async throws -> SourceCheckpoint? {
        try await withConnection { connection in
            let found = try await rows(
                "SELECT source, run_id, state FROM checkpoints WHERE source = \(source)", on: connection)
            return try found.first.map { row in
                let (source, runID, state) = try row.decode((String, String, String).self)
                return SourceCheckpoint(source: source, runID: runID, state: state)
            }
        }
    }

    public func receipt(runID: String, key: String) async throws -> BatchReceipt? {
        try await withConnection { connection in
            var found: ReceiptStatement.Row?
            for try await row in try await connection.execute(ReceiptStatement(runID: runID, key: key), logger: logger) {
                found = row
            }
            return found.map { BatchReceipt(runID: runID, key: key, response: $0.response, batchDigest: $0.digest) }
        }
    }

    public func runs() async throws -> [RunRecord] {
        try await withConnection { connection in
            try await rows(
                PostgresQuery(
                    unsafeSQL: "SELECT \(PostgresRows.runSelectList) FROM runs ORDER BY started_at DESC, run_id DESC"),
                on: connection
            ).map(PostgresRows.decodeRun)
        }
    }

    public func run(id: String) async throws -> RunRecord? {
        try await withConnection { connection in
            try await fetchRun(id, on: connection)
        }
    }

    func fetchRun(_ id: String, on connection: PostgresConnection) async throws -> RunRecord? {
        var binds = PostgresBindings()
        binds.append(id)
        return try await rows(
            PostgresQuery(unsafeSQL: "SELECT \(PostgresRows.runSelectList) FROM runs WHERE run_id = $1", binds: binds),
            on: connection
        ).first.map(PostgresRows.decodeRun)
    }

    public func steps(runID: String, sinceStep: Int?, limit: Int?) async throws -> [StoredStep] {
        if let limit, limit <= 0 { return [] }
        var sql = "SELECT \(PostgresRows.stepSelectList) FROM metrics WHERE run_id = $1"
        var binds = PostgresBindings()
        binds.append(runID)
        if let sinceStep {
            binds.append(Int64(sinceStep))
            sql += " AND step >= $\(binds.count)"
        }
        sql += " ORDER BY id"
        if let limit {
            binds.append(Int64(limit))
            sql += " LIMIT $\(binds.count)"
        }
        let query = PostgresQuery(unsafeSQL: sql, binds: binds)
        return try await withConnection { connection in
            try await rows(query, on: connection).map { try PostgresRows.decodeStep($0, runID: runID).step }
        }
    }

    /// A run's rows with an id above `rowID`, in arrival order, with their ids.
    func steps(runID: String, afterRowID rowID: Int64, on connection: PostgresConnection) async throws
        -> [(id: Int64, step: StoredStep)]
    {
        var binds = PostgresBindings()
        binds.append(runID)
        binds.append(rowID)
        let query = PostgresQuery(
            unsafeSQL: "SELECT \(PostgresRows.stepSelectList) FROM metrics WHERE run_id = $1 AND id > $2 ORDER BY id",
            binds: binds)
        return try await rows(query, on: connection).map { try PostgresRows.decodeStep($0, runID: runID) }
    }

    public func alerts(runID: String, filter: AlertFilter) async throws -> [AlertRecord] {
        var sql = "SELECT \(PostgresRows.alertSelectList) FROM alerts WHERE run_id = $1"
        switch filter {
        case .all: break
        case .delivered: sql += " AND status = 'delivered'"
        case .suppressed: sql += " AND status = 'suppressed'"
        }
        sql += " ORDER BY id"
        var binds = PostgresBindings()
        binds.append(runID)
        let query = PostgresQuery(unsafeSQL: sql, binds: binds)
        return try await withConnection { connection in
            try await rows(query, on: connection).map {
                try PostgresRows.decodeAlert($0.makeRandomAccess(), runID: runID)
            }
        }
    }

    public func stepCount(runID: String) async throws -> Int {
        try await withConnection { connection in
            let found = try await rows("SELECT COUNT(*)::int8 FROM metrics WHERE run_id = \(runID)", on: connection)
            return Int(try found.first?.decode(Int64.self) ?? 0)
        }
    }
}

// MARK: Retention

extension PostgresStore {
    /// Deletes old metric rows and receipts in one transaction (alerts, runs, checkpoints and the outbox stay).
    ///
    /// Deleting never disturbs live runs: `withExclusiveRun` catches up by row id, and ids only grow.
    public func pruneSteps(before time: Double) async throws -> Int {
        try await withTransaction { connection in
            let deleted = try await rows(
                "WITH gone AS (DELETE FROM metrics WHERE timestamp < \(time) RETURNING 1) SELECT COUNT(*)::int8 FROM gone",
                on: connection)
            try await connection.query("DELETE FROM batch_receipts WHERE created_at < \(time)", logger: logger)
            return Int(try deleted.first?.decode(Int64.self) ?? 0)
        }
    }
}

// MARK: Activity

extension PostgresStore {
    /// The run's last row by arrival, through the `(run_id, id)` index.
    public func lastActivity(runID: String) async throws -> RunActivity? {
        try await withConnection { connection in
            let found = try await rows(
                "SELECT step, timestamp FROM metrics WHERE run_id = \(runID) ORDER BY id DESC LIMIT 1", on: connection)
            return try found.first.map { row in
                let (step, timestamp) = try row.decode((Int64, Double).self)
                return RunActivity(step: Int(step), timestamp: timestamp)
            }
        }
    }
}

extension PostgresStore {
    /// A run's largest step number (any segment), or nil when it has no rows: one descent of the
    /// `(run_id, step, segment)` index, like `SQLiteStore.largestStep`.
    public func largestStep(runID: String) async throws -> Int? {
        try await withConnection { connection in
            let found = try await rows("SELECT MAX(step) FROM metrics WHERE run_id = \(runID)", on: connection)
            return try found.first?.decode(Int64?.self).map(Int.init)
        }
    }
}
