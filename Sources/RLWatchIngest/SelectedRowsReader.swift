import Foundation
import RLWatchCore

/// Which rows of a raw log make up one run, and where each row keeps its step number.
///
/// Real logs are not always one run of `{"step": …}` lines: several runs appended to one file (the step
/// restarts at 1), typed rows (`{"type": "rollout" | "train" | "eval", …}`) of which only some are training
/// steps, a step counter under another name (`optimizer_step`, `global_step`), CSV exports with an aborted run
/// in front. A selection says which rows to read without editing the file.
public struct RowSelection: Sendable, Hashable {
    /// A value a row's key must equal to be read: a string, or a number (compared as a `Double`).
    public enum Match: Sendable, Hashable, CustomStringConvertible {
        case string(String)
        case number(Double)

        public var description: String {
            switch self {
            case .string(let text): "\"\(text)\""
            case .number(let value): formatNumber(value)
            }
        }
    }

    /// The 1-based, inclusive range of file lines to read (a CSV's header line is read whatever the range).
    public var lines: ClosedRange<Int>?
    /// Key → value every read row must carry.
    public var matches: [String: Match]
    /// The key holding the row's step number.
    public var stepKey: String

    public init(lines: ClosedRange<Int>? = nil, matches: [String: Match] = [:], stepKey: String = "step") {
        self.lines = lines
        self.matches = matches
        self.stepKey = stepKey
    }

    /// Reads every row: the whole file, step under `step`.
    public static let all = RowSelection()

    /// Whether the selection is anything but ``all``.
    public var isRestrictive: Bool { self != .all }
}

/// An error reading a log through a ``RowSelection``, naming the file and line at fault.
public struct SelectedRowsError: Error, Sendable, Hashable, CustomStringConvertible {
    public let file: String
    public let line: Int?
    public let message: String

    public var description: String {
        if let line { return "\(file):\(line): \(message)" }
        return "\(file): \(message)"
    }
}

/// Reads the rows of a JSONL or CSV log that a ``RowSelection`` picks, as metric steps.
///
/// The general-purpose companion of ``MetricsJSONLReader`` (which is the fast path for `{"step": …}` lines):
/// it parses each line with Foundation, so it reads any JSON object — numbers at top level or one level down
/// (`data`, `metrics`, `extras`, or any other object), strings spelling `NaN`/`Infinity`, bare `NaN` tokens —
/// and CSV files with a header row. Consecutive rows with the same step number are merged into one step
/// (later values win), as trainers that log a step's metrics in several calls produce them.
public struct SelectedRowsReader: Sendable {
    public enum Format: String, Sendable, CaseIterable { case jsonl, csv }

    public let path: String
    public let format: Format
    public let selection: RowSelection
    public let keyMap: MetricKeyMap

    public init(path: String, format: Format, selection: RowSelection = .all, keyMap: MetricKeyMap = .builtIn) {
        self.path = path
        self.format = format
        self.selection = selection
        self.keyMap = keyMap
    }

    /// Every selected step, in file order.
    ///
    /// - Throws: ``SelectedRowsError`` for an unreadable file, a malformed line or a selected row without a
    ///   step number.
    public func steps() throws -> [MetricStep] {
        try lines().map { keyMap.makeStep(step: $0.step, values: $0.values, rewards: $0.rewards) }
    }

    /// Every selected step as logged: its number and its numeric values under their own keys.
    ///
    /// - Throws: ``SelectedRowsError``, as ``steps()``.
    public func lines() throws -> [RawMetricsLine] {
        var lines: [RawMetricsLine] = []
        try forEachLine { lines.append($0) }
        return lines
    }

