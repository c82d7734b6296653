/// A metrics log that could not be read, or a line of it that was rejected.
///
/// Its description reads `FILE:LINE: message` for a bad line (the message ends with the column) and
/// `FILE: message` for a file that cannot be opened or read.
public struct MetricsFileError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Code: Sendable, Hashable {
        case cannotOpen
        case readFailed
        case badLine(MetricsLineError)
    }

    private let code: Code
    /// The file's path as given, or `<stdin>`.
    public let file: String
    /// The 1-based number of the rejected line; `nil` for an error of the file as a whole.
    public let line: Int?
    /// What went wrong, without the file and line.
    public let message: String

    private init(code: Code, file: String, line: Int?, message: String) {
        self.code = code
        self.file = file
        self.line = line
        self.message = message
    }

    /// The file could not be opened.
    static func cannotOpen(_ file: String, reason: String) -> MetricsFileError {
        MetricsFileError(code: .cannotOpen, file: file, line: nil, message: "cannot open: \(reason)")
    }

    /// Reading the file failed part way.
    static func readFailed(_ file: String, reason: String) -> MetricsFileError {
        MetricsFileError(code: .readFailed, file: file, line: nil, message: "read failed: \(reason)")
    }

    /// A line was rejected by the parser.
    static func badLine(_ file: String, line: Int, error: MetricsLineError) -> MetricsFileError {
        MetricsFileError(code: .badLine(error), file: file, line: line, message: error.description)
    }

    /// The parser's error for a rejected line; `nil` for an error of the file as a whole.
    public var lineError: MetricsLineError? {
        if case .badLine(let error) = code { return error }
        return nil
    }

    /// Whether the file could not be opened (as opposed to a read failure or a bad line).
    public var isCannotOpen: Bool {
        if case .cannotOpen = code { return true }
        return false
    }

    public var description: String {
        if let line { return "\(file):\(line): \(message)" }
        return "\(file): \(message)"
    }
}
