/// One event file of a TensorBoard log directory.
public struct TensorBoardEventFile: Sendable, Hashable {
    /// The file's path: the log directory's path as given, joined with the file's relative path.
    public var path: String
    /// The directory holding the file, relative to the log directory (`""` for the log directory
    /// itself): TensorBoard's "run". One training run may have several files in one run directory
    /// (one per process start).
    public var run: String
    /// The file's name.
    public var name: String
    /// The creation time (seconds since the Unix epoch) the writer put in the name, if it has one.
    public var timestamp: Int?

    public init(path: String, run: String, name: String, timestamp: Int?) {
        self.path = path
        self.run = run
        self.name = name
        self.timestamp = timestamp
    }
}
