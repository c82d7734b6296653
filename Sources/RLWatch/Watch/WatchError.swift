/// Why a watch could not start or had to stop.
///
/// The description is one line a user can act on, naming the file (and line) or the run at fault.
public struct WatchError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Code: Sendable, Hashable {
        case badInput
        case cannotWatch
        case runHasOtherSteps
    }

    private let code: Code
    public let description: String

    private init(_ code: Code, _ description: String) {
        self.code = code
        self.description = description
    }

    /// Malformed input that stops the watch: a bad line under `--strict` (`FILE:LINE: message`), or a
    /// `trainer_state.json` that does not parse when the log is finished.
    public static func badInput(_ description: String) -> WatchError { WatchError(.badInput, description) }

    /// A path that cannot be watched: missing, unreadable, or of a format that cannot be told.
    public static func cannotWatch(_ path: String, _ reason: String) -> WatchError {
        WatchError(.cannotWatch, "\(path): \(reason)")
    }

    /// The run already holds steps that no watch of these paths stored: watching would mix them.
    public static func runHasOtherSteps(runID: String, steps: Int) -> WatchError {
        WatchError(
            .runHasOtherSteps,
            "run \(runID) already has \(steps) stored step\(steps == 1 ? "" : "s") that no watch of these paths "
                + "wrote; watching would mix them in. Choose another --run-id.")
    }
}
