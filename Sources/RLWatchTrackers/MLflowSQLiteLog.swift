import Foundation
import GRDB
import RLWatchCore

/// An MLflow run's metrics, from the SQLite tracking store (`mlflow.db`, MLflow's default backend since 3.7),
/// opened read-only.
///
/// The `metrics` table holds one row per logged value (`key`, `value`, `timestamp` in ms, `step`, `is_nan`,
/// `run_uuid`), appended in logging order, so the rows after the last `rowid` read are what is new. The newest
/// active run (by `start_time`) is followed, and a newer one when it starts. The run's `status` ends it:
/// `FINISHED` finished, `FAILED` or `KILLED` crashed — said once every row of the run was read.
public final class MLflowSQLiteLog: TrackerLog {
    struct Position: Codable, Hashable {
        var run: String?
        var rowid: Int64 = 0
        var ended = false
    }

    /// The database file.
    public let path: String
    private var state = Position()
    private var database: DatabaseQueue?

    public init(path: String) {
        self.path = path
    }

    public var position: String { StateJSON.encode(state) ?? "{}" }

    public func resume(from position: String) throws {
        state = try StateJSON.decode(Position.self, from: position)
    }

    public func read(limit: Int, final: Bool, strict: Bool) throws(TrackerError) -> TrackerRead {
        var read = TrackerRead()
        do {
            let database = try open()
            let current = state
            let found = try database.read { db -> (run: String, name: String, status: String, rows: [Row])? in
                guard
                    let run = try Row.fetchOne(
                        db,
                        sql: """
                            SELECT run_uuid, name, status FROM runs WHERE lifecycle_stage = 'active'
                            ORDER BY start_time DESC, rowid DESC LIMIT 1
                            """)
                else { return nil }
                let uuid: String = run["run_uuid"]
                let after = uuid == current.run ? current.rowid : 0
                let rows = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT rowid, key, value, step, is_nan, timestamp FROM metrics
                        WHERE rowid > ? AND run_uuid = ? ORDER BY rowid LIMIT ?
                        """,
                    arguments: [after, uuid, limit])
                return (uuid, run["name"] ?? "", run["status"] ?? "", rows)
            }
            guard let found else { return read }
            if found.run != state.run {
                if state.run != nil { read.switched = true }
                read.infos.append("following the MLflow run \(found.name) (\(found.run)) in \(path)")
                state = Position(run: found.run)
            }
            read.rows.reserveCapacity(found.rows.count)
            for row in found.rows {
                let isNaN: Bool = row["is_nan"] ?? false
                let value: Double = isNaN ? .nan : row["value"] ?? .nan
                let timestamp: Int64 = row["timestamp"] ?? 0
                read.rows.append(
                    TrackerRow(step: row["step"] ?? 0, wallTime: Double(timestamp) / 1000, values: [row["key"]: value]))
                state.rowid = row["rowid"]
            }
            read.hasMore = found.rows.count >= limit
            if !read.hasMore, !state.ended, let end = Self.end(status: found.status, name: found.name) {
                state.ended = true
                read.end = end
            }
        } catch let error as TrackerError {
            throw error
        } catch {
            database = nil
            throw TrackerError(path: path, message: "cannot read the MLflow store: \(error)")
        }
        return read
    }

    /// What a run's status says about its end; nil while it runs.
    static func end(status: String, name: String) -> TrackerRunEnd? {
        switch status {
        case "FINISHED": .finished("the MLflow run \(name) is FINISHED")
        case "FAILED", "KILLED": .crashed(exitCode: nil, "the MLflow run \(name) is \(status)")
        default: nil
        }
    }

    private func open() throws -> DatabaseQueue {
        if let database { return database }
        guard FileManager.default.fileExists(atPath: path) else {
            throw TrackerError(path: path, message: "no such file")
        }
        var configuration = Configuration()
        configuration.readonly = true
        configuration.label = "rlwatch.mlflow"
        // MLflow writes while rlwatch reads: wait briefly on its locks instead of failing the poll.
        configuration.busyMode = .timeout(2)
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        database = queue
        return queue
    }
}
