/// Every problem found while reading a configuration, reported together.
///
/// Parsing does not stop at the first bad key: a file with three mistakes fails once, listing all three, so a
/// user fixes them in one round. The description is one line per issue, each starting with the place to edit:
///
/// ```
/// rlwatch.yaml:12:3: kl_explosion.sigma_multiplier must be > 0 (got -1)
/// rlwatch.yaml:14:3: unknown key `warmup_step` in section kl_explosion; did you mean `warmup_steps`?
/// environment variable RLWATCH_SMTP_PORT: alerts.email.smtp_port must be an integer (got "abc", a string)
/// ```
public struct ConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The problems, in the order they were found (file order, then environment, then flags). Never empty.
    public let issues: [ConfigIssue]

    init(issues: [ConfigIssue]) {
        self.issues = issues
    }

    public var description: String {
        issues.map(\.description).joined(separator: "\n")
    }

    /// A configuration file named explicitly (`--config PATH`) does not exist.
    ///
    /// - Parameters:
    ///   - path: the path as the user wrote it.
    ///   - hint: how the path was given, such as `"given with --config"`; appended in parentheses.
    public static func fileNotFound(path: String, hint: String? = nil) -> ConfigError {
        ConfigError(issues: [ConfigIssue(code: .fileNotFound(path: path, hint: hint), source: nil)])
    }

    /// A configuration file exists but could not be read (a directory, no permission, not UTF-8).
    public static func unreadableFile(path: String, reason: String) -> ConfigError {
        ConfigError(issues: [ConfigIssue(code: .unreadableFile(path: path, reason: reason), source: nil)])
    }
}

/// One problem in a configuration: what is wrong, with which key, and where it was written.
public struct ConfigIssue: Sendable, Hashable, CustomStringConvertible {
    /// The category of an issue, for code that reacts to some kinds differently (tests, the HTTP API's status).
    public struct Kind: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case syntax, notAMapping, unknownSection, unknownKey, typeMismatch, outOfRange, invalidChoice
            case reservedKey, fileNotFound, unreadableFile
        }

        private let base: Base

        private init(_ base: Base) { self.base = base }

        /// The YAML itself is malformed (bad indentation, a duplicate key, more than one document).
        public static let syntax = Kind(.syntax)
        /// The file's top level, or a section, is not a mapping of keys.
        public static let notAMapping = Kind(.notAMapping)
        /// A top-level name that is neither a section nor a top-level key.
        public static let unknownSection = Kind(.unknownSection)
        /// A key that its section does not have.
        public static let unknownKey = Kind(.unknownKey)
        /// A value of the wrong type (a float for an integer, a quoted `"true"` for a boolean, …).
        public static let typeMismatch = Kind(.typeMismatch)
        /// A number outside the key's allowed range.
        public static let outOfRange = Kind(.outOfRange)
        /// A string that is not one of the key's allowed values (`framework`, `baseline_mode`, `method`).
        public static let invalidChoice = Kind(.invalidChoice)
        /// A name that cannot be used where it was written (`step` in `metrics.keys`).
        public static let reservedKey = Kind(.reservedKey)
        /// An explicitly named configuration file does not exist.
        public static let fileNotFound = Kind(.fileNotFound)
        /// A configuration file exists but cannot be read.
        public static let unreadableFile = Kind(.unreadableFile)

        public var description: String { base.rawValue }

        fileprivate static func of(_ code: Code) -> Kind {
            switch code {
            case .syntax: .syntax
            case .notAMapping: .notAMapping
            case .unknownSection: .unknownSection
            case .unknownKey: .unknownKey
            case .typeMismatch: .typeMismatch
            case .outOfRange: .outOfRange
            case .invalidChoice: .invalidChoice
            case .reservedKey: .reservedKey
            case .fileNotFound: .fileNotFound
            case .unreadableFile: .unreadableFile
            }
        }
    }

    fileprivate enum Code: Sendable, Hashable {
        case syntax(problem: String)
        /// `key` is nil for the document root.
        case notAMapping(key: String?, got: String)
        case unknownSection(name: String, suggestion: String?, known: [String])
        case unknownKey(name: String, section: String, suggestion: String?, known: [String])
        case typeMismatch(key: String, expected: String, got: String, hint: String?)
        case outOfRange(key: String, constraint: String, got: String)
        case invalidChoice(key: String, allowed: [String], got: String, suggestion: String?)
        case reservedKey(key: String, reason: String)
        case fileNotFound(path: String, hint: String?)
        case unreadableFile(path: String, reason: String)
    }

    private let code: Code

    /// Where the offending value was written: a file position, an environment variable, a flag or an override
    /// label. Nil for problems with a whole file (its path is in the message).
    public let source: ConfigSource?

    fileprivate init(code: Code, source: ConfigSource?) {
        self.code = code
        self.source = source
    }

    public var kind: Kind { .of(code) }

    /// The dotted YAML name of the key at fault (`kl_explosion.sigma_multiplier`), or of the unknown key as written;
    /// nil for problems that concern no single key.
    public var key: String? {
        switch code {
        case .syntax, .fileNotFound, .unreadableFile: nil
        case .notAMapping(let key, _): key
        case .unknownSection(let name, _, _): name
        case .unknownKey(let name, let section, _, _): section.isEmpty ? name : "\(section).\(name)"
        case .typeMismatch(let key, _, _, _), .outOfRange(let key, _, _), .invalidChoice(let key, _, _, _): key
        case .reservedKey(let key, _): key
        }
    }

    /// For unknown keys and invalid choices, the closest known name, if one is close enough to be a likely typo.
    public var suggestion: String? {
        switch code {
        case .unknownSection(_, let suggestion, _), .unknownKey(_, _, let suggestion, _),
            .invalidChoice(_, _, _, let suggestion):
            suggestion
        default: nil
        }
    }

    /// The message without its location prefix.
    public var message: String {
        switch code {
        case .syntax(let problem):
            return "invalid YAML: \(problem)"
        case .notAMapping(nil, let got):
            return "the top level must be a mapping of sections and keys (got \(got))"
        case .notAMapping(let key?, let got):
            return "\(key) must be a mapping of keys, or left empty for the defaults (got \(got))"
        case .unknownSection(let name, let suggestion, let known):
            return "unknown section `\(name)`" + Self.advice(suggestion: suggestion, known: known)
        case .unknownKey(let name, let section, let suggestion, let known):
            return "unknown key `\(name)` in section \(section)" + Self.advice(suggestion: suggestion, known: known)
        case .typeMismatch(let key, let expected, let got, let hint):
            return "\(key) must be \(expected) (got \(got)\(hint.map { "; \($0)" } ?? ""))"
        case .outOfRange(let key, let constraint, let got):
            return "\(key) must be \(constraint) (got \(got))"
        case .invalidChoice(let key, let allowed, let got, let suggestion):
            return "\(key) must be one of \(allowed.joined(separator: ", ")) (got \(got))"
                + (suggestion.map { "; did you mean `\($0)`?" } ?? "")
        case .reservedKey(let key, let reason):
            return "\(key): \(reason)"
        case .fileNotFound(let path, let hint):
            return "config file not found: \(path)" + (hint.map { " (\($0))" } ?? "")
        case .unreadableFile(let path, let reason):
            return "cannot read config file \(path): \(reason)"
        }
    }

    /// `rlwatch.yaml:12:3: kl_explosion.sigma_multiplier must be > 0 (got -1)`.
    public var description: String {
        (source?.issuePrefix ?? "") + message
    }

    private static func advice(suggestion: String?, known: [String]) -> String {
        if let suggestion {
            return "; did you mean `\(suggestion)`?"
        }
        return " (known: \(known.joined(separator: ", ")))"
    }
}

