import PostgresNIO
import RLWatchCore
import RLWatchStore

extension PostgresStore {
    public func recordTrainingCheckpoint(_ checkpoint: TrainingCheckpoint, runID: String) async throws -> Bool {
        try await withConnection { connection in
            let inserted = try await rows(
                """
                INSERT INTO training_checkpoints (run_id, step, path, saved_at)
                VALUES (\(runID), \(Int64(checkpoint.step)), \(checkpoint.path), \(checkpoint.savedAt))
                ON CONFLICT (run_id, path) DO NOTHING RETURNING 1
                """, on: connection)
            return !inserted.isEmpty
        }
    }

    public func trainingCheckpoints(runID: String) async throws -> [TrainingCheckpoint] {
        try await withConnection { connection in
            try await rows(
                "SELECT step, path, saved_at FROM training_checkpoints WHERE run_id = \(runID) ORDER BY step, path",
                on: connection
            ).map { row in
                let (step, path, savedAt) = try row.decode((Int64, String, Double).self)
                return TrainingCheckpoint(step: Int(step), path: path, savedAt: savedAt)
            }
        }
    }

    public func recordAlertAction(_ action: AlertActionRecord) async throws {
        try await withConnection { connection in
            try await connection.query(
                """
                INSERT INTO alert_actions (run_id, time, action, actor, step, detector, severity, reason, result, output)
                VALUES (\(action.runID), \(action.time), \(action.action), \(action.actor), \(Int64(action.step)),
                        \(action.detector), \(action.severity), \(action.reason), \(action.result), \(action.output))
                """, logger: logger)
        }
    }

    public func alertActions(runID: String) async throws -> [AlertActionRecord] {
        try await withConnection { connection in
            try await rows(
                """
                SELECT id, time, action, actor, step, detector, severity, reason, result, output
                FROM alert_actions WHERE run_id = \(runID) ORDER BY id
                """, on: connection
            ).map { row in
                let cells = row.makeRandomAccess()
                return AlertActionRecord(
                    id: try cells[0].decode(Int64.self), runID: runID, time: try cells[1].decode(Double.self),
                    action: try cells[2].decode(String.self), actor: try cells[3].decode(String.self),
                    step: Int(try cells[4].decode(Int64.self)), detector: try cells[5].decode(String.self),
                    severity: try cells[6].decode(String.self), reason: try cells[7].decode(String.self),
                    result: try cells[8].decode(String.self), output: try cells[9].decode(String.self))
            }
        }
    }
}
