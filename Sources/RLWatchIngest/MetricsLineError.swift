/// Why one metrics JSONL line was rejected, and where.
///
/// The ``message`` names the key at fault where there is one (`expected a number for "loss", got a
/// string`); ``column`` is the 1-based byte offset in the line of the token that was rejected. Compare
/// ``kind`` to tell errors apart in code.
public struct MetricsLineError: Error, Sendable, Hashable, CustomStringConvertible {
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
        /// A key is not valid UTF-8.
        public static let invalidUTF8 = Kind(.invalidUTF8)
        /// A number does not follow JSON's grammar.
        public static let invalidNumber = Kind(.invalidNumber)
        /// A metric key has a value that is not a number (or `rewards` is not an array of numbers).
        public static let typeMismatch = Kind(.typeMismatch)
        /// The object has no top-level `"step"`.
        public static let missingStep = Kind(.missingStep)
        /// `"step"` is not an integer (or an integral float) in `Int`'s range.
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
    /// The 1-based byte offset in the line of the rejected token.
    public let column: Int
    /// The key whose value was rejected, if the error concerns one.
    public let key: String?
    /// What went wrong, for a user: it names the key at fault where there is one.
    public let message: String

    public init(kind: Kind, column: Int, key: String? = nil, message: String) {
        self.kind = kind
        self.column = column
        self.key = key
        self.message = message
    }

    public var description: String { "\(message) (column \(column))" }
}
