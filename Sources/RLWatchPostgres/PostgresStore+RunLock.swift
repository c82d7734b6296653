import Foundation
import PostgresNIO
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

extension PostgresStore: RunSerializingStore {
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
                try await connection.query(
                    "SELECT pg_advisory_xact_lock(hashtextextended(\(runID), \(Self.runLockSeed)))", logger: logger)
                let missed = try await steps(runID: runID, afterRowID: cursor.rowID, on: connection)
                let run = try await fetchRun(runID, on: connection)
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
