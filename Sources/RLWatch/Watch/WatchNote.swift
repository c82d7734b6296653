/// A line a watch tells the user, on standard error.
public struct WatchNote: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// Progress: the run resumed, a file appeared.
        case info
        /// Something was skipped or read again: a malformed line, a truncated or replaced file.
        case warning
        /// Which logged key feeds which metric, and which detectors get no input.
        case explanation
    }

    public var kind: Kind
    public var text: String

    public init(_ kind: Kind, _ text: String) {
        self.kind = kind
        self.text = text
    }

    /// `warning: …` for a warning, `rlwatch watch: …` for progress, the text itself for an explanation.
    public var description: String {
        switch kind {
        case .info: "rlwatch watch: \(text)"
        case .warning: "warning: \(text)"
        case .explanation: text
        }
    }
}
