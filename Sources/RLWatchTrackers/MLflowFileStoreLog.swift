import Foundation
import RLWatchCore

/// An MLflow run's metrics, from the legacy file store (`mlruns/<experiment>/<run>/`; MLflow 3.x writes it only
/// with `MLFLOW_ALLOW_FILE_STORE=true`).
///
/// Each key has its own file under the run's `metrics/` (a key with `/` is nested folders), with one line per
/// logged value: `timestamp value step`. A step is in every key's file only once the trainer logged them all, so
/// a step is handed on once every key's file has reached a later step (or the run ended, or the log is
/// finished); until then its values wait in the position. `meta.yaml`'s `status` ends the run: 3 (FINISHED)
/// finished, 4 (FAILED) or 5 (KILLED) crashed. The path may be `mlruns/`, an experiment or a run; the newest run
/// (by `start_time`) is followed.
public final class MLflowFileStoreLog: TrackerLog {
    struct Position: Codable, Hashable {
        var run: String?
        /// Each metric file's offset after its last complete line, by key.
        var offsets: [String: Int64] = [:]
        /// The last step read from each key's file.
        var lastSteps: [String: Int] = [:]
        /// Values read but not handed on: step → key → value (and the step's wall time under "").
        var waiting: [Int: [String: Double]] = [:]
        var ended = false
    }

    public let path: String
    private var state = Position()

    public init(path: String) {
        self.path = path
    }

    public var position: String { StateJSON.encode(state) ?? "{}" }

    public func resume(from position: String) throws {
        state = try StateJSON.decode(Position.self, from: position)
    }

    public func read(limit: Int, final: Bool, strict: Bool) throws(TrackerError) -> TrackerRead {
        var read = TrackerRead()
        guard let run = Self.newestRun(path) else { return read }
        if run.path != state.run {
            if state.run != nil { read.switched = true }
            read.infos.append("following the MLflow run \(run.path)")
            state = Position(run: run.path)
        }
        let metrics = (run.path as NSString).appendingPathComponent("metrics")
        for key in Self.metricKeys(metrics) {
            let file = (metrics as NSString).appendingPathComponent(key)
            guard let handle = FileHandle(forReadingAtPath: file) else { continue }
            defer { try? handle.close() }
            let offset = state.offsets[key] ?? 0
            let data: Data
            do {
                try handle.seek(toOffset: UInt64(offset))
                data = try handle.readToEnd() ?? Data()
            } catch {
                throw TrackerError(path: file, message: "\(error)")
            }
            guard let lastNewline = data.lastIndex(of: UInt8(ascii: "\n")) else { continue }
            let text = String(decoding: data[data.startIndex..<lastNewline], as: UTF8.self)
            for line in text.split(separator: "\n") {
                let fields = line.split(separator: " ")
                guard fields.count >= 2, let value = trackerNumber(fields[1]) else {
                    let problem = "\(file): `\(line)` is not `timestamp value step`"
                    if strict { read.failure = problem } else { read.warnings.append("skipped \(problem)") }
                    continue
                }
                let step = fields.count >= 3 ? Int(fields[2]) ?? 0 : 0
                state.waiting[step, default: [:]][key] = value
                if let timestamp = Double(fields[0]) {
                    state.waiting[step, default: [:]][""] = max(state.waiting[step]?[""] ?? 0, timestamp / 1000)
                }
                state.lastSteps[key] = max(state.lastSteps[key] ?? step, step)
            }
            state.offsets[key] = offset + Int64(lastNewline - data.startIndex + 1)
        }
        let end = state.ended ? nil : Self.end(status: run.status, path: run.path)
        // A step is complete when every key's file has gone past it, the run ended, or the log is finished.
        let complete = final || end != nil ? Int.max : (state.lastSteps.values.min() ?? Int.min)
        for step in state.waiting.keys.sorted() where step < complete {
            if read.rows.count >= limit {
                read.hasMore = true
                break
            }
            guard var values = state.waiting.removeValue(forKey: step) else { continue }
            let wallTime = values.removeValue(forKey: "") ?? 0
            read.rows.append(TrackerRow(step: step, wallTime: wallTime, values: values))
        }
        if let end, !read.hasMore {
            state.ended = true
            read.end = end
        }
        return read
    }

    /// The newest run's `meta.yaml` and metric files: what MLflow writes to while the run trains.
    public static func liveFiles(_ path: String) -> [String] {
        guard let run = newestRun(path) else { return [] }
        let metrics = (run.path as NSString).appendingPathComponent("metrics")
        return [(run.path as NSString).appendingPathComponent("meta.yaml")]
            + metricKeys(metrics).map { (metrics as NSString).appendingPathComponent($0) }
    }

    /// What `meta.yaml`'s status says about the run's end (MLflow's RunStatus numbers); nil while it runs.
    static func end(status: Int?, path: String) -> TrackerRunEnd? {
        switch status {
        case 3?: .finished("the MLflow run \(path) is FINISHED")
        case 4?: .crashed(exitCode: nil, "the MLflow run \(path) is FAILED")
        case 5?: .crashed(exitCode: nil, "the MLflow run \(path) is KILLED")
        default: nil
        }
    }

    /// The metric keys of a run: the files under `metrics/`, as paths relative to it (nested keys as folders).
    static func metricKeys(_ metrics: String) -> [String] {
        guard let entries = FileManager.default.enumerator(atPath: metrics) else { return [] }
        var keys: [String] = []
        while let relative = entries.nextObject() as? String {
            var isDirectory: ObjCBool = false
            let full = (metrics as NSString).appendingPathComponent(relative)
            if FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), !isDirectory.boolValue {
                keys.append(relative)
            }
        }
        return keys.sorted()
    }

    /// The newest run under a path (by `start_time` in its `meta.yaml`), with its status; nil while there is none.
    static func newestRun(_ path: String) -> (path: String, status: Int?)? {
        var runs: [(path: String, start: Int, status: Int?)] = []
        func visit(_ directory: String, depth: Int) {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            if names.contains("meta.yaml"), names.contains("metrics") {
                let meta = Self.meta((directory as NSString).appendingPathComponent("meta.yaml"))
                if meta["lifecycle_stage"] != "deleted" {
                    runs.append((directory, Int(meta["start_time"] ?? "") ?? 0, Int(meta["status"] ?? "")))
                }
                return
            }
            guard depth < 3 else { return }
            for name in names where !name.hasPrefix(".") {
                let child = (directory as NSString).appendingPathComponent(name)
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: child, isDirectory: &isDirectory), isDirectory.boolValue {
                    visit(child, depth: depth + 1)
                }
            }
        }
        visit(path, depth: 0)
        return runs.max { ($0.start, $0.path) < ($1.start, $1.path) }.map { ($0.path, $0.status) }
    }

    /// The top-level `key: value` lines of a `meta.yaml` (all rlwatch needs of it).
    static func meta(_ path: String) -> [String: String] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [:] }
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix(" ") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            var value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if value.hasPrefix("'"), value.hasSuffix("'"), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            fields[String(line[..<colon])] = value
        }
        return fields
    }
}
