import RLWatchCore

/// Parses lines of a metrics JSONL log, one JSON object per line, into ``MetricStep``s.
///
/// The format is what trainers and rlwatch's clients write:
/// - `"step"`: an integer (a float with an integral value such as `5.0` is accepted), required;
/// - metric keys at the top level, or inside a `"metrics"` object, or inside veRL's file-logger `"data"`
///   object; canonical names and framework aliases are resolved by ``FrameworkKeyMap``; `null` or a missing
///   key means the metric was not logged this step;
/// - numbers per JSON, plus the bare tokens `NaN`, `Infinity`, `-Infinity` that Python's `json.dumps`
///   writes, and strings spelling a non-finite number as Python's `float()` reads it (`"NaN"`, `"inf"`,
///   `"-Infinity"`, any case);
/// - `"rewards"`: an array of numbers, the step's per-sample rewards;
/// - `"extras"`: an object whose numeric members go into ``MetricStep/extras`` under their own names, no alias
///   resolved (rlwatch's own metrics export writes what is not a canonical metric there, so replaying an
///   export gives the detectors that read extras what they had live);
/// - every other numeric key goes into ``MetricStep/extras``; other values of unmapped keys are ignored, but
///   a metric key (or `rewards`) with a value of the wrong type is an error.
///
/// Parsing is the shared ``JSONReader`` in its Python-lenient mode (strict RFC 8259 apart from those tokens),
/// and costs about a microsecond for a line of fifteen metrics: it scans the bytes once, matches keys by their
/// bytes without making strings, and converts numbers with the standard library. Keep one
/// parser for a whole log: it learns the keys of the extras (their strings are made once, not once per
/// line) and reuses the extras dictionary of a recent line with the same keys instead of hashing them all.
public struct MetricsLineParser: Sendable {
    private var keys: KeyTable
    /// The extras of the line being parsed; kept between lines so that its storage is reused.
    private var pendingExtras: [PendingExtra] = []
    private var extrasTemplates = ExtrasTemplates()

    /// A parser that resolves keys with `keyMap` (the built-in aliases by default).
    ///
    /// - Parameter keyMap: The aliases plus a user's `metrics.keys`; it costs nothing per line.
    public init(keyMap: MetricKeyMap = .builtIn) {
        keys = KeyTable(keyMap: keyMap)
    }

    /// Parses one line.
    ///
    /// - Parameter line: The line's UTF-8 bytes, without its line terminator.
    /// - Returns: The step the line describes.
    /// - Throws: ``MetricsLineError``, naming the column and the key at fault.
    public mutating func parse(_ line: UnsafeRawBufferPointer) throws(MetricsLineError) -> MetricStep {
        var sink = StepSink()
        swap(&sink.extras, &pendingExtras)
        sink.extras.removeAll(keepingCapacity: true)
        let stepNumber = try scan(line, into: &sink)
        var step = sink.builder.build(step: stepNumber)
        if !sink.extras.isEmpty {
            step.extras = extrasTemplates.dictionary(for: sink.extras, unlisted: sink.unlistedKeys, keys: keys)
        }
        swap(&sink.extras, &pendingExtras)
        return step
    }

    /// Parses one line.
    ///
    /// - Parameter line: The line, without its line terminator.
    /// - Returns: The step the line describes.
    /// - Throws: ``MetricsLineError``, naming the column and the key at fault.
    public mutating func parse(_ line: String) throws(MetricsLineError) -> MetricStep {
        var text = line
        let result = text.withUTF8 { bytes in
            Result { () throws(MetricsLineError) in try parse(UnsafeRawBufferPointer(bytes)) }
        }
        return try result.get()
    }

    /// Parses one line into its flat key → value map, keeping every numeric value under its logged key.
    ///
    /// No alias is resolved, so another format's reader (or a test) can see exactly what was logged;
    /// ``FrameworkKeyMap/makeStep(step:values:rewards:)`` turns the result into the same ``MetricStep``
    /// that ``parse(_:)-(UnsafeRawBufferPointer)`` returns. Values of mapped keys are type-checked as in
    /// ``parse(_:)-(UnsafeRawBufferPointer)``.
    /// - Parameter line: The line's UTF-8 bytes, without its line terminator.
    /// - Returns: The step number, the values and the rewards of the line.
    /// - Throws: ``MetricsLineError``.
    public mutating func parseRaw(_ line: UnsafeRawBufferPointer) throws(MetricsLineError) -> RawMetricsLine {
        var sink = RawSink()
        let step = try scan(line, into: &sink)
        return RawMetricsLine(step: step, values: sink.values, rewards: sink.rewards)
    }

    /// Parses one line into its flat key → value map; see ``parseRaw(_:)-(UnsafeRawBufferPointer)``.
    public mutating func parseRaw(_ line: String) throws(MetricsLineError) -> RawMetricsLine {
        var text = line
        let result = text.withUTF8 { bytes in
            Result { () throws(MetricsLineError) in try parseRaw(UnsafeRawBufferPointer(bytes)) }
        }
        return try result.get()
    }

