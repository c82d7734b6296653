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
    /// A CSV export with a header row and a step column (`replay` only: a CSV file is not followed).
    case csv

    /// The framework recorded with the run when the format tells it.
    public var framework: String? {
        switch self {
        case .verl: "verl"
        case .trainerState: "trl"
        case .tensorboard, .jsonl, .csv: nil
        }
    }

    /// Whether `watch` can follow a log of this format (every one but CSV, which is read whole).
    public var isFollowable: Bool { self != .csv }

    /// Whether a file name is a TensorBoard event file.
    public static func isEventFile(name: String) -> Bool {
        name.hasPrefix("events.out.tfevents.")
    }

    /// The format of the file or directory at `path`, from its name and, for JSON, its content.
    ///
    /// A file is TensorBoard when named like an event file, CSV when named `*.csv`, trainer-state when
    /// ``TrainerStateReader/isTrainerState(path:)`` says so, else JSONL or veRL by its first line; standard input
    /// (`-`) is JSONL. A directory is TensorBoard when it holds event files (directly or a few levels down),
    /// trainer-state when it holds a `trainer_state.json` (directly or in a `checkpoint-*` directory), and JSONL or
    /// veRL when it holds `.jsonl` files. Nil when nothing tells (an empty directory, a missing path).
    public static func detect(path: String) -> InputFormat? {
        guard path != MetricsJSONLReader.standardInputPath else { return .jsonl }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return nil }
        if isDirectory.boolValue { return detect(directory: path) }
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
        return nil
    }

    private static func detect(directory: String) -> InputFormat? {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory))?.sorted() ?? []
        if holdsEventFiles(directory) { return .tensorboard }
        if names.contains(TrainerStateReader.fileName) { return .trainerState }
        let jsonl = names.filter { $0.hasSuffix(".jsonl") }
        if let first = jsonl.first {
            return jsonlFlavour(of: (directory as NSString).appendingPathComponent(first)) ?? .jsonl
        }
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
