/// A TRL / Hugging Face `trainer_state.json` that could not be read, or an entry of its `log_history`
/// that was rejected.
///
/// Its description reads `FILE: log_history[INDEX] (step N): message` for a bad entry (the index is
/// 0-based, as in the JSON array; the step is given when the entry has one) and `FILE: message` for the
/// document as a whole.
public struct TrainerStateError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Code: Sendable, Hashable {
        case cannotOpen
        case invalidJSON
        case notTrainerState
        case badEntry
    }

    private let code: Code
    /// The file's path as given, or `<stdin>`.
    public let file: String
    /// The 0-based index in `log_history` of the rejected entry; `nil` for an error of the whole document.
    public let entryIndex: Int?
    /// The rejected entry's step, when it has a valid one.
    public let step: Int?
    /// What went wrong, without the file and entry.
    public let message: String

    private init(code: Code, file: String, entryIndex: Int? = nil, step: Int? = nil, message: String) {
        self.code = code
        self.file = file
        self.entryIndex = entryIndex
        self.step = step
        self.message = message
    }

    static func cannotOpen(_ file: String, reason: String) -> TrainerStateError {
        TrainerStateError(code: .cannotOpen, file: file, message: "cannot open: \(reason)")
    }

    static func invalidJSON(_ file: String, reason: String) -> TrainerStateError {
        TrainerStateError(code: .invalidJSON, file: file, message: "not valid JSON: \(reason)")
    }

    static func notTrainerState(_ file: String, _ message: String) -> TrainerStateError {
        TrainerStateError(code: .notTrainerState, file: file, message: message)
    }

    static func badEntry(_ file: String, index: Int, step: Int?, _ message: String) -> TrainerStateError {
        TrainerStateError(code: .badEntry, file: file, entryIndex: index, step: step, message: message)
    }

    /// Whether the file could not be opened or read.
    public var isCannotOpen: Bool { code == .cannotOpen }

    /// Whether the document is JSON but not a trainer state (no `log_history` array).
    public var isNotTrainerState: Bool { code == .notTrainerState }

    public var description: String {
        guard let entryIndex else { return "\(file): \(message)" }
        let stepNote = step.map { " (step \($0))" } ?? ""
        return "\(file): log_history[\(entryIndex)]\(stepNote): \(message)"
    }
}
