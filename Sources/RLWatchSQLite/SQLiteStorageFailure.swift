import GRDB
import RLWatchStore

/// SQLite's result codes in a few words for a client (``StorageFailure/summary(of:)``).
extension DatabaseError: StorageFailureDescribing {
    public var storageFailureSummary: String {
        switch resultCode.primaryResultCode {
        case .SQLITE_FULL: "the disk is full"
        case .SQLITE_READONLY: "the database is read-only"
        case .SQLITE_BUSY, .SQLITE_LOCKED: "the database is locked by another process"
        case .SQLITE_IOERR: "the database file could not be read or written (I/O error)"
        case .SQLITE_CANTOPEN: "the database file could not be opened"
        case .SQLITE_CORRUPT, .SQLITE_NOTADB: "the database file is damaged"
        case .SQLITE_PERM, .SQLITE_AUTH: "the database refused access"
        default: "the database failed (SQLite code \(resultCode.primaryResultCode.rawValue))"
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
