import Foundation
import RLWatchIngest

/// A path given to `rlwatch watch`: a log file, or a directory whose log files are watched.
public struct WatchTarget {
    /// The absolute path.
    public var path: String
    public var isDirectory: Bool
    public var kind: WatchSourceKind

    /// - Parameters:
    ///   - path: as the user gave it; made absolute against the working directory.
    ///   - kind: how its sources are found and read.
    /// - Throws: ``WatchError`` when the path does not exist.
    public init(path: String, kind: WatchSourceKind) throws {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        var directory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: absolute, isDirectory: &directory) else {
            throw WatchError.cannotWatch(path, "no such file or directory")
        }
        self.path = absolute
        isDirectory = directory.boolValue
        self.kind = kind
    }

    /// How waiting for a log ended.
    public enum WaitOutcome: Sendable {
        /// The log is there; `waited`: it was not at first (then it is followed: a trainer is writing it).
        case ready(waited: Bool)
        /// The stop signal (SIGINT, SIGTERM) ended the wait; nothing was read.
        case stopped
    }

    /// Waits until `path` exists and, without a `format`, holds a log whose format can be told: `watch DIR` started
    /// before the trainer created DIR (or its first event file) waits for it, with a note through `report`, instead
    /// of failing.
    public static func waitForLog(
        _ path: String, format: InputFormat?, pollInterval: Duration, until stop: WatchStopSignal,
        report: (String) -> Void
    ) async -> WaitOutcome {
        func ready() -> Bool {
            format == nil ? InputFormat.detect(path: path) != nil : FileManager.default.fileExists(atPath: path)
        }
        guard !ready() else { return .ready(waited: false) }
        let exists = FileManager.default.fileExists(atPath: path)
        report(
            "rlwatch watch: \(path) " + (exists ? "holds no log rlwatch reads yet" : "does not exist yet")
                + "; waiting for the trainer to write it (Ctrl-C to stop)")
        while !stop.isStopped, !ready() {
            // Checked every 50 ms, so a signal ends the wait at once.
            await stop.pause(for: pollInterval, on: ContinuousClock())
        }
        if stop.isStopped {
            report("rlwatch watch: stopped while waiting for \(path)")
            return .stopped
        }
        report("rlwatch watch: \(path) appeared")
        return .ready(waited: true)
    }

    /// Whether the target, or a file of it, was modified after `time` (`watch` follows a log that is being written).
    public func changed(since time: Date) -> Bool {
        var paths = [path]
        if isDirectory {
            paths += kind.list(path)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            paths += names.map { (path as NSString).appendingPathComponent($0) }
        }
        paths += kind.liveFiles(path)
        return paths.contains { path in
            let modified = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
            return (modified ?? .distantPast) > time
        }
    }

    /// The source ids it holds now.
    func sourceIDs() -> [String] {
        isDirectory ? kind.list(path) : [path]
    }

    /// Reads every source the target holds to its end, as `watch --no-follow` does: the sources in order, each
    /// polled in turn for up to ``WatchPollOptions/limit`` steps, until none has more. What `replay` reads a log
    /// directory or a TensorBoard log with, so that it judges the same steps in the same order.
    ///
    /// - Parameters:
    ///   - options: how each poll reads; ``WatchPollOptions/final`` is set (the log is finished).
    ///   - body: receives each poll, in order.
    /// - Throws: what `body` or a source throws; a poll's ``WatchPoll/failure``, after `body` received the poll.
    public func readToEnd(_ options: WatchPollOptions, _ body: (WatchPoll) throws -> Void) throws {
        var options = options
        options.final = true
        let sources = sourceIDs().map(kind.make)
        var more = true
        while more {
            more = false
            for source in sources {
                let poll = try source.poll(options)
                try body(poll)
                if let failure = poll.failure { throw failure }
                more = more || poll.hasMore
            }
        }
    }
}
