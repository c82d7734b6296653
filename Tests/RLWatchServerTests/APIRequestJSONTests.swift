import Foundation
import RLWatchCore
import RLWatchServer
import RLWatchStore
import RLWatchTesting
import Testing

/// Request bodies other than step batches (`POST /runs`, checkpoints, actions, crash reports) are strict JSON read by
/// the shared `JSONReader` into `JSONValue` (issue 16): what each rejection names, and that the order of keys does
/// not make two runs' overrides differ.
@Suite("API request bodies: strict JSON")
struct APIRequestJSONTests {
    static func post(_ client: HTTPTestClient, _ path: String, _ body: String) async throws -> HTTPTestClient.Reply {
        try await client.post(path, body: Data(body.utf8), contentType: "application/json")
    }

    /// The error object of a 400 answer.
    static func error(_ reply: HTTPTestClient.Reply) -> [String: Any] {
        #expect(reply.status == 400, "\(reply)")
        return reply.object?["error"] as? [String: Any] ?? [:]
    }

    @Test func aNaNTokenIsA400NamingItsLineAndColumn() async throws {
        try await withServer(store: InMemoryStore()) { client in
            let body = "{\"run_id\": \"nan\",\n \"config\": {\"kl_explosion\": {\"sigma_multiplier\": NaN}}}"
            let open = Self.error(try await Self.post(client, "/api/v1/runs", body))
            let message = try #require(open["message"] as? String)
            #expect(message.hasPrefix("the body is not valid JSON: "), "\(message)")
            #expect(message.hasSuffix("(line 2, column 50)"), "\(message)")
            #expect(try await client.get("/api/v1/runs/nan").status == 404, "nothing was opened")
            // Steps are the lenient body (a trainer's json.dumps writes NaN); every other body is strict.
            _ = try await client.post("/api/v1/runs", json: ["run_id": "r"])
            for (path, body, token) in [
                ("/api/v1/runs/r/checkpoints", #"{"step": Infinity, "path": "out/ck"}"#, "Infinity"),
                ("/api/v1/runs/r/actions", #"{"action": "stop", "step": -Infinity}"#, "-Infinity"),
                ("/api/v1/runs/r/crash", #"{"exception_type": "ValueError", "exit_code": NaN}"#, "NaN"),
            ] {
                let message = Self.error(try await Self.post(client, path, body))["message"] as? String
                let column = body.distance(from: body.startIndex, to: try #require(body.range(of: token)).lowerBound) + 1
                #expect(message?.hasSuffix("(line 1, column \(column))") == true, "\(path): \(message ?? "")")
            }
            let steps = try await Self.post(client, "/api/v1/runs/r/steps", #"[{"step": 1, "loss": NaN}]"#)
            #expect(steps.status == 200, "\(steps)")
        }
    }

    @Test func aFloatForAnIntegerKeyIsA400NamingTheKey() async throws {
        try await withServer(store: InMemoryStore()) { client in
            // `30.0` is a float, as in YAML (JSONDecoder used to read it as the integer 30).
            for value in ["30.0", "30.5", "3e1"] {
                let body = #"{"run_id": "f", "config": {"kl_explosion": {"warmup_steps": \#(value)}}}"#
                let error = Self.error(try await Self.post(client, "/api/v1/runs", body))
                #expect(error["key"] as? String == "kl_explosion.warmup_steps", "\(value): \(error)")
                #expect((error["message"] as? String)?.contains("must be an integer") == true, "\(value): \(error)")
            }
            let dotted = Self.error(try await Self.post(client, "/api/v1/runs", #"{"config": {"dashboard.port": 8080.0}}"#))
            #expect(dotted["key"] as? String == "dashboard.port", "\(dotted)")
            let step = Self.error(try await Self.post(client, "/api/v1/runs/f/checkpoints", #"{"step": 12.0, "path": "p"}"#))
            #expect(step["field"] as? String == "step", "\(step)")
            #expect(try await client.get("/api/v1/runs/f").status == 404)
            let integer = try await Self.post(client, "/api/v1/runs", #"{"run_id": "f", "config": {"kl_explosion": {"warmup_steps": 30}}}"#)
            #expect(integer.status == 201, "\(integer)")
        }
    }

    @Test func aKeyGivenTwiceIsA400NamingItsPath() async throws {
        try await withServer(store: InMemoryStore()) { client in
            let top = Self.error(try await Self.post(client, "/api/v1/runs", #"{"run_id": "a", "run_id": "b"}"#))
            #expect(top["field"] as? String == "run_id", "\(top)")
            #expect((top["message"] as? String)?.contains("given twice") == true, "\(top)")
            let nested = Self.error(
                try await Self.post(
                    client, "/api/v1/runs",
                    #"{"run_id": "d", "config": {"kl_explosion": {"warmup_steps": 30, "enabled": true, "warmup_steps": 40}}}"#))
            #expect(nested["field"] as? String == "config.kl_explosion.warmup_steps", "\(nested)")
            let inArray = Self.error(
                try await Self.post(client, "/api/v1/runs", #"{"config": {"alerts.email.to_addrs": [{"a": 1, "a": 2}]}}"#))
            #expect(inArray["field"] as? String == "config.alerts.email.to_addrs[0].a", "\(inArray)")
            #expect(try await client.get("/api/v1/runs/a").status == 404)
            #expect(try await client.get("/api/v1/runs/d").status == 404)
        }
    }

    @Test func nestingIsParsedTo64LevelsAndRefusedBeyond() async throws {
        try await withServer(store: InMemoryStore()) { client in
            func body(depth: Int) -> String {
                // `config` is level 2, its value starts level 3.
                #"{"config": {"alerts.email.to_addrs": "# + String(repeating: "[", count: depth - 2) + "1"
                    + String(repeating: "]", count: depth - 2) + "}}"
            }
            let deepest = Self.error(try await Self.post(client, "/api/v1/runs", body(depth: 64)))
            #expect((deepest["key"] as? String)?.hasPrefix("alerts.email.to_addrs") == true, "parsed, then judged by the config: \(deepest)")
            let tooDeep = Self.error(try await Self.post(client, "/api/v1/runs", body(depth: 65)))
            #expect((tooDeep["message"] as? String)?.contains("nest deeper than 64 levels") == true, "\(tooDeep)")
            #expect((tooDeep["message"] as? String)?.hasSuffix("(line 1, column 100)") == true, "\(tooDeep)")
            // Far deeper input is refused the same way, without exhausting the server's stack.
            let hostile = Self.error(
                try await Self.post(client, "/api/v1/runs", String(repeating: "[", count: 200_000)))
            #expect((hostile["message"] as? String)?.contains("nest deeper than 64 levels") == true, "\(hostile)")
            #expect(try await client.get("/healthz").status == 200)
        }
    }

    @Test func overridesInAnotherKeyOrderAreTheSameLiveConfiguration() async throws {
        try await withServer(store: InMemoryStore()) { client in
            let first = #"{"run_id": "o", "config": {"kl_explosion": {"warmup_steps": 30, "sigma_multiplier": 4}, "loss_nan": {"enabled": false}}}"#
            #expect(try await Self.post(client, "/api/v1/runs", first).status == 201)
            let reordered = #"{"config": {"loss_nan": {"enabled": false}, "kl_explosion": {"sigma_multiplier": 4, "warmup_steps": 30}}, "run_id": "o"}"#
            let again = try await Self.post(client, "/api/v1/runs", reordered)
            #expect(again.status == 200 && again.object?["resumed"] as? Bool == true, "\(again)")
            let changed = #"{"run_id": "o", "config": {"kl_explosion": {"warmup_steps": 31, "sigma_multiplier": 4}, "loss_nan": {"enabled": false}}}"#
            #expect(try await Self.post(client, "/api/v1/runs", changed).status == 409)
        }
    }

    /// A database written by rlwatch 0.5.1 may hold Python's bare `NaN` in a run's config: the store reads it, but the
    /// API answer must stay strict JSON, so such a config is answered as a string.
    @Test func aStoredConfigThatIsNotStrictJSONIsAnsweredAsAString() async throws {
        let store = InMemoryStore()
        let config = #"{"kl_explosion": {"sigma_multiplier": NaN}}"#
        try await store.registerRun(RunRecord(runID: "old", framework: "trl", startedAt: 1, configJSON: config))
        try await store.registerRun(RunRecord(runID: "new", framework: "trl", startedAt: 1, configJSON: #"{"a": [1]}"#))
        try await withServer(store: store) { client in
            let old = try await client.get("/api/v1/runs/old")
            #expect(JSONReader.problem(in: old.text) == nil, "\(old)")
            #expect(old.object?["config"] as? String == config, "\(old)")
            let new = try await client.get("/api/v1/runs/new")
            #expect(new.text.hasSuffix(#","config":{"a": [1]}}"#), "\(new)")
        }
    }
}
