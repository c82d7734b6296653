import Foundation
import PostgresNIO
import RLWatchCore
import RLWatchStore
import Synchronization

/// The transaction of a ``PostgresStore/withExclusiveRun(_:after:_:)`` in progress, visible to the store's methods
/// called from the same task so that they join it.
final class RunTransaction: Sendable {
    @TaskLocal static var current: RunTransaction?

    let store: ObjectIdentifier
    let connection: PostgresConnection
    private let lastRowID: Mutex<Int64>

    init(store: ObjectIdentifier, connection: PostgresConnection, lastRowID: Int64) {
        self.store = store
        self.connection = connection
        self.lastRowID = Mutex(lastRowID)
    }

    func saw(rowID: Int64) { lastRowID.withLock { $0 = max($0, rowID) } }

    var cursor: RunCursor { RunCursor(rowID: lastRowID.withLock { $0 }) }
}

extension PostgresStore {
    /// Several `rlwatch serve` share one PostgreSQL database: each batch is judged under its run's lock.
    public var sharesRuns: Bool { true }

    /// Serialises a run's batches across every process using this database.
    ///
    /// One pooled connection, one transaction: `pg_advisory_xact_lock` on a 64-bit hash of the run id (runs whose
    /// hashes collide merely wait for each other), then the rows other processes wrote since `cursor`, then `body`,
    /// whose store calls run on this connection, then `COMMIT`, which also releases the lock. A process killed while
    /// holding it closes its connection and PostgreSQL rolls back and unlocks at once; a host that vanishes without
    /// closing it is cut off by `idle_in_transaction_session_timeout` (60 s, set on every connection) or TCP.
    public func withExclusiveRun<T: Sendable>(
        _ runID: String, after cursor: RunCursor, _ body: (RunCatchUp) async throws -> T
    ) async throws -> (value: T, cursor: RunCursor) {
        try await withConnection { connection in
            try await connection.query("BEGIN", logger: logger)
            do {
                var state: (lastID: Int64, finishedAt: Double?) = (0, nil)
                for try await row in try await connection.execute(LockRunStatement(runID: runID), logger: logger) {
                    state = row
                }
                // Usually nothing: only when another server wrote since, or on the first batch after a load.
                let missed = state.lastID > cursor.rowID
                    ? try await steps(runID: runID, afterRowID: cursor.rowID, on: connection) : []
                let run = state.finishedAt == nil ? nil : try await fetchRun(runID, on: connection)
                let transaction = RunTransaction(
                    store: ObjectIdentifier(self), connection: connection, lastRowID: max(cursor.rowID, missed.last?.id ?? 0))
                let value = try await RunTransaction.$current.withValue(transaction) {
                    try await body(RunCatchUp(steps: missed.map(\.step), run: run))
                }
                try await connection.query("COMMIT", logger: logger)
                return (value, transaction.cursor)
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
        }
    }

    /// Keeps rlwatch's run locks apart from other applications' advisory locks on the same database.
    static let runLockSeed: Int64 = 0x726C_7761_7463_68
}

/// `rlwatch_lock_run` (see ``PostgresSchema``), prepared once per connection.
struct LockRunStatement: PostgresPreparedStatement {
    static let name = "rlwatch_lock_run_v1"
    static let sql = "SELECT last_id, finished_at FROM rlwatch_lock_run($1, $2)"
    typealias Row = (Int64, Double?)

    var runID: String

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 2)
        bindings.append(runID)
        bindings.append(PostgresStore.runLockSeed)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode((Int64, Double?).self) }
}

/// The batch insert of ``PostgresRows/insertStepsSQL``, prepared once per connection (planning an `UNNEST` of 17
/// arrays costs more than inserting a small batch).
struct InsertStepsStatement: PostgresPreparedStatement {
    static let name = "rlwatch_insert_steps_v1"
    static var sql: String { PostgresRows.insertStepsSQL }
    typealias Row = (Int64, Int64)

    var steps: [StoredStep]

    func makeBindings() throws -> PostgresBindings { PostgresRows.insertStepsQuery(steps).binds }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode((Int64, Int64).self) }
}

/// A batch receipt lookup, prepared once per connection (it precedes every batch sent with an idempotency key).
struct ReceiptStatement: PostgresPreparedStatement {
    static let name = "rlwatch_receipt_v2"
    static let sql = "SELECT response, body_digest FROM batch_receipts WHERE run_id = $1 AND key = $2"
    typealias Row = (response: String, digest: String?)

    var runID: String
    var key: String

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 2)
        bindings.append(runID)
        bindings.append(key)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row {
        let (response, digest) = try row.decode((String, String?).self)
        return (response, digest)
    }
}