    /// Calls `body` with every selected step as logged, in file order.
    ///
    /// A malformed line, a selected row without a step number, or a value of a key that feeds a metric that is not
    /// a number stops the read with a ``SelectedRowsError`` naming the file, line and key — after every step before
    /// it has been delivered, so a replay keeps what it had already accepted.
    public func forEachLine(_ body: (RawMetricsLine) throws -> Void) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SelectedRowsError(file: path, line: nil, message: "cannot read the file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw SelectedRowsError(file: path, line: nil, message: "not UTF-8 text")
        }
        var failure: SelectedRowsError?
        let rows: [(line: Int, row: [String: JSONValue])]
        // A CSV header may name the step otherwise (`_step`, `global_step`, W&B's `Step`): its header says.
        var stepKey = selection.stepKey
        switch format {
        case .jsonl: rows = jsonlRows(text, failure: &failure)
        case .csv: rows = csvRows(text, stepKey: &stepKey, failure: &failure)
        }
        var pending: RawMetricsLine?
        func deliverPending() throws {
            if let current = pending { try body(current) }
            pending = nil
        }
        for (line, row) in rows where selects(row) {
            guard let step = Self.integer(row[stepKey]) else {
                try deliverPending()
                throw SelectedRowsError(
                    file: path, line: line, message: "no integer \"\(stepKey)\" in a selected row")
            }
            if let (key, text) = Self.nonNumericMetric(row, skipping: stepKey, keyMap: keyMap) {
                try deliverPending()
                throw SelectedRowsError(file: path, line: line, message: "\"\(key)\": expected a number, got \"\(text)\"")
            }
            var values: [String: Double] = [:]
            var rewards: [Double]?
            Self.collect(row, into: &values, rewards: &rewards, skipping: stepKey)
            if var current = pending, current.step == step {
                current.values.merge(values) { _, new in new }
                current.rewards = rewards ?? current.rewards
                pending = current
                continue
            }
            try deliverPending()
            pending = RawMetricsLine(step: step, values: values, rewards: rewards)
        }
        try deliverPending()
        if let failure { throw failure }
    }

    private func selects(_ row: [String: JSONValue]) -> Bool {
        for (key, match) in selection.matches {
            guard let value = row[key] else { return false }
            switch match {
            case .string(let text):
                guard value == .string(text) || Self.number(value).map(formatNumber) == text else { return false }
            case .number(let expected):
                guard let number = Self.number(value), number == expected else { return false }
            }
        }
        return true
    }

    private func inRange(_ line: Int) -> Bool {
        guard let range = selection.lines else { return true }
        return range.contains(line)
    }

    private func jsonlRows(_ text: String, failure: inout SelectedRowsError?) -> [(line: Int, row: [String: JSONValue])] {
        var rows: [(line: Int, row: [String: JSONValue])] = []
        var number = 0
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            number += 1
            guard inRange(number) else { continue }
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let object: JSONValue
            do throws(JSONError) {
                object = try JSONReader.parse(line, mode: .pythonLenient)
            } catch {
                failure = SelectedRowsError(file: path, line: number, message: "not a JSON object: \(error)")
                return rows
            }
            guard case .object(let members) = object else {
                failure = SelectedRowsError(file: path, line: number, message: "not a JSON object")
                return rows
            }
            rows.append((number, Dictionary(members, uniquingKeysWith: { $1 })))
        }
        return rows
    }

    private func csvRows(_ text: String, stepKey: inout String, failure: inout SelectedRowsError?)
        -> [(line: Int, row: [String: JSONValue])]
    {
        var rows: [(line: Int, row: [String: JSONValue])] = []
        var header: CSVHeader?
        var number = 0
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            number += 1
            var line = String(rawLine)
            if line.hasSuffix("\r") { line.removeLast() }
            if number == 1, line.hasPrefix("\u{FEFF}") { line.removeFirst() }
            if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            let cells: [String]
            do {
                cells = try Self.csvCells(line, file: path, line: number)
            } catch {
                failure = error
                return rows
            }
            guard let names = header else {
                let read = CSVHeader(cells: cells, stepKey: stepKey)
                stepKey = read.stepKey
                header = read
                continue
            }
            guard inRange(number) else { continue }
            do {
                rows.append((number, try names.row(cells, file: path, line: number)))
            } catch {
                failure = error
                return rows
            }
        }
        return rows
    }

    /// The cells of one CSV line: commas separate, double quotes enclose, `""` inside quotes is a quote.
    static func csvCells(_ line: String, file: String, line number: Int) throws(SelectedRowsError) -> [String] {
        var cells: [String] = []
        var cell = ""
        var quoted = false
        var iterator = line.makeIterator()
        while let character = iterator.next() {
            if quoted {
                if character == "\"" {
                    var lookahead = iterator
                    if lookahead.next() == "\"" {
                        cell.append("\"")
                        iterator = lookahead
                    } else {
                        quoted = false
                    }
                } else {
                    cell.append(character)
                }
            } else if character == "\"" {
                quoted = true
            } else if character == "," {
                cells.append(cell.trimmingCharacters(in: .whitespaces))
                cell = ""
            } else {
                cell.append(character)
            }
        }
        guard !quoted else { throw SelectedRowsError(file: file, line: number, message: "unterminated quote") }
        cells.append(cell.trimmingCharacters(in: .whitespaces))
        return cells
    }

    /// Numeric values at the top level and one object down, by key; `rewards` when it is an array of numbers.
    static func collect(
        _ row: [String: JSONValue], into values: inout [String: Double], rewards: inout [Double]?, skipping stepKey: String
    ) {
        for (key, value) in row where key != stepKey {
            switch value {
            case .array(let items) where key == "rewards": rewards = items.compactMap(number)
            case .object(let nested):
                for (inner, innerValue) in nested {
                    if let number = number(innerValue) { values[inner] = number }
                }
            default:
                if let number = number(value) { values[key] = number }
            }
        }
    }

    /// A key that feeds a metric whose value is text that is not a number's spelling (`"NaN"`, `"inf"`…), and
    /// that text: the row cannot be read.
    static func nonNumericMetric(_ row: [String: JSONValue], skipping stepKey: String, keyMap: MetricKeyMap)
        -> (key: String, text: String)?
    {
        for (key, value) in row where key != stepKey {
            if case .string(let text) = value, TrainerStateReader.nonFinite(text) == nil, keyMap.binding(forKey: key) != nil {
                return (key, text)
            }
        }
        return nil
    }

    /// A number, or a non-finite number's spelling (`"NaN"`, `"Infinity"`…); booleans and null are no metric.
    private static func number(_ value: JSONValue) -> Double? {
        switch value {
        case .int(let int): Double(int)
        case .double(let double): double
        case .string(let text): TrainerStateReader.nonFinite(text)
        case .null, .bool, .array, .object: nil
        }
    }

    /// A whole number, written as a number or as text (`"12"`, `"12.0"`).
    static func integer(_ value: JSONValue?) -> Int? {
        guard let value else { return nil }
        var number = number(value)
        if number == nil, case .string(let text) = value { number = Double(text) }
        guard let number, number.isFinite, number == number.rounded(), abs(number) < 9.2e18 else { return nil }
        return Int(number)
    }
}
