import Foundation

/// The kinds of log rlwatch reads: what `replay` and `watch` detect from a path, or take from `--input-format` /
/// `--format`.
///
/// One detection for both commands, so that a log `watch` follows is replayed the same way.
public enum InputFormat: String, Sendable, Hashable, CaseIterable {
    /// TensorBoard event files (`events.out.tfevents.*`), or a log directory holding them.
    case tensorboard
    /// veRL's file logger: metrics JSONL lines `{"step": N, "data": {…}}`.
    case verl
    /// TRL / Hugging Face `trainer_state.json`, rewritten at each checkpoint save.
    case trainerState = "trainer-state"
    /// rlwatch's metrics JSONL (the `replay` format).
    case jsonl
    /// A CSV log or export with a header row and a step column (W&B's "Export CSV" naming understood).
    case csv
    /// A Weights & Biases run's transaction log (`run-<id>.wandb`), or a `wandb/` directory (its latest run).
    case wandb
    /// An MLflow tracking store: the SQLite database (`mlflow.db`) or the file store (`mlruns/`).
    case mlflow
    /// A Trackio project database (`<project>.db` under `$TRACKIO_DIR` or `$HF_HOME/trackio/`).
    case trackio

    /// The framework recorded with the run when the format tells it.
    public var framework: String? {
        switch self {
        case .verl: "verl"
        case .trainerState: "trl"
        case .tensorboard, .jsonl, .csv, .wandb, .mlflow, .trackio: nil
        }
    }

    /// Every format's name, for help texts: `tensorboard, verl, …, trackio`.
    public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }

    /// Whether a file name is a TensorBoard event file.
    public static func isEventFile(name: String) -> Bool {
        name.hasPrefix("events.out.tfevents.")
    }

    /// The format of the file or directory at `path`, from its name and, for JSON, its content.
    ///
    /// A file is W&B, MLflow or Trackio by its content (``TrackerFiles``), TensorBoard when named like an event
    /// file, CSV when named `*.csv`, trainer-state when
    /// ``TrainerStateReader/isTrainerState(path:)`` says so, else JSONL or veRL by its first line; standard input
    /// (`-`) is JSONL. A directory is TensorBoard when it holds event files (directly or a few levels down),
    /// trainer-state when it holds a `trainer_state.json` (directly or in a `checkpoint-*` directory), W&B, MLflow or
    /// Trackio as ``TrackerFiles/format(ofDirectory:names:)`` tells, JSONL or veRL when it holds `.jsonl` files,
    /// CSV when it holds `.csv` files. Nil when nothing tells (an empty directory, a missing path).
    public static func detect(path: String) -> InputFormat? {
        guard path != MetricsJSONLReader.standardInputPath else { return .jsonl }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return nil }
        if isDirectory.boolValue { return detect(directory: path) }
        if let tracker = TrackerFiles.format(ofFile: path) { return tracker }
        if let named = named(path) { return named }
        if TrainerStateReader.isTrainerState(path: path) { return .trainerState }
        return jsonlFlavour(of: path) ?? .jsonl
    }

    /// The format a file name alone tells: an event file, a `.csv` file; nil for any other name.
    ///
    /// What `replay` goes by for a path that does not exist, so that its reader names what is missing.
    public static func named(_ path: String) -> InputFormat? {
        let name = (path as NSString).lastPathComponent
        if isEventFile(name: name) || name.contains(".tfevents.") { return .tensorboard }
        if name.lowercased().hasSuffix(".csv") { return .csv }
        if name.hasSuffix(".wandb") { return .wandb }
        if name == "mlflow.db" { return .mlflow }
        return nil
    }

    private static func detect(directory: String) -> InputFormat? {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory))?.sorted() ?? []
        if let tracker = TrackerFiles.format(ofDirectory: directory, names: names) { return tracker }
        if holdsEventFiles(directory) { return .tensorboard }
        if names.contains(TrainerStateReader.fileName) { return .trainerState }
        let jsonl = names.filter { $0.hasSuffix(".jsonl") }
        if let first = jsonl.first {
            return jsonlFlavour(of: (directory as NSString).appendingPathComponent(first)) ?? .jsonl
        }
        if names.contains(where: { $0.lowercased().hasSuffix(".csv") }) { return .csv }
        for name in names {
            let child = (directory as NSString).appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: child, isDirectory: &isDirectory), isDirectory.boolValue
            else { continue }
            let inner = (try? FileManager.default.contentsOfDirectory(atPath: child)) ?? []
            if name.hasPrefix("checkpoint-"), inner.contains(TrainerStateReader.fileName) { return .trainerState }
        }
        return nil
    }

    /// Whether a TensorBoard event file is in the directory or below it (at most four levels down, such as
    /// `output_dir/runs/<date>_<host>/`), looking at no more than a few thousand entries.
    private static func holdsEventFiles(_ directory: String) -> Bool {
        guard let entries = FileManager.default.enumerator(atPath: directory) else { return false }
        var seen = 0
        while let relative = entries.nextObject() as? String, seen < 5000 {
            seen += 1
            if isEventFile(name: (relative as NSString).lastPathComponent) { return true }
            if entries.level >= 4 { entries.skipDescendants() }
        }
        return false
    }

    /// `.verl` when the file's first content line nests its metrics under `"data"`, `.jsonl` for another
    /// line, nil for a file with no line yet.
    private static func jsonlFlavour(of path: String) -> InputFormat? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 1 << 16)) ?? Data()
        let text = String(decoding: head, as: UTF8.self)
        guard
            let line = text.split(separator: "\n").first(where: {
                let trimmed = $0.drop(while: { $0 == " " || $0 == "\t" || $0 == "\u{FEFF}" })
                return !trimmed.isEmpty && !trimmed.hasPrefix("#")
            })
        else { return nil }
        return line.contains("\"data\"") ? .verl : .jsonl
    }
}
