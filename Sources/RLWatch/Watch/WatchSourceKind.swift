import Foundation
import RLWatchIngest
import RLWatchTensorBoard

/// How a ``Watcher`` (and `replay`, for a log directory or a TensorBoard log) finds and opens the sources of
/// one format.
public struct WatchSourceKind {
    public var format: InputFormat
    /// The source ids a watched directory holds now (absolute paths, in reading order); polled for new
    /// files at every poll. A watched file is its own single source.
    public var list: (_ directory: String) -> [String]
    /// Opens the source with this id (a path that `list` returned, or a watched file).
    public var make: (_ id: String) -> any WatchSource

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

    /// The sources of a format; nil for CSV, which is read whole (`replay`), not followed.
    public static func of(_ format: InputFormat, keyMap: MetricKeyMap = .builtIn) -> WatchSourceKind? {
        switch format {
        case .jsonl, .verl: .jsonl(format, keyMap: keyMap)
        case .trainerState: .trainerState(keyMap: keyMap)
        case .tensorboard: .tensorBoard(keyMap: keyMap)
        case .csv: nil
        }
    }
}
