import Foundation
import Hummingbird
import RLWatch
import RLWatchCore
import RLWatchStore

/// Checkpoints and actions: `POST/GET /api/v1/runs/{run}/checkpoints`, `POST/GET /api/v1/runs/{run}/actions`.
extension APIRoutes {
    func registerActing(on router: Router<BasicRequestContext>) {
        router.post("/api/v1/runs/:run/checkpoints") { request, context in
            await self.answer(writing: true) { try await self.postCheckpoint(request, runID: Self.runID(context)) }
        }
        router.get("/api/v1/runs/:run/checkpoints") { _, context in
            await self.answer { try await self.getCheckpoints(runID: Self.runID(context)) }
        }
        router.post("/api/v1/runs/:run/actions") { request, context in
            await self.answer(writing: true) { try await self.postAction(request, runID: Self.runID(context)) }
        }
        router.get("/api/v1/runs/:run/actions") { _, context in
            await self.answer { try await self.getActions(runID: Self.runID(context)) }
        }
    }

    /// `{"step": 1200, "path": "out/checkpoint-1200"}`: a checkpoint the trainer saved.
    private func postCheckpoint(_ request: Request, runID: String) async throws -> Response {
        let object = try await jsonObject(request, fields: ["step", "path"])
        guard case .int(let step)? = object["step"], step >= 0 else {
            throw APIError.badRequest("step must be a non-negative integer", field: "step")
        }
        guard case .string(let path)? = object["path"], !path.isEmpty else {
            throw APIError.badRequest("path must be a non-empty string", field: "path")
        }
        guard try await store.run(id: runID) != nil else {
            throw APIError.notFound("run \(runID) not found; open it first with POST /api/v1/runs")
        }
        let checkpoint = TrainingCheckpoint(step: step, path: path, savedAt: registry.now)
        let isNew = try await store.recordTrainingCheckpoint(checkpoint, runID: runID)
        let answer: JSONValue = .object([
            ("run_id", .string(runID)), ("step", .int(step)), ("path", .string(path)), ("new", .bool(isNew)),
        ])
        return Self.json(answer.serialized(), status: isNew ? .created : .ok)
    }

    private func getCheckpoints(runID: String) async throws -> Response {
        guard try await store.run(id: runID) != nil else { throw APIError.notFound("run \(runID) not found") }
        let checkpoints = try await store.trainingCheckpoints(runID: runID)
        let answer: JSONValue = .object([
            ("run_id", .string(runID)), ("checkpoints", .array(checkpoints.map(APIJSON.checkpoint))),
        ])
        return Self.json(answer.serialized(), status: .ok)
    }

    /// `{"action": "stop", "step", "detector", "severity", "reason", "result"}`: what the client did about an alert.
    private func postAction(_ request: Request, runID: String) async throws -> Response {
        let fields = ["action", "step", "detector", "severity", "reason", "result"]
        let object = try await jsonObject(request, fields: fields)
        func text(_ key: String, required: Bool = true) throws -> String {
            switch object[key] {
            case .string(let value)? where !value.isEmpty: return value
            case nil, .null?: if !required { return "" }
            default: break
            }
            throw APIError.badRequest("\(key) must be a non-empty string", field: key)
        }
        let action = try text("action")
        guard ["stop", "save_and_stop", "none"].contains(action) else {
            throw APIError.badRequest("action must be stop, save_and_stop or none (got \"\(action)\")", field: "action")
        }
        guard case .int(let step)? = object["step"] else {
            throw APIError.badRequest("step must be an integer", field: "step")
        }
        guard try await store.run(id: runID) != nil else { throw APIError.notFound("run \(runID) not found") }
        let record = AlertActionRecord(
            runID: runID, time: registry.now, action: action, actor: "client", step: step,
            detector: try text("detector"), severity: try text("severity"), reason: try text("reason", required: false),
            result: try text("result", required: false).isEmpty ? "done" : try text("result"))
        try await store.recordAlertAction(record)
        return Self.json(APIJSON.action(record).serialized(), status: .created)
    }

    private func getActions(runID: String) async throws -> Response {
        guard try await store.run(id: runID) != nil else { throw APIError.notFound("run \(runID) not found") }
        let actions = try await store.alertActions(runID: runID)
        let answer: JSONValue = .object([("run_id", .string(runID)), ("actions", .array(actions.map(APIJSON.action)))])
        return Self.json(answer.serialized(), status: .ok)
    }

    /// The body as a JSON object with only `fields` in it.
    private func jsonObject(_ request: Request, fields: [String]) async throws -> [String: JSONValue] {
        let body = try await collect(request, upTo: 64 * 1024, advice: "send only the listed fields")
        return try Self.jsonObject(body, shape: "with \(fields.joined(separator: ", "))", fields: fields)
    }
}

extension APIJSON {
    static func checkpoint(_ checkpoint: TrainingCheckpoint) -> JSONValue {
        .object([
            ("step", .int(checkpoint.step)), ("path", .string(checkpoint.path)), ("name", .string(checkpoint.name)),
            ("saved_at", .double(checkpoint.savedAt)),
        ])
    }

    static func action(_ action: AlertActionRecord) -> JSONValue {
        .object([
            ("id", action.id.map { .int(Int($0)) } ?? .null), ("time", .double(action.time)),
            ("action", .string(action.action)), ("actor", .string(action.actor)), ("step", .int(action.step)),
            ("detector", .string(action.detector)), ("severity", .string(action.severity)),
            ("reason", .string(action.reason)), ("result", .string(action.result)), ("output", .string(action.output)),
        ])
    }

    /// What the client is to do about a delivered alert under `actions`, for the batch answer; nil for nothing.
    static func trainingAction(for alert: Alert, under actions: ActionsConfig) -> JSONValue? {
        let action = actions.trainingAction(for: alert)
        guard action != .none else { return nil }
        let overridden = actions.detectors[alert.detector.rawValue].map { !$0.isEmpty } ?? false
        return .object([
            ("kind", .string(action.rawValue)), ("dry_run", .bool(actions.dryRun)),
            (
                "reason",
                .string(
                    overridden
                        ? "actions.detectors.\(alert.detector.rawValue): \(action.rawValue)"
                        : "actions.on_critical: \(action.rawValue) (\(alert.severity.rawValue), min_severity \(actions.minSeverity))")
            ),
        ])
    }
}
