import PostgresNIO
import Foundation
import RLWatchStore

/// An error from `PostgresStore` that a user can act on.
///
/// Server errors are reported with PostgreSQL's own message and SQLSTATE (postgres-nio's `PSQLError` prints a
/// generic text to avoid leaking data; the server's message is what says what to fix).
public struct PostgresStoreError: Error, Hashable, CustomStringConvertible {
    private enum Code: Hashable {
        case invalidURL(url: String, problem: String)
        case schemaTooNew(database: String, version: Int, supported: Int)
        case schemaMissing(database: String)
        case schemaOutdated(database: String, version: Int, supported: Int)
        case server(database: String, message: String)
        case invalidRow(table: String, id: Int64, problem: String)
    }

    private let code: Code

    private init(_ code: Code) { self.code = code }

    /// A `--database` / `storage.url` / `RLWATCH_DATABASE_URL` value that is not a usable PostgreSQL URL.
    public static func invalidURL(_ url: String, problem: String) -> Self { Self(.invalidURL(url: url, problem: problem)) }

    /// The database was migrated by a newer rlwatch.
    public static func schemaTooNew(database: String, version: Int, supported: Int) -> Self {
        Self(.schemaTooNew(database: database, version: version, supported: supported))
    }

    /// The database has no rlwatch tables yet.
    public static func schemaMissing(database: String) -> Self { Self(.schemaMissing(database: database)) }

    /// The database is at an older schema version than this rlwatch writes.
    public static func schemaOutdated(database: String, version: Int, supported: Int) -> Self {
        Self(.schemaOutdated(database: database, version: version, supported: supported))
    }

    /// PostgreSQL refused a statement, or could not be reached.
    public static func server(database: String, message: String) -> Self {
        Self(.server(database: database, message: message))
    }

    /// A stored row holds a value this version cannot decode.
    public static func invalidRow(table: String, id: Int64, problem: String) -> Self {
        Self(.invalidRow(table: table, id: id, problem: problem))
    }

    /// True when `rlwatch db migrate` would fix the error.
    public var needsMigration: Bool {
        switch code {
        case .schemaMissing, .schemaOutdated: true
        default: false
        }
    }

    public var description: String {
        switch code {
        case .invalidURL(let url, let problem):
            "invalid PostgreSQL URL \(url): \(problem) (expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=...])"
        case .schemaTooNew(let database, let version, let supported):
            "PostgreSQL database \(database) is at rlwatch schema version \(version), but this version of rlwatch "
                + "supports up to \(supported). Upgrade rlwatch."
        case .schemaMissing(let database):
            "PostgreSQL database \(database) has no rlwatch tables; create them with `rlwatch db migrate --database URL`"
        case .schemaOutdated(let database, let version, let supported):
            "PostgreSQL database \(database) is at rlwatch schema version \(version); this rlwatch needs \(supported). "
                + "Run `rlwatch db migrate --database URL` first."
        case .server(let database, let message):
            "PostgreSQL database \(database): \(message)"
        case .invalidRow(let table, let id, let problem):
            "row \(id) of table \(table) is invalid: \(problem)"
        }
    }

    /// What went wrong, in PostgreSQL's words where the server answered.
    static func describe(_ error: any Error) -> String {
        if let error = error as? PostgresTransactionError {
            if let inner = error.closureError ?? error.commitError ?? error.beginError { return describe(inner) }
        }
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] {
                let state = error.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
                return message + state
            }
            if let underlying = error.underlying { return "\(error.code): \(underlying)" }
            return "\(error.code)"
        }
        return "\(error)"
    }

    /// The SQLSTATE of a server error, if the error is one.
    static func sqlState(_ error: any Error) -> String? {
        if let error = error as? PostgresTransactionError {
            if let inner = error.closureError ?? error.commitError ?? error.beginError { return sqlState(inner) }
        }
        return (error as? PSQLError)?.serverInfo?[.sqlState]
    }
}

extension PostgresStoreError: StorageFailureDescribing {
    public var storageFailureSummary: String {
        switch code {
        case .server(_, let message):
            if message.hasPrefix("cannot connect") || message.contains("connection") {
                return "the PostgreSQL server cannot be reached"
            }
            // The SQLSTATE says what class of failure it was; the message itself may quote row data.
            if let range = message.range(of: "(SQLSTATE ", options: .backwards) {
                let state = message[range.upperBound...].prefix { $0.isLetter || $0.isNumber }
                return "PostgreSQL refused a statement (SQLSTATE \(state))"
            }
            return "PostgreSQL failed"
        case .invalidRow: return "a stored row is invalid"
        case .invalidURL, .schemaTooNew, .schemaMissing, .schemaOutdated:
            return "the PostgreSQL database is not one this rlwatch can use"
        }
    }
}
