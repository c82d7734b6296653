import Foundation
import RLWatchCore
import RLWatchIngest

/// The source of `rlwatch replay`: finished logs of any format `watch` reads, read to their end into the
/// ``RunPipeline`` (through a ``ReplayFeeder``).
///
/// A log directory and TensorBoard event files are read through the sources `watch` follows them with
/// (``WatchTarget/readToEnd(_:_:)``), so `replay` and `watch --no-follow` judge the same steps.
public struct ReplayInput {
    public var files: [String]
    /// `--input-format`; nil: detected from each path as `watch` detects it.
    public var format: InputFormat?
    /// `--step-key`: the key (JSONL) or column (CSV) holding the step number.
    public var stepKey: String?
    /// Warn about a malformed line (through `report`) and go on instead of stopping.
    public var skipBadLines: Bool
    /// Receives each file's first logged keys (the file named when several are replayed).
    public var describeKeys: (_ file: String?, _ keys: [String]) -> Void
    /// Receives warnings and notes, one line each.
    public var report: (String) -> Void

    public init(
        files: [String], format: InputFormat?, stepKey: String?, skipBadLines: Bool,
        describeKeys: @escaping (String?, [String]) -> Void, report: @escaping (String) -> Void
    ) {
        self.files = files
        self.format = format
        self.stepKey = stepKey
        self.skipBadLines = skipBadLines
        self.describeKeys = describeKeys
        self.report = report
    }

    /// The explicit format, or the one the path looks like (as `watch` detects it); JSONL for a path that does not
    /// tell, so that the reader says what is wrong with it.
    public func format(of file: String) -> InputFormat {
        format ?? InputFormat.detect(path: file) ?? InputFormat.named(file) ?? .jsonl
    }

    /// Reads every file into the pipeline, which judges and stores it.
    ///
    /// - Returns: what was wrong with the input that stopped the replay (everything before it is stored), or nil.
    /// - Throws: the store's errors.
    public func read(into feeder: ReplayFeeder, keyMap: MetricKeyMap) throws -> String? {
        let policy: MetricsJSONLReader.BadLinePolicy =
            skipBadLines ? .skip(report: { [report] in report("warning: skipped \($0.description)") }) : .stop
        do {
            for file in files {
                let describe: ([String]) -> Void = { [describeKeys, files] in describeKeys(files.count > 1 ? file : nil, $0) }
                let noteKeys: (RawMetricsLine) -> Void = { describe(Array($0.values.keys)) }
                let chosen = format(of: file)
                // A log directory is read as `watch` reads it: every log file of its format, in the same order.
                if Self.isDirectory(file) {
                    try readToEnd(WatchTarget(path: file, kind: .of(chosen, keyMap: keyMap)), into: feeder, noteKeys: describe)
                    continue
                }
                switch chosen {
                case .jsonl where stepKey != nil, .verl where stepKey != nil, .csv:
                    let reader = SelectedRowsReader(
                        path: file, format: chosen == .csv ? .csv : .jsonl,
                        selection: RowSelection(stepKey: stepKey ?? "step"), keyMap: keyMap)
                    var first = true
                    try reader.forEachLine { line in
                        if first { noteKeys(line) }
                        first = false
                        try feeder.consume(keyMap.makeStep(step: line.step, values: line.values, rewards: line.rewards))
                    }
                case .jsonl, .verl:
                    try MetricsJSONLReader(path: file, keyMap: keyMap).forEachStep(onBadLine: policy, firstLine: noteKeys) {
                        try feeder.consume($0)
                    }
                case .trainerState:
                    try TrainerStateReader(path: file, keyMap: keyMap).forEachStep(firstEntry: noteKeys) { try feeder.consume($0) }
                case .tensorboard, .wandb, .mlflow, .trackio:
                    try readToEnd(WatchTarget(path: file, kind: .of(chosen, keyMap: keyMap)), into: feeder, noteKeys: describe)
                }
            }
            try feeder.flush()
            return nil
        } catch let error where error is MetricsFileError || error is TrainerStateError || error is WatchError
            || error is SelectedRowsError
        {
            try feeder.flush()
            return "\(error)"
        } catch {
            // Any other failure (the store's, an I/O error): the batch in flight and what was read before it are
            // still stored, as after a bad line, before the error goes up.
            try? feeder.flush()
            throw error
        }
    }

    /// Reads a log directory, a TensorBoard log or a tracker's store (W&B, MLflow, Trackio) through the sources `watch` reads it with, to its end.
    ///
    /// - Throws: ``WatchError`` for a malformed record (unless `skipBadLines`: then a warning) or a log that cannot
    ///   be read; the pipeline's errors.
    private func readToEnd(_ target: WatchTarget, into feeder: ReplayFeeder, noteKeys: ([String]) -> Void) throws {
        var noted = false
        try target.readToEnd(WatchPollOptions(strict: !skipBadLines, keysWanted: 1)) { poll in
            for note in poll.notes { report(note.kind == .info ? "rlwatch replay: \(note.text)" : note.description) }
            if !noted, !poll.keys.isEmpty {
                noted = true
                noteKeys(poll.keys)
            }
            for step in poll.steps { try feeder.consume(step) }
            if let crash = poll.crashed {
                report("rlwatch replay: the tracker recorded that the run crashed")
                try feeder.crashed(crash)
            }
        }
    }

    private static func isDirectory(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }
}