// Factories for the parser; the code enum stays private to this file.
extension ConfigIssue {
    static func syntax(_ problem: String, at source: ConfigSource?) -> ConfigIssue {
        ConfigIssue(code: .syntax(problem: problem), source: source)
    }

    static func notAMapping(key: String?, got: String, at source: ConfigSource?) -> ConfigIssue {
        ConfigIssue(code: .notAMapping(key: key, got: got), source: source)
    }

    static func unknownSection(_ name: String, suggestion: String?, known: [String], at source: ConfigSource?)
        -> ConfigIssue
    {
        ConfigIssue(code: .unknownSection(name: name, suggestion: suggestion, known: known), source: source)
    }

    static func unknownKey(
        _ name: String,
        section: String,
        suggestion: String?,
        known: [String],
        at source: ConfigSource?
    ) -> ConfigIssue {
        ConfigIssue(
            code: .unknownKey(name: name, section: section, suggestion: suggestion, known: known),
            source: source
        )
    }

    static func typeMismatch(key: String, expected: String, got: String, hint: String?, at source: ConfigSource?)
        -> ConfigIssue
    {
        ConfigIssue(code: .typeMismatch(key: key, expected: expected, got: got, hint: hint), source: source)
    }

    static func outOfRange(key: String, constraint: String, got: String, at source: ConfigSource?) -> ConfigIssue {
        ConfigIssue(code: .outOfRange(key: key, constraint: constraint, got: got), source: source)
    }

    static func reservedKey(key: String, reason: String, at source: ConfigSource?) -> ConfigIssue {
        ConfigIssue(code: .reservedKey(key: key, reason: reason), source: source)
    }

    static func invalidChoice(
        key: String,
        allowed: [String],
        got: String,
        suggestion: String?,
        at source: ConfigSource?
    ) -> ConfigIssue {
        ConfigIssue(
            code: .invalidChoice(key: key, allowed: allowed, got: got, suggestion: suggestion),
            source: source
        )
    }
}
