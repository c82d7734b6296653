import Foundation
import RLWatch
import RLWatchCore
import RLWatchStore
import RLWatchTesting

/// A temporary directory of log files that a test writes while a watcher polls them.
final class WatchSandbox {
    let directory: URL
    private(set) var notes: [WatchNote] = []

    init() throws {
        directory = try temporaryDirectory()
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// Replaces the file's contents in place (same inode).
    func write(_ name: String, _ text: String) throws {
        let url = directory.appendingPathComponent(name)
        try FileManager.default.createDirectory(
            at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        if FileManager.default.fileExists(atPath: url.path) {
            let handle = try FileHandle(forWritingTo: url)
            try handle.truncate(atOffset: 0)
            try handle.write(contentsOf: Data(text.utf8))
            try handle.close()
        } else {
            try Data(text.utf8).write(to: url)
        }
    }

    /// Appends to the file, as a trainer does.
    func append(_ name: String, _ text: String) throws {
        let url = directory.appendingPathComponent(name)
        if !FileManager.default.fileExists(atPath: url.path) {
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data().write(to: url)
        }
        let handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
        try handle.close()
    }

    /// Replaces the file atomically (a new inode), as `os.replace` does.
    func replace(_ name: String, _ text: String) throws {
        let target = directory.appendingPathComponent(name)
        let temporary = target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).tmp")
        try Data(text.utf8).write(to: temporary)
        guard rename(temporary.path, target.path) == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: target.path])
        }
    }

    /// A watcher of `names` (files or directories in the sandbox) whose notes this sandbox keeps.
    func watcher(
        _ names: [String], kind: WatchSourceKind = .jsonl(), store: any Store, follow: Bool = true,
        strict: Bool = false, config: RLWatchConfig = RLWatchConfig(), runID: String? = nil,
        sinks: [any AlertSink] = [], batchSize: Int = 4096, explain: Bool = false,
        wallClock: AnyWallClock? = nil, fileHolders: (@Sendable ([String]) -> Set<Int32>?)? = nil,
        processAlive: (@Sendable (Int32) -> Bool)? = nil
    ) async throws -> Watcher {
        let targets = try names.map { try WatchTarget(path: path($0), kind: kind) }
        var options = Watcher.Options(
            follow: follow, pollInterval: .milliseconds(5), strict: strict, batchSize: batchSize, explain: explain)
        if let wallClock { options.wallClock = wallClock }
        if let fileHolders { options.fileHolders = fileHolders }
        if let processAlive { options.processAlive = processAlive }
        options.holderProbeInterval = 0
        return try await Watcher.start(
            targets: targets, config: config, runID: runID, store: store, sinks: sinks, options: options,
            report: { [weak self] in self?.notes.append($0) })
    }

    var warnings: [String] { notes.filter { $0.kind == .warning }.map(\.text) }
}

/// Metrics lines for watch tests.
enum WatchLines {
    /// A calm rlwatch metrics line.
    static func healthy(_ step: Int) -> String {
        let wiggle = sin(Double(step) * 1.7)
        return "{\"step\":\(step),\"loss\":\(0.9 + 0.01 * wiggle),\"grad_norm\":\(1.0 + 0.05 * wiggle),"
            + "\"entropy\":\(2.0 + 0.03 * wiggle),\"kl\":\(0.01 + 0.001 * wiggle)}\n"
    }

    static func healthy(_ steps: ClosedRange<Int>) -> String { steps.map(healthy).joined() }

    /// A line with a NaN loss: a `loss_nan` critical on its step.
    static func nanLoss(_ step: Int) -> String {
        "{\"step\":\(step),\"loss\":NaN,\"grad_norm\":1.0,\"entropy\":2.0,\"kl\":0.01}\n"
    }

    /// The real veRL file-logger log (71 lines): a grad-norm spike at 58, a KL explosion at 67.
    static let veRLFixture = TestFixtures.realRun("verl-grpo-kl-explosion.file-logger.jsonl")

    static func veRLLines() throws -> [String] {
        try String(contentsOf: veRLFixture, encoding: .utf8).split(separator: "\n").map { $0 + "\n" }
    }
}

extension Watcher.Summary {
    /// `detector/severity@step` of each delivered alert.
    var alertKeys: [String] { delivered.map { "\($0.detector)/\($0.severity.rawValue)@\($0.step)" } }
}
