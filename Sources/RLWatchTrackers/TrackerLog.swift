import Foundation

/// The local log of an experiment tracker — a W&B transaction log, an MLflow store, a Trackio database — read
/// incrementally: each read returns what the tracker added since the previous one.
///
/// A log is a small state machine owned by one watch source and read from one task at a time. Its position is
/// an opaque JSON string, stored with the steps it covers, so a restarted watch resumes exactly there. A log
/// follows one run: the newest the tracker holds; when a newer run appears it switches to it (``TrackerRead/switched``).
public protocol TrackerLog: AnyObject {
    /// The position after the last read, as JSON.
    var position: String { get }

    /// Continues after a stored position.
    ///
    /// - Throws: when the position cannot be read (the caller reads from the start).
    func resume(from position: String) throws

    /// Reads what was added since the last read.
    ///
    /// - Parameters:
    ///   - limit: the most rows to return (more: ``TrackerRead/hasMore``).
    ///   - final: the log is finished: rows held back until more arrive are returned now.
    ///   - strict: a corrupt record is the read's ``TrackerRead/failure`` instead of a note.
    /// - Throws: ``TrackerError`` when the log cannot be read at all.
    func read(limit: Int, final: Bool, strict: Bool) throws(TrackerError) -> TrackerRead
}

/// One logged row: a step's values (or some of them) under the keys the trainer logged.
public struct TrackerRow: Sendable, Hashable {
    public var step: Int
    /// Seconds since 1970 when the row was logged (0 when the tracker does not say).
    public var wallTime: Double
    public var values: [String: Double]

    public init(step: Int, wallTime: Double, values: [String: Double]) {
        self.step = step
        self.wallTime = wallTime
        self.values = values
    }
}

/// How a tracked run ended, as the tracker recorded it.
public enum TrackerRunEnd: Sendable, Hashable {
    /// It finished normally: what says so.
    case finished(String)
    /// It crashed, failed or was killed: the exit code when known, and what says so.
    case crashed(exitCode: Int?, String)
}

/// What one ``TrackerLog/read(limit:final:strict:)`` found.
public struct TrackerRead: Sendable {
    /// The new rows, in log order.
    public var rows: [TrackerRow] = []
    /// Whether each row holds a whole step (W&B's history rows), so none waits for the next row to complete it.
    public var rowsAreSteps = false
    /// The log switched to another run (or another file): rows from here on are a new segment.
    public var switched = false
    /// Progress to tell the user: which run is followed.
    public var infos: [String] = []
    /// What was skipped: a corrupt record, naming the file and offset.
    public var warnings: [String] = []
    /// A corrupt record under `strict`.
    public var failure: String?
    /// The run ended (said once every row before it was returned).
    public var end: TrackerRunEnd?
    /// More rows can be read right away.
    public var hasMore = false

    public init() {}
}

/// A tracker log that cannot be read at all: the path and why.
public struct TrackerError: Error, Sendable, Hashable, CustomStringConvertible {
    public let path: String
    public let message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}

/// A logged value as a number: JSON numbers, and the spellings of non-finite values trackers write (`NaN`,
/// `Infinity`, `-Infinity`, `nan`, `inf`, quoted or not); nil for anything else (text, media, objects).
func trackerNumber(_ text: Substring) -> Double? {
    var text = text
    if text.first == "\"", text.last == "\"", text.count >= 2 { text = text.dropFirst().dropLast() }
    if let value = Double(text) { return value }
    switch text.lowercased() {
    case "nan": return .nan
    case "infinity", "+infinity", "inf": return .infinity
    case "-infinity", "-inf": return -.infinity
    default: return nil
    }
}
