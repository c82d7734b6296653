import GRDB

/// An error a store can say in a few words, for a client: no SQL statement, no file path, no row data.
public protocol StorageFailureDescribing: Error {
    /// What went wrong, in a few words a client can be shown (`"the disk is full"`).
    var storageFailureSummary: String { get }
}

/// What a client is told when the store fails.
///
/// The full error (with its SQL statement) goes to the server's log; a response carries only this summary, since the
/// statement and its arguments can hold other runs' data.
public enum StorageFailure {
    /// A short description of `error` if it came from a store, else nil.
    public static func summary(of error: any Error) -> String? {
        if let error = error as? any StorageFailureDescribing { return error.storageFailureSummary }
        if let error = error as? DatabaseError { return summary(of: error.resultCode) }
        return nil
    }

    private static func summary(of code: ResultCode) -> String {
        switch code.primaryResultCode {
        case .SQLITE_FULL: "the disk is full"
        case .SQLITE_READONLY: "the database is read-only"
        case .SQLITE_BUSY, .SQLITE_LOCKED: "the database is locked by another process"
        case .SQLITE_IOERR: "the database file could not be read or written (I/O error)"
        case .SQLITE_CANTOPEN: "the database file could not be opened"
        case .SQLITE_CORRUPT, .SQLITE_NOTADB: "the database file is damaged"
        case .SQLITE_PERM, .SQLITE_AUTH: "the database refused access"
        default: "the database failed (SQLite code \(code.primaryResultCode.rawValue))"
        }
    }
}

extension SQLiteStoreError: StorageFailureDescribing {
    public var storageFailureSummary: String {
        switch code {
        case .readOnly: "the database is read-only"
        case .closed: "the database is closed"
        case .databaseNotFound: "the database file is missing"
        case .schemaTooNew, .notAnRLWatchDatabase: "the database is not one this rlwatch can use"
        case .invalidRow: "a stored row is invalid"
        }
    }
}
