import Foundation
import RLWatchIngest
import RLWatchTensorBoard
import RLWatchTrackers

/// How a ``Watcher`` (and `replay`, for a log directory or a TensorBoard log) finds and opens the sources of
/// one format.
public struct WatchSourceKind {
    public var format: InputFormat
    /// The source ids a watched directory holds now (absolute paths, in reading order); polled for new
    /// files at every poll. A watched file is its own single source.
    public var list: (_ directory: String) -> [String]
    /// Opens the source with this id (a path that `list` returned, or a watched file).
    public var make: (_ id: String) -> any WatchSource
    /// The files a trainer appends to now, when they are not the sources themselves (a tracker's run file deep in
    /// a watched directory): what tells whether the log is still being written.
    public var liveFiles: (_ path: String) -> [String] = { _ in [] }

    public init(
        format: InputFormat, list: @escaping (_ directory: String) -> [String],
        make: @escaping (_ id: String) -> any WatchSource
    ) {
        self.format = format
        self.list = list
        self.make = make
    }

    /// Metrics JSONL (rlwatch's own, or veRL's file logger): every `*.jsonl` file directly in a directory,
    /// in name order.
    public static func jsonl(_ format: InputFormat = .jsonl, keyMap: MetricKeyMap = .builtIn) -> WatchSourceKind {
        WatchSourceKind(
            format: format,
            list: { directory in
                let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
                return names.filter { $0.hasSuffix(".jsonl") }.sorted().map {
                    (directory as NSString).appendingPathComponent($0)
                }
            },
            make: { JSONLWatchSource(path: $0, keyMap: keyMap) })
    }

    /// TRL / Hugging Face `trainer_state.json`: a directory is one source, its newest document.
    public static func trainerState(keyMap: MetricKeyMap = .builtIn) -> WatchSourceKind {
        WatchSourceKind(
            format: .trainerState, list: { [$0] },
            make: { TrainerStateWatchSource(path: $0, keyMap: keyMap) })
    }

    /// TensorBoard event files: every event file under a log directory (recursively, in the order a restarted
    /// trainer wrote them).
    public static func tensorBoard(keyMap: MetricKeyMap = .builtIn) -> WatchSourceKind {
        WatchSourceKind(
            format: .tensorboard,
            list: { directory in
                ((try? TensorBoardLogDirectory.eventFiles(in: directory)) ?? []).map(\.path)
            },
            make: { TensorBoardWatchSource(path: $0, keyMap: keyMap) })
    }

    /// CSV logs: every `*.csv` file directly in a directory, in name order.
    public static func csv(keyMap: MetricKeyMap = .builtIn) -> WatchSourceKind {
        WatchSourceKind(
            format: .csv,
            list: { directory in
                let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
                return names.filter { $0.lowercased().hasSuffix(".csv") }.sorted().map {
                    (directory as NSString).appendingPathComponent($0)
                }
            },
            make: { CSVWatchSource(path: $0, keyMap: keyMap) })
    }

    /// An experiment tracker's local log (W&B, MLflow, Trackio): the watched path is one source, which follows the
    /// tracker's newest run.
    static func tracker(_ format: InputFormat, keyMap: MetricKeyMap) -> WatchSourceKind {
        let open: (String) -> any TrackerLog
        switch format {
        case .wandb: open = { WandbLog(path: $0) }
        case .trackio: open = { TrackioLog(path: $0) }
        default:
            open = { path -> any TrackerLog in
                if TrackerFiles.format(ofFile: path) == .mlflow || Self.holdsMLflowDatabase(path) {
                    return MLflowSQLiteLog(path: Self.mlflowDatabase(path))
                }
                return MLflowFileStoreLog(path: path)
            }
        }
        var kind = WatchSourceKind(
            format: format, list: { [$0] },
            make: { TrackerWatchSource(path: $0, log: open($0), keyMap: keyMap) })
        kind.liveFiles = { path in
            switch format {
            case .wandb: WandbLog.currentFile(path).map { [$0] } ?? []
            case .trackio: TrackioLog.currentDatabase(path).map { [$0, $0 + "-wal"] } ?? []
            default:
                TrackerFiles.format(ofFile: path) == .mlflow || holdsMLflowDatabase(path)
                    ? [mlflowDatabase(path), mlflowDatabase(path) + "-wal"] : MLflowFileStoreLog.liveFiles(path)
            }
        }
        return kind
    }

    /// Whether a directory holds an MLflow SQLite store (`mlflow.db`), read in preference to an `mlruns/` beside it.
    static func holdsMLflowDatabase(_ path: String) -> Bool {
        TrackerFiles.format(ofFile: (path as NSString).appendingPathComponent("mlflow.db")) == .mlflow
    }

    static func mlflowDatabase(_ path: String) -> String {
        holdsMLflowDatabase(path) ? (path as NSString).appendingPathComponent("mlflow.db") : path
    }

    /// The sources of a format.
    public static func of(_ format: InputFormat, keyMap: MetricKeyMap = .builtIn) -> WatchSourceKind {
        switch format {
        case .jsonl, .verl: .jsonl(format, keyMap: keyMap)
        case .trainerState: .trainerState(keyMap: keyMap)
        case .tensorboard: .tensorBoard(keyMap: keyMap)
        case .csv: .csv(keyMap: keyMap)
        case .wandb, .mlflow, .trackio: .tracker(format, keyMap: keyMap)
        }
    }
}
