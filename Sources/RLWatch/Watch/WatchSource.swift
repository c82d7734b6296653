/// One log that a ``Watcher`` follows: a metrics JSONL file, a `trainer_state.json`, a TensorBoard event
/// file. Each poll returns what the trainer added since the previous poll, with the position after it.
///
/// A source is a small state machine owned by one watcher and polled from one task at a time. Its position
/// is an opaque string (JSON by convention) that the watcher stores in the same transaction as the steps
/// it covers, so a restarted watch resumes exactly where the stored steps end.
public protocol WatchSource: AnyObject {
    /// What the checkpoint is stored under: the absolute path of the file (or of the watched directory,
    /// for a source that stands for a whole directory).
    var id: String { get }

    /// Continues after a stored position; called at most once, before the first poll.
    ///
    /// - Parameter state: a ``WatchPoll/state`` this kind of source returned earlier.
    /// - Throws: when the state cannot be read; the watcher then reads the source from the start.
    func resume(from state: String) throws

    /// Reads what was added since the last poll.
    ///
    /// A source never throws for bad input: a malformed line is a note (or, under `strict`, the poll's
    /// ``WatchPoll/failure``), a truncated or replaced file is a note and a read from the start.
    /// - Parameter options: how much to read, and how to treat what is not complete or not valid.
    /// - Returns: the new steps, the position after them and what to tell the user.
    /// - Throws: only when the log cannot be read at all (an I/O error).
    func poll(_ options: WatchPollOptions) throws -> WatchPoll
}
