import Foundation
import Hummingbird
import Logging
import NIOCore
import RLWatch
import RLWatchCore
import RLWatchDashboard
import RLWatchIngest
import RLWatchStore

/// The handlers of the versioned JSON API under `/api/v1`, plus `/healthz`, `/metrics` and the OpenAPI document.
struct APIRoutes: Sendable {
    let registry: RunRegistry
    let metrics: ServerMetrics
    let decoder: StepBatchDecoder
    let maxBodyBytes: Int
    let logger: Logger
    /// Watches the runs for silence and slowdowns; nil when the server runs without one (some tests).
    var liveness: ServerWatchdog? = nil
    /// The server's open connections, for `/metrics`; nil when the server runs without a cap (some tests).
    var connections: ConnectionRegistry? = nil
    /// Whether the last write reached the store, for `/healthz`.
    var storeHealth = StoreHealth()

    var store: any Store { registry.options.store }

    /// The most rows `GET …/metrics` returns per request, and its default page size.
    static let maxPage = 10_000
    static let defaultPage = 1_000

    func register(on router: Router<BasicRequestContext>) {
        router.get("/healthz") { _, _ in self.health() }
        router.get("/metrics") { _, _ in
            self.metrics.setOpenRuns(self.registry.liveCount)
            if let connections = self.connections { self.metrics.setConnections(connections) }
            return Self.text(self.metrics.render(), contentType: "text/plain; version=0.0.4; charset=utf-8")
        }
        router.get("/api/v1/openapi.json") { _, _ in Self.json(OpenAPIDocument.text, status: .ok) }
        router.post("/api/v1/runs") { request, _ in await self.answer(writing: true) { try await self.openRun(request) } }
        router.get("/api/v1/runs") { _, _ in await self.answer { try await self.listRuns() } }
        router.get("/api/v1/runs/:run") { _, context in
            await self.answer { try await self.getRun(Self.runID(context)) }
        }
        router.post("/api/v1/runs/:run/steps") { request, context in
            await self.answer(writing: true) { try await self.postSteps(request, runID: Self.runID(context)) }
        }
        router.get("/api/v1/runs/:run/metrics") { request, context in
            await self.answer { try await self.getMetrics(request, runID: Self.runID(context)) }
        }
        router.get("/api/v1/runs/:run/alerts") { request, context in
            await self.answer { try await self.getAlerts(request, runID: Self.runID(context)) }
        }
        router.post("/api/v1/runs/:run/finish") { _, context in
            await self.answer(writing: true) { try await self.finish(runID: Self.runID(context)) }
        }
        router.post("/api/v1/runs/:run/crash") { request, context in
            await self.answer(writing: true) { try await self.crash(request, runID: Self.runID(context)) }
        }
        registerActing(on: router)
    }

    /// The `{run}` path segment, percent-decoded: clients encode spaces, non-ASCII and reserved characters
    /// (the Python client quotes every segment), and the router hands the segment over as it was sent.
    static func runID(_ context: BasicRequestContext) throws -> String {
        let raw = try context.parameters.require("run")
        guard let decoded = raw.removingPercentEncoding else {
            throw APIError.badRequest("the run id in the path is not valid percent-encoding: \(raw)")
        }
        return decoded
    }

    // MARK: Handlers

