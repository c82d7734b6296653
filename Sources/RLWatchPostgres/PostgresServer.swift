import Foundation
import Logging
import NIOPosix
import PostgresNIO

/// Server-level chores that happen outside any rlwatch database's pool: one short-lived connection, and the probe that
/// reports an unusable server at once. (Creating and dropping databases is the tests' business: their kit extends
/// this type in `Tests/RLWatchStoreTests`.)
public enum PostgresServer {
    /// Runs `body` on one connection to `url` (its own short-lived pool).
    @discardableResult
    public static func withConnection<T: Sendable>(
        to url: PostgresURL, logger: Logger = .current,
        _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        var poolLogger = logger
        poolLogger.logLevel = max(logger.logLevel, .error)
        let client = PostgresClient(configuration: try url.clientConfiguration(), backgroundLogger: poolLogger)
        do {
            return try await withThrowingTaskGroup(of: Void.self, returning: T.self) { group in
                group.addTask { await client.run() }
                defer { group.cancelAll() }
                try await probe(url, logger: logger)
                return try await client.withConnection { connection in try await body(connection) }
            }
        } catch let error as PostgresStoreError {
            throw error
        } catch {
            throw PostgresStoreError.server(database: url.description, message: PostgresStoreError.describe(error))
        }
    }

    /// Opens and closes one connection outside any pool, within the connect timeout (plus 5 s), so that a server
    /// that cannot be used is reported at once and as it is (refused, certificate not trusted, password rejected)
    /// rather than as a pool that quietly retries until a timeout.
    public static func probe(_ url: PostgresURL, logger: Logger = .current) async throws {
        let seconds = (url.connectTimeout ?? 10) + 5
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                let connection: PostgresConnection
                do {
                    connection = try await PostgresConnection.connect(
                        on: MultiThreadedEventLoopGroup.singleton.next(), configuration: try url.connectionConfiguration(),
                        id: 0, logger: logger)
                } catch {
                    var problem = PostgresStoreError.describe(error)
                    if problem.contains("CERTIFICATE_VERIFY_FAILED") {
                        problem = "the server's TLS certificate is not trusted (sslmode=\(url.sslMode.rawValue), "
                            + (url.sslRootCert.map { "sslrootcert=\($0)" } ?? "the system's root certificates") + "): "
                            + problem
                    }
                    throw unreachable(url, problem)
                }
                try? await connection.close()
            }
            group.addTask {
                try await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
                throw unreachable(url, "\(noAnswer) \(Int(seconds)) s; is PostgreSQL running and reachable there?")
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    /// How a probe that timed out begins its problem.
    static let noAnswer = "no answer within"

    private static func unreachable(_ url: PostgresURL, _ problem: String) -> PostgresStoreError {
        .server(database: url.description, message: "cannot connect to \(url.host):\(url.port): " + problem)
    }
}
