/// Why ``JSONReader`` rejected its input, and where: the one error of every JSON rlwatch reads (a metrics
/// line, a batch of steps, a `trainer_state.json`, a stored JSON column, a webhook body).
///
/// The ``message`` names the key at fault where there is one (`expected a number for "loss", got a
/// string`); ``column`` is the 1-based byte offset in the line of the token that was rejected, and ``line``
/// its 1-based line in a multi-line document (`nil` for one line, such as a metrics JSONL line). Compare
/// ``kind`` to tell errors apart in code. Ingest calls it `MetricsLineError`.
public struct JSONError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The class of an error, stable across message wording changes.
    public struct Kind: Sendable, Hashable, CustomStringConvertible {
        private enum Code: Sendable, Hashable {
            case syntax
            case unterminatedString
            case invalidEscape
            case invalidUTF8
            case invalidNumber
            case typeMismatch
            case missingStep
            case invalidStep
            case trailingCharacters
            case nestingTooDeep
        }

        private let code: Code

        private init(_ code: Code) { self.code = code }

        /// The line is not well-formed JSON (a missing `:`, `,` or `}`, an unexpected character).
        public static let syntax = Kind(.syntax)
        /// A string runs to the end of the line.
        public static let unterminatedString = Kind(.unterminatedString)
        /// A backslash escape is not one JSON allows, or a `\u` escape is an unpaired surrogate.
        public static let invalidEscape = Kind(.invalidEscape)
        /// A key (or, in a document, any text) is not valid UTF-8.
        public static let invalidUTF8 = Kind(.invalidUTF8)
        /// A number does not follow JSON's grammar.
        public static let invalidNumber = Kind(.invalidNumber)
        /// A metric key has a value that is not a number (or `rewards` is not an array of numbers).
        public static let typeMismatch = Kind(.typeMismatch)
        /// A metrics record (a JSONL line, a step of a batch) has no top-level `"step"`.
        public static let missingStep = Kind(.missingStep)
        /// A metrics record's `"step"` is not an integer (or an integral float) in `Int`'s range.
        public static let invalidStep = Kind(.invalidStep)
        /// Something follows the line's JSON object.
        public static let trailingCharacters = Kind(.trailingCharacters)
        /// Arrays or objects nest deeper than the parser follows.
        public static let nestingTooDeep = Kind(.nestingTooDeep)

        public var description: String {
            switch code {
            case .syntax: "syntax"
            case .unterminatedString: "unterminated string"
            case .invalidEscape: "invalid escape"
            case .invalidUTF8: "invalid UTF-8"
            case .invalidNumber: "invalid number"
            case .typeMismatch: "type mismatch"
            case .missingStep: "missing step"
            case .invalidStep: "invalid step"
            case .trailingCharacters: "trailing characters"
            case .nestingTooDeep: "nesting too deep"
            }
        }
    }

    public let kind: Kind
    /// The 1-based line of the rejected token in a multi-line document; `nil` where the input is one line.
    public let line: Int?
    /// The 1-based byte offset in the line of the rejected token.
    public let column: Int
    /// The key whose value was rejected, if the error concerns one.
    public let key: String?
    /// What went wrong, for a user: it names the key at fault where there is one.
    public let message: String

    public init(kind: Kind, line: Int? = nil, column: Int, key: String? = nil, message: String) {
        self.kind = kind
        self.line = line
        self.column = column
        self.key = key
        self.message = message
    }

    /// Where the error is: `line 3, column 12`, or `column 12` for one line.
    public var location: String { line.map { "line \($0), column \(column)" } ?? "column \(column)" }

    public var description: String { "\(message) (\(location))" }

    /// The same error located in a multi-line document whose bytes the column counted from the start.
    func located(in bytes: UnsafePointer<UInt8>, count: Int) -> JSONError {
        let offset = min(max(column - 1, 0), count)
        var line = 1
        var lineStart = 0
        for index in 0..<offset where bytes[index] == UInt8(ascii: "\n") {
            line += 1
            lineStart = index + 1
        }
        return JSONError(kind: kind, line: line, column: offset - lineStart + 1, key: key, message: message)
    }
}