    private func openRun(_ request: Request) async throws -> Response {
        let body = try await collect(request)
        var runID: String?
        var framework: String?
        var overrides: [String: JSONValue] = [:]
        if body.readableBytes > 0 {
            let object = try Self.jsonObject(
                body, shape: #"{"run_id", "framework", "config"}"#, fields: ["run_id", "framework", "config"])
            switch object["run_id"] {
            case nil, .null: break
            case .string(let id): runID = id
            default: throw APIError.badRequest("run_id must be a string", field: "run_id")
            }
            switch object["framework"] {
            case nil, .null: break
            case .string(let name):
                guard ["auto", "trl", "verl", "openrlhf", "manual"].contains(name) else {
                    throw APIError.badRequest(
                        "framework must be one of auto, trl, verl, openrlhf, manual (got \"\(name)\")", field: "framework")
                }
                framework = name
            default: throw APIError.badRequest("framework must be a string", field: "framework")
            }
            switch object["config"] {
            case nil, .null: break
            case .object(let config): overrides = Dictionary(config) { _, last in last }
            default: throw APIError.badRequest("config must be an object shaped like rlwatch.yaml", field: "config")
            }
            // A client may choose how its own training reacts, never what the server executes.
            if case .object(let actions)? = overrides["actions"], actions.contains(where: { $0.0 == "command" || $0.0 == "shell" }) {
                throw APIError.badRequest(
                    "config.actions.command and config.actions.shell can only be set in the server's rlwatch.yaml",
                    field: "config.actions")
            }
        }
        let opened = try await registry.open(runID: runID, framework: framework, overrides: overrides)
        let progress = opened.session.monitor.progress
        let answer: JSONValue = .object([
            ("run_id", .string(opened.session.runID)),
            ("resumed", .bool(opened.resumed)),
            ("steps", .int(progress.steps)),
            ("last_step", progress.lastStep.map(JSONValue.int) ?? .null),
        ])
        return Self.json(answer.serialized(), status: opened.resumed ? .ok : .created)
    }

    private func postSteps(_ request: Request, runID: String) async throws -> Response {
        let format = StepBatchDecoder.format(contentType: request.headers[.contentType])
        let body = try await collect(request)
        let steps: [MetricStep]
        do {
            steps = try decoder.decode(Array(body.readableBytesView), format: format)
        } catch {
            metrics.rejected()
            throw error
        }
        let key = request.headers.first { $0.name.canonicalName == "idempotency-key" }
            .flatMap { $0.value.isEmpty ? nil : String($0.value.prefix(200)) }
        let bytes = Array(body.readableBytesView)
        let outcome = try await ingest(steps, runID: runID, key: key) { StepBatchDecoder.loggedKeys(bytes, format: format) }
        if outcome.replayed {
            metrics.replayed()
        } else {
            metrics.accepted(steps: steps.count, alerts: outcome.alerts)
        }
        return Self.json(outcome.body, status: .ok)
    }

    /// Judges and stores a batch in the run's session, under its lock; looks the run up again if the session it got
    /// was retired meanwhile (finished, evicted).
    /// - Parameter loggedKeys: the keys the batch's first step logged, read only for the run's first batch: the
    ///   server then says which key feeds which metric (as `watch` does), so a live user sees the mapping too.
    private func ingest(_ steps: [MetricStep], runID: String, key: String?, loggedKeys: () -> [String]) async throws
        -> (body: String, replayed: Bool, alerts: [Alert])
    {
        let store = store
        for _ in 0..<3 {
            guard let session = try await registry.session(for: runID) else {
                metrics.rejected()
                throw APIError.notFound("run \(runID) not found; open it first with POST /api/v1/runs")
            }
            let outcome: (body: String, replayed: Bool, alerts: [Alert])? = try await session.lock.run {
                if session.isRetired { return nil }
                session.touch(now: registry.now)
                // The receipt check and the batch run as one unit among every server sharing the store (see
                // `RunRegistry.serialized`): two servers cannot both apply a re-sent batch.
                let judged: (replayed: String?, outcomes: [AlertOutcome], reusedKey: Bool)
                let digest = Self.batchDigest(steps)
                do {
                    judged = try await registry.serialized(session) {
                        if let key, let receipt = try await store.receipt(runID: runID, key: key) {
                            // A receipt from before digests were kept matches any batch, as it always did.
                            if let stored = receipt.batchDigest, stored != digest { return (nil, [], true) }
                            return (receipt.response, [], false)
                        }
                        // Steps that repeat the run's latest ones value for value are a retry without a key:
                        // neither stored nor judged again.
                        let outcomes = try await session.pipeline.judge(
                            steps,
                            receipt: key.map { key in
                                { outcomes in
                                    BatchReceipt(
                                        runID: runID, key: key,
                                        response: Self.batchAnswer(
                                            runID: runID, steps: steps, outcomes: outcomes,
                                            actions: session.monitor.config.actions),
                                        batchDigest: digest)
                                }
                            }, skippingRepeats: true)
                        return (nil, outcomes, false)
                    }
                } catch {
                    // The detectors have seen steps that were not stored: reload them from the store next time.
                    registry.evict(session)
                    logger.error("could not store a batch of \(steps.count) step(s) for run \(runID): \(error)")
                    let summary = StorageFailure.summary(of: error) ?? "the store failed"
                    storeHealth.writeFailed(summary, at: registry.now)
                    throw APIError.storeUnavailable(summary, doing: "the batch could not be stored (nothing of it was kept)")
                }
                if judged.reusedKey, let key {
                    metrics.rejected()
                    throw APIError(
                        status: 422,
                        message: "Idempotency-Key \"\(key)\" was already used for a different batch of run \(runID); "
                            + "nothing of this batch was stored: send new steps with a new key")
                }
                if let replayed = judged.replayed { return (replayed, true, []) }
                let outcomes = judged.outcomes
                if !steps.isEmpty, session.claimKeyNote() {
                    logger.info("run \(runID): metrics: \(MetricKeyMap.builtIn.describeSources(forKeys: loggedKeys()))")
                }
                await livenessAfterBatch(steps, session: session)
                let delivered = outcomes.filter { $0.disposition.isDelivered }.map(\.alert)
                return (
                    Self.batchAnswer(runID: runID, steps: steps, outcomes: outcomes, actions: session.monitor.config.actions),
                    false, delivered
                )
            }
            if let outcome { return outcome }
        }
        throw APIError(status: 503, message: "run \(runID) was being closed or reloaded; retry", retryAfter: 1)
    }

    /// A digest of a batch's steps, value for value: the same steps sent again (a retry) have the same digest whatever
    /// their format or the way their numbers were written; other steps have another. It folds the steps'
    /// fingerprints in order, so it tells an accidentally reused key from a retry; it is not a defence against a
    /// client that holds the write token and crafts collisions (such a client can send anything anyway).
    static func batchDigest(_ steps: [MetricStep]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for step in steps {
            hash = (hash ^ step.fingerprint) &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return "v1-\(steps.count)-" + String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// `{"run_id", "accepted", "last_step", "alerts": [delivered alerts], "suppressed"}`.
    ///
    /// An alert that `actions` (the run's `actions:` section) says to act on carries `"action": {"kind", "dry_run",
    /// "reason"}`: the Python client stops or checkpoints training on it.
    static func batchAnswer(
        runID: String, steps: [MetricStep], outcomes: [AlertOutcome], actions: ActionsConfig = ActionsConfig()
    ) -> String {
        let delivered = outcomes.filter { $0.disposition.isDelivered }
        let alerts: [JSONValue] = delivered.map { outcome in
            guard let action = APIJSON.trainingAction(for: outcome.alert, under: actions),
                case .object(let members) = outcome.alert.json
            else { return outcome.alert.json }
            return .object(members + [("action", action)])
        }
        let answer: JSONValue = .object([
            ("run_id", .string(runID)),
            ("accepted", .int(steps.count)),
            ("last_step", steps.last.map { .int($0.step) } ?? .null),
            ("alerts", .array(alerts)),
            ("suppressed", .int(outcomes.count - delivered.count)),
        ])
        return answer.serialized()
    }

    private func listRuns() async throws -> Response {
        let runs = try await store.runs()
        return Self.json(JSONValue.object([("runs", .array(runs.map { APIJSON.run($0) }))]).serialized(), status: .ok)
    }

    private func getRun(_ runID: String) async throws -> Response {
        guard let run = try await store.run(id: runID) else { throw APIError.notFound("run \(runID) not found") }
        let steps = try await store.stepCount(runID: runID)
        let alerts = try await store.alerts(runID: runID, filter: .delivered)
        var object = APIJSON.run(run, steps: steps)
        if case .object(var members) = object {
            members.append(("alerts", .int(alerts.count)))
            members.append(("critical_alerts", .int(alerts.count { $0.alert.severity == .critical })))
            object = .object(members)
        }
        return Self.json(Self.appending(config: run.configJSON, to: object.serialized()), status: .ok)
    }

    private func getMetrics(_ request: Request, runID: String) async throws -> Response {
        guard try await store.run(id: runID) != nil else { throw APIError.notFound("run \(runID) not found") }
        let query = request.uri.queryParameters
        let since = try Self.integer(query["since_step"].map(String.init), name: "since_step")
        let limit = try Self.integer(query["limit"].map(String.init), name: "limit") ?? Self.defaultPage
        guard limit >= 1 else { throw APIError.badRequest("limit must be at least 1", field: "limit") }
        let page = min(limit, Self.maxPage)
        // One extra row tells whether there is more.
        let rows = try await store.steps(runID: runID, sinceStep: since, limit: page + 1)
        let shown = rows.prefix(page)
        let answer: JSONValue = .object([
            ("run_id", .string(runID)),
            ("steps", .array(shown.map(APIJSON.step))),
            ("truncated", .bool(rows.count > page)),
        ])
        return Self.json(answer.serialized(), status: .ok)
    }

    private func getAlerts(_ request: Request, runID: String) async throws -> Response {
        guard try await store.run(id: runID) != nil else { throw APIError.notFound("run \(runID) not found") }
        let query = request.uri.queryParameters
        let since = try Self.integer(query["since_step"].map(String.init), name: "since_step")
        let filter: AlertFilter
        switch query["status"].map(String.init) {
        case nil, "delivered": filter = .delivered
        case "suppressed": filter = .suppressed
        case "all": filter = .all
        case let other?:
            throw APIError.badRequest("status must be delivered, suppressed or all (got \"\(other)\")", field: "status")
        }
        var records = try await store.alerts(runID: runID, filter: filter)
        if let since { records = records.filter { $0.alert.step >= since } }
        let answer: JSONValue = .object([("run_id", .string(runID)), ("alerts", .array(records.map(APIJSON.alert)))])
        return Self.json(answer.serialized(), status: .ok)
    }

    private func finish(runID: String) async throws -> Response {
        let now = registry.now
        if let session = try await registry.liveSession(runID) {
            // After the batches in flight, and retired so that a later batch reopens the run from the store.
            try await session.lock.run {
                try await store.finishRun(id: runID, at: now)
                registry.evict(session)
            }
        } else if try await store.run(id: runID) != nil {
            // Not in memory: no need to replay its history just to close it.
            try await store.finishRun(id: runID, at: now)
        } else {
            throw APIError.notFound("run \(runID) not found")
        }
        // After the batches queued before it: a closed run is never reported stalled.
        liveness?.finished(runID: runID)
        let answer: JSONValue = .object([("run_id", .string(runID)), ("finished_at", .double(now))])
        return Self.json(answer.serialized(), status: .ok)
    }

    // MARK: Helpers

    /// The request's body, or a 413 when it is longer than `limit` (the server's `--max-body-mb` unless given).
    ///
    /// - Parameters:
    ///   - limit: the most bytes accepted.
    ///   - advice: what to do instead, for the 413's message.
    func collect(
        _ request: Request, upTo limit: Int? = nil,
        advice: String = "send smaller batches (or raise --max-body-mb)"
    ) async throws -> ByteBuffer {
        let limit = limit ?? maxBodyBytes
        do {
            return try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            metrics.rejected()
            throw APIError(status: 413, message: "the body is larger than \(limit) bytes; \(advice)")
        }
    }

    /// `ok`, or a 503 that says since when the store has refused writes (a retrying client's next write that
    /// succeeds makes it `ok` again).
    private func health() -> Response {
        guard let failure = storeHealth.current else { return Self.text("ok\n") }
        let since = Date(timeIntervalSince1970: failure.since).formatted(.iso8601)
        var response = Self.text("store unwritable since \(since): \(failure.summary)\n")
        response.status = .serviceUnavailable
        return response
    }

    /// Runs a handler and turns its errors into JSON answers.
    ///
    /// A failure of the store is a 503 with `Retry-After` and a few words on what failed: the SQL statement and the
    /// store's own message stay in the server's log, as they can quote other runs' data.
    /// - Parameter writing: the handler writes to the store: its outcome says whether the store is writable
    ///   (`/healthz`).
    func answer(writing: Bool = false, _ handler: () async throws -> Response) async -> Response {
        do {
            let response = try await handler()
            if writing { storeHealth.writeSucceeded() }
            return response
        } catch let error as APIError {
            return Self.json(error)
        } catch let error as HTTPError {
            return Self.json(APIError(status: Int(error.status.code), message: error.body ?? "\(error.status)"))
        } catch {
            logger.error("request failed: \(error)")
            if let summary = StorageFailure.summary(of: error) {
                if writing { storeHealth.writeFailed(summary, at: registry.now) }
                return Self.json(.storeUnavailable(summary, doing: "the store failed"))
            }
            return Self.json(APIError(status: 500, message: "internal error (the server's log has the details)"))
        }
    }

    static func json(_ error: APIError) -> Response {
        var response = Self.json(error.json.serialized(), status: HTTPResponse.Status(code: error.status))
        if let retryAfter = error.retryAfter { response.headers[.retryAfter] = String(retryAfter) }
        return response
    }

    static func integer(_ text: String?, name: String) throws -> Int? {
        guard let text else { return nil }
        guard let value = Int(text) else { throw APIError.badRequest("\(name) must be an integer (got \"\(text)\")", field: name) }
        return value
    }

    /// Adds `"config"` to a serialized object: the stored config text as it is (already JSON, in the schema's key
    /// order, secrets redacted), or as a string when it is not valid JSON (a damaged or foreign database).
    static func appending(config text: String, to object: String) -> String {
        var config = ""
        if JSONReader.problem(in: text) == nil { config = text } else { JSONValue.writeString(text, to: &config) }
        return String(object.dropLast()) + ",\"config\":" + config + "}"
    }

    /// A request body as one strict JSON object (RFC 8259: a `NaN` token is an error here; only step batches
    /// are read leniently), its members by key.
    ///
    /// - Throws: ``APIError`` 400 naming the line and column of invalid JSON, a key given twice (by its dotted
    ///   path, at any depth: which one counts would be a guess), `shape` when the body is not an object, or with
    ///   `fields` the first member not among them.
    static func jsonObject(_ body: ByteBuffer, shape: String, fields: [String]? = nil) throws -> [String: JSONValue] {
        let value: JSONValue
        do {
            value = try JSONReader.parse(Array(body.readableBytesView), mode: .strict)
        } catch {
            throw APIError.badRequest("the body is not valid JSON: \(error)")
        }
        guard case .object(let members) = value else { throw APIError.badRequest("expected a JSON object \(shape)") }
        if let path = repeatedKey(in: value) { throw APIError.badRequest("`\(path)` is given twice", field: path) }
        if let fields, let key = members.first(where: { !fields.contains($0.0) })?.0 {
            throw APIError.badRequest(
                "unknown field `\(key)` (expected \(fields.joined(separator: ", ")))", field: key)
        }
        return value.members ?? [:]
    }

    /// The dotted path of the first key that an object in `value` repeats, or nil.
    private static func repeatedKey(in value: JSONValue, path: String = "") -> String? {
        switch value {
        case .object(let members):
            var seen = Set<String>()
            for (key, member) in members {
                let memberPath = path.isEmpty ? key : path + "." + key
                if !seen.insert(key).inserted { return memberPath }
                if let repeated = repeatedKey(in: member, path: memberPath) { return repeated }
            }
        case .array(let items):
            for (index, item) in items.enumerated() {
                if let repeated = repeatedKey(in: item, path: "\(path)[\(index)]") { return repeated }
            }
        case .null, .bool, .int, .double, .string: break
        }
        return nil
    }

    static func json(_ text: String, status: HTTPResponse.Status) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static func text(_ text: String, contentType: String = "text/plain; charset=utf-8") -> Response {
        Response(status: .ok, headers: [.contentType: contentType], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
