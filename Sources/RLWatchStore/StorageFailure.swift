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
        (error as? any StorageFailureDescribing)?.storageFailureSummary
    }
}
