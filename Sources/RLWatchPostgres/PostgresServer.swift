import Foundation
import Logging
import PostgresNIO

/// Server-level chores that happen outside any rlwatch database: creating and dropping databases (the tests create
/// one per test; an operator may use `rlwatch db create`).
public enum PostgresServer {
    /// Creates database `name` on the server of `url`; nothing happens when it exists.
    public static func createDatabase(_ name: String, on url: PostgresURL, logger: Logger = Logger(label: "rlwatch.postgres")) async throws {
        try validate(name, url: url)
        try await withConnection(to: url, logger: logger) { connection in
            do {
                try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \"\(name)\""), logger: logger)
            } catch where PostgresStoreError.sqlState(error) == "42P04" {
                // duplicate_database
            }
        }
    }

    /// Drops database `name` on the server of `url`, closing its other sessions; nothing happens when it is missing.
    public static func dropDatabase(_ name: String, on url: PostgresURL, logger: Logger = Logger(label: "rlwatch.postgres")) async throws {
        try validate(name, url: url)
        try await withConnection(to: url, logger: logger) { connection in
            try await connection.query(
                PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \"\(name)\" WITH (FORCE)"), logger: logger)
        }
    }

    /// Runs `body` on one connection to `url` (its own short-lived pool).
    @discardableResult
    public static func withConnection<T: Sendable>(
        to url: PostgresURL, logger: Logger = Logger(label: "rlwatch.postgres"),
        _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        var poolLogger = logger
        poolLogger.logLevel = max(logger.logLevel, .error)
        let client = PostgresClient(configuration: try url.clientConfiguration(), backgroundLogger: poolLogger)
        do {
            return try await withThrowingTaskGroup(of: Void.self, returning: T.self) { group in
                group.addTask { await client.run() }
                defer { group.cancelAll() }
                // Fail within the connect timeout (plus 5 s) rather than after the pool's retries give up.
                let seconds = (url.connectTimeout ?? 10) + 5
                try await withThrowingTaskGroup(of: Void.self) { probe in
                    probe.addTask { try await client.withConnection { _ in } }
                    probe.addTask {
                        try await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
                        throw PostgresStoreError.server(
                            database: url.description,
                            message: "no connection within \(Int(seconds)) s; is PostgreSQL running and reachable at "
                                + "\(url.host):\(url.port)?")
                    }
                    defer { probe.cancelAll() }
                    try await probe.next()
                }
                return try await client.withConnection { connection in try await body(connection) }
            }
        } catch let error as PostgresStoreError {
            throw error
        } catch {
            throw PostgresStoreError.server(database: url.description, message: PostgresStoreError.describe(error))
        }
    }

    private static func validate(_ name: String, url: PostgresURL) throws {
        guard !name.isEmpty, name.count <= 63, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") })
        else {
            throw PostgresStoreError.invalidURL(url.description, problem: "database name \"\(name)\" must be 1-63 letters, digits or _")
        }
    }
}
