import Foundation
import GRDB
import RLWatchCore
import RLWatchIngest

/// A Trackio run's metrics, from its project database (`<project>.db` under `$TRACKIO_DIR`, by default
/// `$HF_HOME/trackio/`), opened read-only.
///
/// Each `trackio.log` call is a row of the `metrics` table: an autoincrement `id`, the run (`run_id`, or
/// `run_name` in older databases), the `step` and a JSON object of the values (non-finite values as the strings
/// `"NaN"`, `"Infinity"`). The run of the newest row is followed, and another when a newer row is another run's.
/// The path may be the database or a directory of them (the most recently written Trackio database is read).
/// Trackio records no end of a run.
public final class TrackioLog: TrackerLog {
    struct Position: Codable, Hashable {
        var database: String?
        var run: String?
        var id: Int64 = 0
    }

    public let path: String
    private var state = Position()
    private var opened: (path: String, queue: DatabaseQueue, runColumn: String)?

    public init(path: String) {
        self.path = path
    }

    public var position: String { StateJSON.encode(state) ?? "{}" }

    public func resume(from position: String) throws {
        state = try StateJSON.decode(Position.self, from: position)
    }

    public func read(limit: Int, final: Bool, strict: Bool) throws(TrackerError) -> TrackerRead {
        var read = TrackerRead()
        guard let file = Self.currentDatabase(path) else { return read }
        do {
            let (queue, runColumn) = try open(file)
            let current = state
            let found = try queue.read { db -> (run: String, rows: [Row])? in
                guard
                    let run = try String.fetchOne(
                        db, sql: "SELECT \(runColumn) FROM metrics ORDER BY id DESC LIMIT 1")
                else { return nil }
                let after = run == current.run && file == current.database ? current.id : 0
                let rows = try Row.fetchAll(
                    db,
                    sql: "SELECT id, step, metrics, timestamp FROM metrics WHERE id > ? AND \(runColumn) = ? ORDER BY id LIMIT ?",
                    arguments: [after, run, limit])
                return (run, rows)
            }
            guard let found else { return read }
            if found.run != state.run || file != state.database {
                if state.run != nil { read.switched = true }
                read.infos.append("following the Trackio run \(found.run) in \(file)")
                state = Position(database: file, run: found.run)
            }
            for row in found.rows {
                state.id = row["id"]
                let id: Int64 = row["id"]
                // Trackio stores the JSON as text or as a blob, by version.
                let stored: DatabaseValue = row["metrics"]
                let text: String
                switch stored.storage {
                case .string(let string): text = string
                case .blob(let data): text = String(decoding: data, as: UTF8.self)
                default: text = ""
                }
                guard let values = Self.values(text) else {
                    let problem = "\(file): metrics row \(id) is not a JSON object"
                    if strict {
                        read.failure = problem
                        break
                    }
                    read.warnings.append("skipped \(problem)")
                    continue
                }
                let timestamp: String = row["timestamp"] ?? ""
                let wallTime = ISO8601DateFormatter.trackio.date(from: timestamp)?.timeIntervalSince1970 ?? 0
                read.rows.append(TrackerRow(step: row["step"] ?? 0, wallTime: wallTime, values: values))
            }
            read.hasMore = found.rows.count >= limit && read.failure == nil
        } catch let error as TrackerError {
            throw error
        } catch {
            opened = nil
            throw TrackerError(path: file, message: "cannot read the Trackio database: \(error)")
        }
        return read
    }

    /// The numeric values of a row's JSON object (strings spelling non-finite values included); nil when it is not
    /// an object.
    static func values(_ text: String) -> [String: Double]? {
        guard case .object(let members)? = try? JSONReader.parse(text, mode: .pythonLenient) else { return nil }
        var values: [String: Double] = [:]
        for (key, value) in members {
            switch value {
            case .int(let int): values[key] = Double(int)
            case .double(let double): values[key] = double
            case .string(let text): if let number = trackerNumber(Substring(text)) { values[key] = number }
            case .null, .bool, .array, .object: break
            }
        }
        return values
    }

    /// The database a path stands for now: the file itself, or the most recently written Trackio database in a
    /// directory.
    public static func currentDatabase(_ path: String) -> String? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return nil }
        guard isDirectory.boolValue else { return path }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        let databases = names.filter { $0.hasSuffix(".db") }.map { (path as NSString).appendingPathComponent($0) }
            .filter { TrackerFiles.format(ofFile: $0) == .trackio }
        func modified(_ file: String) -> Date {
            // The write-ahead log changes first while Trackio writes.
            [file, file + "-wal"].compactMap {
                (try? FileManager.default.attributesOfItem(atPath: $0))?[.modificationDate] as? Date
            }.max() ?? .distantPast
        }
        return databases.max { (modified($0), $0) < (modified($1), $1) }
    }

    private func open(_ file: String) throws -> (DatabaseQueue, String) {
        if let opened, opened.path == file { return (opened.queue, opened.runColumn) }
        var configuration = Configuration()
        configuration.readonly = true
        configuration.label = "rlwatch.trackio"
        configuration.busyMode = .timeout(2)
        let queue = try DatabaseQueue(path: file, configuration: configuration)
        let columns = try queue.read { db in try db.columns(in: "metrics").map(\.name) }
        let runColumn = columns.contains("run_id") ? "run_id" : "run_name"
        opened = (file, queue, runColumn)
        return (queue, runColumn)
    }
}

extension ISO8601DateFormatter {
    /// Trackio's timestamps: `2026-12-06T14:56:38.584786+00:00`.
    nonisolated(unsafe) static let trackio: ISO8601DateFormatter = {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }()
}
