import Foundation
import RLWatchCore

/// Reads the `trainer_state.json` that TRL and the Hugging Face `Trainer` write next to each checkpoint,
/// and hands the training steps of its `log_history` to a closure.
///
/// The document is one JSON object, not a stream, so it is read whole with the shared ``JSONReader`` in its
/// Python-lenient mode: bare `NaN`, `Infinity` and `-Infinity` (Python's `json.dump` writes them for a NaN
/// loss or grad norm) are accepted, as are strings spelling a non-finite number.
///
/// Each `log_history` entry must be an object with an integer `step` (a float with an integral value is
/// accepted); its numeric keys are mapped exactly as a metrics JSONL line's are, by ``FrameworkKeyMap``.
/// Entries that are not training logs are skipped: the end-of-training summary (`train_runtime`,
/// `train_loss`, `total_flos`, …), and evaluation or prediction entries whose keys all start with
/// `eval_` or `test_`. `null` means "not logged"; a mapped key whose value is not a number is an error,
/// other non-numeric values are ignored.
public struct TrainerStateReader: Sendable {
    /// What a read went through.
    public struct Summary: Sendable, Hashable {
        /// Entries in `log_history`.
        public var entries = 0
        /// Steps delivered.
        public var steps = 0
        /// Entries skipped as not training logs (summary, evaluation).
        public var skippedEntries = 0

        public init() {}
    }

    /// The file name TRL and the Hugging Face `Trainer` give the document.
    public static let fileName = "trainer_state.json"

    /// The keys of the Hugging Face `Trainer`'s end-of-training summary (TRL logs it once, after the last step):
    /// seeing one means training ended normally.
    public static let endOfTrainingKeys: Set<String> = [
        "train_runtime", "train_samples_per_second", "train_steps_per_second", "total_flos", "train_loss",
    ]

    /// Keys that a training log entry may carry without being one: the summary's and the bookkeeping's.
    static let nonTrainingKeys: Set<String> = [
        "epoch", "total_flos", "train_runtime", "train_samples_per_second", "train_steps_per_second", "train_loss",
    ]

    /// The path read; `-` for standard input.
    public let path: String
    /// How errors name the input: its path, or `<stdin>`.
    public let name: String
    /// How logged keys become metrics: the built-in aliases plus a user's `metrics.keys`.
    public let keyMap: MetricKeyMap

    /// A reader of the document at `path`, or of standard input when `path` is `-`.
    ///
    /// - Parameter keyMap: How logged keys become metrics (the built-in aliases by default).
    public init(path: String, keyMap: MetricKeyMap = .builtIn) {
        self.path = path
        name = path == MetricsJSONLReader.standardInputPath ? MetricsJSONLReader.standardInputName : path
        self.keyMap = keyMap
    }

    /// Whether the file at `path` looks like a trainer state: it is named `trainer_state.json` (or ends
    /// so, as in `run1.trainer_state.json`), or it is a `.json` file whose top level is an object with a
    /// `log_history`.
    ///
    /// Never throws: a file that cannot be read or parsed is "not a trainer state", and the JSONL reader
    /// then reports what is wrong with it.
    public static func isTrainerState(path: String) -> Bool {
        if path.hasSuffix(fileName) { return true }
        guard path.hasSuffix(".json"), let data = FileManager.default.contents(atPath: path),
            let root = try? JSONReader.parse([UInt8](data), mode: .pythonLenient)
        else { return false }
        return root["log_history"] != nil
    }

