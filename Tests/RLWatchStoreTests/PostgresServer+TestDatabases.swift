import Logging
import PostgresNIO
import RLWatchPostgres

/// A database per test: only the tests create and drop databases, so these live in their kit, not in the product.
extension PostgresServer {
    private static let testLogger = Logger(label: "rlwatch.test.postgres")

    /// Creates database `name` (the caller's own generated name: letters, digits and `_`) on the server of `url`.
    static func createDatabase(_ name: String, on url: PostgresURL) async throws {
        precondition(isPlainName(name), "test database name \(name) must be letters, digits or _")
        try await withConnection(to: url, logger: testLogger) { connection in
            try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \"\(name)\""), logger: testLogger)
        }
    }

    /// Drops database `name` on the server of `url`, closing its other sessions; nothing happens when it is missing.
    static func dropDatabase(_ name: String, on url: PostgresURL) async throws {
        precondition(isPlainName(name), "test database name \(name) must be letters, digits or _")
        try await withConnection(to: url, logger: testLogger) { connection in
            try await connection.query(
                PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \"\(name)\" WITH (FORCE)"), logger: testLogger)
        }
    }

    /// The names are spliced into SQL: nothing that could need quoting.
    private static func isPlainName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 63 && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
    }
}
