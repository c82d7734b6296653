import GRDB
import RLWatchCore
import RLWatchStore

/// `training_checkpoints`: the checkpoints a run's trainer saved (``SQLiteSchema/actingMigration``).
enum TrainingCheckpointsTable {
    static let name = "training_checkpoints"
}

/// `alert_actions`: what was done about alerts (``SQLiteSchema/actingMigration``).
enum AlertActionsTable {
    static let name = "alert_actions"
    static let columns = "id, run_id, time, action, actor, step, detector, severity, reason, result, output"

    static func decode(_ row: Row) -> AlertActionRecord {
        AlertActionRecord(
            id: row["id"], runID: row["run_id"], time: row["time"], action: row["action"], actor: row["actor"],
            step: row["step"], detector: row["detector"], severity: row["severity"], reason: row["reason"],
            result: row["result"], output: row["output"])
    }
}

extension SQLiteStore {
    public func recordTrainingCheckpoint(_ checkpoint: TrainingCheckpoint, runID: String) async throws -> Bool {
        try checkWritable()
        return try await database.write { db in
            try db.execute(
                sql: """
                    INSERT INTO \(TrainingCheckpointsTable.name) (run_id, step, path, saved_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT(run_id, path) DO NOTHING
                    """,
                arguments: [runID, checkpoint.step, checkpoint.path, checkpoint.savedAt])
            return db.changesCount > 0
        }
    }

    public func trainingCheckpoints(runID: String) async throws -> [TrainingCheckpoint] {
        if isClosed { return [] }
        return try await database.read { db in
            // A 0.5.1 database opened read-only has no such table: it knows no checkpoints.
            guard try db.tableExists(TrainingCheckpointsTable.name) else { return [] }
            return try Row.fetchAll(
                db,
                sql: "SELECT step, path, saved_at FROM \(TrainingCheckpointsTable.name) WHERE run_id = ? ORDER BY step, path",
                arguments: [runID]
            ).map { TrainingCheckpoint(step: $0["step"], path: $0["path"], savedAt: $0["saved_at"]) }
        }
    }

    public func recordAlertAction(_ action: AlertActionRecord) async throws {
        try checkWritable()
        try await database.write { db in
            try db.execute(
                sql: """
                    INSERT INTO \(AlertActionsTable.name)
                        (run_id, time, action, actor, step, detector, severity, reason, result, output)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    action.runID, action.time, action.action, action.actor, action.step, action.detector,
                    action.severity, action.reason, action.result, action.output,
                ])
        }
    }

    public func alertActions(runID: String) async throws -> [AlertActionRecord] {
        if isClosed { return [] }
        return try await database.read { db in
            guard try db.tableExists(AlertActionsTable.name) else { return [] }
            return try Row.fetchAll(
                db, sql: "SELECT \(AlertActionsTable.columns) FROM \(AlertActionsTable.name) WHERE run_id = ? ORDER BY id",
                arguments: [runID]
            ).map(AlertActionsTable.decode)
        }
    }
}
