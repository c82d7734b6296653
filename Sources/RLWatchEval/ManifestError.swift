/// A malformed corpus manifest, naming the file, line and key at fault.
public struct ManifestError: Error, Sendable, Hashable, CustomStringConvertible {
    public let file: String
    public let line: Int
    public let column: Int
    /// The key path at fault, such as `runs[3].events[0].onset`, or empty for the document itself.
    public let key: String
    public let message: String

    public init(file: String, line: Int, column: Int, key: String, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.key = key
        self.message = message
    }

    public var description: String {
        "\(file):\(line):\(column): \(key.isEmpty ? "" : "\(key): ")\(message)"
    }
}