    /// The document's `global_step` and `max_steps`, when it records both as integers: a document whose global
    /// step reached its max steps was written at the end of training.
    ///
    /// - Throws: ``TrainerStateError`` for a document that cannot be read or parsed.
    public func progress() throws(TrainerStateError) -> (globalStep: Int, maxSteps: Int)? {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .cannotOpen(name, reason: "the file could not be read")
        }
        let root = try parse(data)
        guard let global = root["global_step"].flatMap(Self.integer), let maximum = root["max_steps"].flatMap(Self.integer)
        else { return nil }
        return (global, maximum)
    }

    /// Calls `body` with every training step of the document, in `log_history` order.
    ///
    /// - Parameters:
    ///   - firstEntry: Called once, before its step, with every numeric value of the first training entry
    ///     under its logged key (for example to tell the user which key feeds which metric).
    ///   - body: Called with each step; an error it throws ends the read.
    /// - Returns: How many entries there were, steps delivered and entries skipped.
    /// - Throws: ``TrainerStateError`` for a document that cannot be read or is malformed, naming the
    ///   entry at fault; or what `body` throws. The whole document is checked before any step is delivered.
    @discardableResult
    public func forEachStep(
        firstEntry: (RawMetricsLine) -> Void = { _ in }, _ body: (MetricStep) throws -> Void
    ) throws -> Summary {
        var summary = Summary()
        let lines = try trainingEntries(summary: &summary)
        if let first = lines.first { firstEntry(first) }
        for line in lines {
            try body(keyMap.makeStep(step: line.step, values: line.values, rewards: line.rewards))
            summary.steps += 1
        }
        return summary
    }

    /// The training entries of the document, each with every numeric value under its logged key.
    ///
    /// - Throws: ``TrainerStateError``.
    public func trainingEntries() throws(TrainerStateError) -> [RawMetricsLine] {
        var summary = Summary()
        return try trainingEntries(summary: &summary)
    }

    private func trainingEntries(summary: inout Summary) throws(TrainerStateError) -> [RawMetricsLine] {
        let history = try logHistory()
        summary.entries = history.count
        var lines: [RawMetricsLine] = []
        lines.reserveCapacity(history.count)
        for (index, element) in history.enumerated() {
            guard let line = try entry(element, index: index) else {
                summary.skippedEntries += 1
                continue
            }
            lines.append(line)
        }
        return lines
    }

    /// The document, or the error naming the line and column where it stops being JSON.
    private func parse(_ data: Data) throws(TrainerStateError) -> JSONValue {
        do throws(JSONError) {
            return try JSONReader.parse([UInt8](data), mode: .pythonLenient)
        } catch {
            throw .invalidJSON(name, reason: error.description)
        }
    }

    private func logHistory() throws(TrainerStateError) -> [JSONValue] {
        let data: Data
        if path == MetricsJSONLReader.standardInputPath {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw .cannotOpen(name, reason: "No such file or directory")
            }
            guard !isDirectory.boolValue else { throw .cannotOpen(name, reason: "Is a directory") }
            guard let contents = FileManager.default.contents(atPath: path) else {
                throw .cannotOpen(name, reason: "the file could not be read")
            }
            data = contents
        }
        let root = try parse(data)
        guard case .object = root else {
            throw .notTrainerState(name, "the top level is not a JSON object (a trainer_state.json is one)")
        }
        guard let history = root["log_history"] else {
            throw .notTrainerState(
                name, "no \"log_history\" key: not a trainer_state.json (use --input-format jsonl for metrics JSONL)")
        }
        guard case .array(let entries) = history else {
            throw .notTrainerState(name, "\"log_history\" is not an array")
        }
        return entries
    }

    /// One `log_history` entry as a raw metrics line, or nil for an entry that is not a training log.
    private func entry(_ element: JSONValue, index: Int) throws(TrainerStateError) -> RawMetricsLine? {
        guard case .object(let members) = element else {
            throw .badEntry(name, index: index, step: nil, "expected an object, got \(element.typeDescription)")
        }
        guard let rawStep = element["step"], rawStep != .null else {
            throw .badEntry(name, index: index, step: nil, "no \"step\" (every log_history entry has one)")
        }
        guard let step = Self.integer(rawStep) else {
            throw .badEntry(
                name, index: index, step: nil,
                "\"step\" must be an integer, got \(rawStep.typeDescription) \(rawStep.serialized())")
        }
        var values: [String: Double] = [:]
        var isTraining = false
        for (key, value) in members where key != "step" {
            if value == .null { continue }
            guard let number = value.number else {
                if keyMap.binding(forKey: key) != nil {
                    throw .badEntry(
                        name, index: index, step: step, "expected a number for \"\(key)\", got \(value.typeDescription)")
                }
                continue
            }
            values[key] = number
            if !Self.nonTrainingKeys.contains(key), !key.hasPrefix("eval_"), !key.hasPrefix("test_") {
                isTraining = true
            }
        }
        return isTraining ? RawMetricsLine(step: step, values: values) : nil
    }

    /// An integer, or a float with an integral value in `Int`'s range.
    private static func integer(_ value: JSONValue) -> Int? {
        switch value {
        case .int(let int): return int
        case .double(let double) where double.isFinite && double == double.rounded() && abs(double) < 9.2e18:
            return Int(double)
        default: return nil
        }
    }

    /// A string spelling a non-finite number as Python's `float()` reads it (`nan`, `-inf`, `Infinity`, …).
    static func nonFinite(_ text: String) -> Double? { JSONValue.string(text).number }
}
