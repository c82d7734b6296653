/// An error from `SQLiteStore` that a user can act on.
///
/// Errors from SQLite itself (a full disk, a corrupt file) are passed through as GRDB's `DatabaseError`.
public struct SQLiteStoreError: Error, Hashable, CustomStringConvertible {
    enum Code: Hashable {
        case databaseNotFound(path: String)
        case schemaTooNew(path: String, version: Int, supported: Int)
        case notAnRLWatchDatabase(path: String, missingTable: String)
        case readOnly(path: String)
        case closed(path: String)
        case invalidRow(path: String, table: String, id: Int64, problem: String)
    }

    let code: Code

    private init(_ code: Code) { self.code = code }

    /// No database file exists at `path` (and the store was asked not to create one).
    public static func databaseNotFound(path: String) -> Self { Self(.databaseNotFound(path: path)) }

    /// The database was written by a newer rlwatch whose schema this version does not know.
    public static func schemaTooNew(path: String, version: Int, supported: Int) -> Self {
        Self(.schemaTooNew(path: path, version: version, supported: supported))
    }

    /// The file is an SQLite database, but not one rlwatch wrote.
    public static func notAnRLWatchDatabase(path: String, missingTable: String) -> Self {
        Self(.notAnRLWatchDatabase(path: path, missingTable: missingTable))
    }

    /// A write was attempted on a store opened read-only.
    public static func readOnly(path: String) -> Self { Self(.readOnly(path: path)) }

    /// A write was attempted after `close()`.
    public static func closed(path: String) -> Self { Self(.closed(path: path)) }

    /// A stored row holds a value this version cannot decode.
    public static func invalidRow(path: String, table: String, id: Int64, problem: String) -> Self {
        Self(.invalidRow(path: path, table: table, id: id, problem: problem))
    }

    /// True when the error says that the database file does not exist.
    public var isDatabaseNotFound: Bool {
        if case .databaseNotFound = code { true } else { false }
    }

    public var description: String {
        switch code {
        case .databaseNotFound(let path):
            "No rlwatch database found at \(path)"
        case .schemaTooNew(let path, let version, let supported):
            "rlwatch database at \(path) is at schema version \(version), but this version of rlwatch supports up to "
                + "\(supported). Upgrade rlwatch."
        case .notAnRLWatchDatabase(let path, let table):
            "\(path) is an SQLite database but not an rlwatch one (it has no \(table) table)"
        case .readOnly(let path):
            "rlwatch database at \(path) was opened read-only; it cannot be written to"
        case .closed(let path):
            "rlwatch database at \(path) was closed; it cannot be written to"
        case .invalidRow(let path, let table, let id, let problem):
            "rlwatch database at \(path): row \(id) of table \(table) is invalid: \(problem)"
        }
    }
}