    private mutating func scan<Sink: MetricsLineSink>(
        _ line: UnsafeRawBufferPointer, into sink: inout Sink
    ) throws(MetricsLineError) -> Int {
        guard let base = line.baseAddress, line.count > 0 else {
            throw MetricsLineError(kind: .syntax, column: 1, message: "empty line")
        }
        var scanner = JSONReader(bytes: base.assumingMemoryBound(to: UInt8.self), count: line.count, mode: .pythonLenient)
        return try scanner.scanLine(keys: &keys, into: &sink)
    }
}

/// Every numeric value of one metrics line under its logged key.
///
/// See ``MetricsLineParser/parseRaw(_:)-(UnsafeRawBufferPointer)``.
public struct RawMetricsLine: Sendable, Hashable {
    public var step: Int
    /// The numeric values of the line (including those inside `metrics` or `data`), by their logged keys.
    public var values: [String: Double]
    public var rewards: [Double]?

    public init(step: Int, values: [String: Double], rewards: [Double]? = nil) {
        self.step = step
        self.values = values
        self.rewards = rewards
    }

    /// The step these values describe, aliases resolved by ``FrameworkKeyMap``.
    public func metricStep() -> MetricStep {
        FrameworkKeyMap.makeStep(step: step, values: values, rewards: rewards)
    }
}

/// An extra of the line being parsed: its key's table entry (or, negated minus one, its index in the
/// sink's unlisted keys) and its value.
private struct PendingExtra {
    var entry: Int
    var value: Double
}

private struct StepSink: MetricsLineSink {
    var builder = MetricStepBuilder()
    var extras: [PendingExtra] = []
    var unlistedKeys: [String] = []

    @inline(__always)
    mutating func metric(_ binding: FrameworkKeyMap.Binding, key: @autoclosure () -> String, value: Double) {
        builder.add(binding, value: value)
    }

    @inline(__always)
    mutating func extra(entry: Int?, key: @autoclosure () -> String, value: Double) {
        if let entry {
            extras.append(PendingExtra(entry: entry, value: value))
        } else {
            unlistedKeys.append(key())
            extras.append(PendingExtra(entry: -unlistedKeys.count, value: value))
        }
    }

    mutating func rewards(_ values: [Double]) {
        builder.rewards = values
    }
}

/// The extras dictionaries of recent key sets, so that a line with the same extras keys as an earlier
/// one fills a copy of its dictionary by index instead of hashing every key again.
///
/// Logs repeat one key set (or a few, for example train and eval rows) line after line. Hashing a
/// `String` key costs far more than copying a dictionary's storage, and a copy's indices are those of
/// the original, so `values[index] = value` updates it without hashing.
private struct ExtrasTemplates {
    private struct Template {
        var entries: [Int]
        var dictionary: [String: Double]
        var indices: [Dictionary<String, Double>.Index]
    }

    private static let capacity = 4
    private var templates: [Template] = []
    private var nextReplaced = 0

    mutating func dictionary(for extras: [PendingExtra], unlisted: [String], keys: KeyTable) -> [String: Double] {
        if unlisted.isEmpty, let template = templates.first(where: { matches($0, extras) }) {
            var dictionary = template.dictionary
            for (position, extra) in extras.enumerated() {
                dictionary.values[template.indices[position]] = extra.value
            }
            return dictionary
        }
        func key(_ extra: PendingExtra) -> String {
            extra.entry >= 0 ? keys.name(of: extra.entry) : unlisted[-extra.entry - 1]
        }
        var dictionary = Dictionary<String, Double>(minimumCapacity: extras.count)
        for extra in extras {
            dictionary[key(extra)] = extra.value
        }
        if unlisted.isEmpty {
            let indices = extras.compactMap { dictionary.index(forKey: key($0)) }
            if indices.count == extras.count {
                let template = Template(entries: extras.map(\.entry), dictionary: dictionary, indices: indices)
                if templates.count < Self.capacity {
                    templates.append(template)
                } else {
                    templates[nextReplaced] = template
                    nextReplaced = (nextReplaced + 1) % Self.capacity
                }
            }
        }
        return dictionary
    }

    private func matches(_ template: Template, _ extras: [PendingExtra]) -> Bool {
        guard template.entries.count == extras.count else { return false }
        for (entry, extra) in zip(template.entries, extras) where entry != extra.entry {
            return false
        }
        return true
    }
}

private struct RawSink: MetricsLineSink {
    var values: [String: Double] = [:]
    var rewards: [Double]?

    mutating func metric(_ binding: FrameworkKeyMap.Binding, key: @autoclosure () -> String, value: Double) {
        values[key()] = value
    }

    mutating func extra(entry: Int?, key: @autoclosure () -> String, value: Double) {
        values[key()] = value
    }

    mutating func rewards(_ values: [Double]) {
        rewards = values
    }
}
