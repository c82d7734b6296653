import Foundation
import RLWatchCore

/// Reads the `trainer_state.json` that TRL and the Hugging Face `Trainer` write next to each checkpoint,
/// and hands the training steps of its `log_history` to a closure.
///
/// The document is one JSON object, not a stream, so it is read whole with Foundation's parser. Bare
/// `NaN`, `Infinity` and `-Infinity` (Python's `json.dump` writes them for a NaN loss or grad norm) are
/// accepted outside strings, as are strings spelling a non-finite number.
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
            let object = try? JSONSerialization.jsonObject(with: acceptingNonFiniteTokens(data)) as? [String: Any]
        else { return false }
        return object["log_history"] != nil
    }

    /// The document's `global_step` and `max_steps`, when it records both as integers: a document whose global
    /// step reached its max steps was written at the end of training.
    ///
    /// - Throws: ``TrainerStateError`` for a document that cannot be read or parsed.
    public func progress() throws(TrainerStateError) -> (globalStep: Int, maxSteps: Int)? {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .cannotOpen(name, reason: "the file could not be read")
        }
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: Self.acceptingNonFiniteTokens(data))
        } catch {
            throw .invalidJSON(name, reason: Self.reason(error))
        }
        guard let object = root as? [String: Any], let global = (object["global_step"] as? NSNumber)?.intValue,
            let maximum = (object["max_steps"] as? NSNumber)?.intValue
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

    private func logHistory() throws(TrainerStateError) -> [Any] {
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
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: Self.acceptingNonFiniteTokens(data))
        } catch {
            throw .invalidJSON(name, reason: Self.reason(error))
        }
        guard let object = root as? [String: Any] else {
            throw .notTrainerState(name, "the top level is not a JSON object (a trainer_state.json is one)")
        }
        guard let history = object["log_history"] else {
            throw .notTrainerState(
                name, "no \"log_history\" key: not a trainer_state.json (use --input-format jsonl for metrics JSONL)")
        }
        guard let entries = history as? [Any] else {
            throw .notTrainerState(name, "\"log_history\" is not an array")
        }
        return entries
    }

    /// One `log_history` entry as a raw metrics line, or nil for an entry that is not a training log.
    private func entry(_ element: Any, index: Int) throws(TrainerStateError) -> RawMetricsLine? {
        guard let entry = element as? [String: Any] else {
            throw .badEntry(name, index: index, step: nil, "expected an object, got \(Self.typeName(element))")
        }
        guard let rawStep = entry["step"], !(rawStep is NSNull) else {
            throw .badEntry(name, index: index, step: nil, "no \"step\" (every log_history entry has one)")
        }
        guard let number = rawStep as? NSNumber, let step = Self.integer(Self.double(number)) else {
            throw .badEntry(
                name, index: index, step: nil,
                "\"step\" must be an integer, got \(Self.typeName(rawStep)) \(String(describing: rawStep))")
        }
        var values: [String: Double] = [:]
        var isTraining = false
        for (key, value) in entry where key != "step" {
            let number: Double
            if value is NSNull {
                continue
            } else if let numeric = value as? NSNumber {
                number = Self.double(numeric)
            } else if let text = value as? String, let nonFinite = Self.nonFinite(text) {
                number = nonFinite
            } else if keyMap.binding(forKey: key) != nil {
                throw .badEntry(
                    name, index: index, step: step, "expected a number for \"\(key)\", got \(Self.typeName(value))")
            } else {
                continue
            }
            values[key] = number
            if !Self.nonTrainingKeys.contains(key), !key.hasPrefix("eval_"), !key.hasPrefix("test_") {
                isTraining = true
            }
        }
        return isTraining ? RawMetricsLine(step: step, values: values) : nil
    }

    /// The number's value, correctly rounded: Foundation on Linux hands fractions over as
    /// `NSDecimalNumber`, whose `doubleValue` can be off by an ulp, while its text is the logged digits.
    static func double(_ number: NSNumber) -> Double {
        if number is NSDecimalNumber, let exact = Double(number.description) { return exact }
        return number.doubleValue
    }

    private static func integer(_ value: Double) -> Int? {
        guard value.isFinite, value == value.rounded(), abs(value) < 9.2e18 else { return nil }
        return Int(value)
    }

    /// A string spelling a non-finite number as Python's `float()` reads it.
    static func nonFinite(_ text: String) -> Double? {
        switch text.lowercased() {
        case "nan", "+nan", "-nan": .nan
        case "inf", "+inf", "infinity", "+infinity": .infinity
        case "-inf", "-infinity": -.infinity
        default: nil
        }
    }

    private static func typeName(_ value: Any) -> String {
        switch value {
        case is String: "a string"
        case is [Any]: "an array"
        case is [String: Any]: "an object"
        case is NSNull: "null"
        case is NSNumber: "a number"
        default: "\(type(of: value))"
        }
    }

    private static func reason(_ error: any Error) -> String {
        let nsError = error as NSError
        if let detail = nsError.userInfo[NSDebugDescriptionErrorKey] as? String { return detail }
        return nsError.localizedDescription
    }

    /// The document with bare `NaN`, `Infinity` and `-Infinity` outside strings turned into strings, so that
    /// Foundation's strict parser accepts what Python's `json.dump` writes.
    public static func acceptingNonFiniteTokens(_ data: Data) -> Data {
        let bytes = [UInt8](data)
        // Fast path: no N or I outside strings is the common case, but checking needs the same scan,
        // so only skip the copy when neither letter occurs at all.
        guard bytes.contains(UInt8(ascii: "N")) || bytes.contains(UInt8(ascii: "I")) else { return data }
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count + 64)
        var inString = false
        var escaped = false
        var index = 0
        let nan = Array("NaN".utf8)
        let infinity = Array("Infinity".utf8)
        func matches(_ token: [UInt8], at offset: Int) -> Bool {
            offset + token.count <= bytes.count && Array(bytes[offset..<offset + token.count]) == token
        }
        while index < bytes.count {
            let byte = bytes[index]
            if inString {
                output.append(byte)
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                index += 1
                continue
            }
            if byte == UInt8(ascii: "\"") {
                inString = true
            } else if byte == UInt8(ascii: "N"), matches(nan, at: index) {
                output.append(contentsOf: Array("\"NaN\"".utf8))
                index += nan.count
                continue
            } else if byte == UInt8(ascii: "I"), matches(infinity, at: index) {
                output.append(contentsOf: Array("\"Infinity\"".utf8))
                index += infinity.count
                continue
            } else if byte == UInt8(ascii: "-"), matches(infinity, at: index + 1) {
                output.append(contentsOf: Array("\"-Infinity\"".utf8))
                index += 1 + infinity.count
                continue
            }
            output.append(byte)
            index += 1
        }
        return Data(output)
    }
}
