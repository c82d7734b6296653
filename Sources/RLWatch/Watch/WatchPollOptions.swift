/// What a ``Watcher`` asks of one ``WatchSource/poll(_:)``.
public struct WatchPollOptions: Sendable, Hashable {
    /// The most steps to return; the rest is read by the next poll (``WatchPoll/hasMore``).
    public var limit: Int
    /// The log is finished (`--no-follow`): a last line without its newline is read too, if it is complete.
    public var final: Bool
    /// A malformed line stops the watch (``WatchPoll/failure``) instead of being skipped with a warning.
    public var strict: Bool
    /// Return the logged keys of up to this many first steps (for the note that names each metric's key).
    public var keysWanted: Int
    /// The watch is stopping: a step held back only because the next one has not started (a TensorBoard step
    /// whose records are all in the file) is handed over now, so stopping `watch` never loses the last step.
    public var stopping: Bool

    public init(limit: Int = 4096, final: Bool = false, strict: Bool = false, keysWanted: Int = 0, stopping: Bool = false) {
        self.limit = max(1, limit)
        self.final = final
        self.strict = strict
        self.keysWanted = keysWanted
        self.stopping = stopping
    }
}
