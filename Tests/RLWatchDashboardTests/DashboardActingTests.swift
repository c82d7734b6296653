import Foundation
import RLWatchCore
import RLWatchSQLite
import RLWatchStore
import Testing

/// Checkpoints and actions through a real `rlwatch serve` on an SQLite store: the API stores and lists them, alerts
/// in the batch answer name where to resume and what the client is to do, and the run page shows all of it.
@Suite struct DashboardActingTests {
    static func row(_ step: Int) -> [String: Any] {
        ["step": step, "entropy": step >= 30 ? 0.5 : 2.0 + 0.01 * Double(step % 3), "loss": 0.3]
    }

    @Test func checkpointsResumeFromAndActionsThroughTheAPIAndTheRunPage() async throws {
        try await withSQLiteStore { store, _ in
            try await withServe(store: store) { client in
                let config: [String: Any] = [
                    "entropy_collapse": ["consecutive_steps": 10, "warmup_steps": 5, "baseline_window": 5],
                    "actions": ["on_critical": "save_and_stop"],
                ]
                #expect(try await client.post("/api/v1/runs", json: ["run_id": "r", "config": config]).status == 201)
                _ = try await client.post("/api/v1/runs/r/steps", json: (1...20).map(Self.row))
                let saved = try await client.post("/api/v1/runs/r/checkpoints", json: ["step": 20, "path": "/o/checkpoint-20"])
                #expect(saved.status == 201 && saved.object?["new"] as? Bool == true, "\(saved.text)")
                #expect(try await client.post("/api/v1/runs/r/checkpoints", json: ["step": 20, "path": "/o/checkpoint-20"]).status == 200)
                let bad = try await client.post("/api/v1/runs/r/checkpoints", json: ["step": "20", "path": "/o"])
                #expect(bad.status == 400 && bad.text.contains("step"), "\(bad.text)")
                let missing = try await client.post("/api/v1/runs/nope/checkpoints", json: ["step": 1, "path": "/o"])
                #expect(missing.status == 404)

                let answer = try await client.post("/api/v1/runs/r/steps", json: (21...45).map(Self.row))
                let alerts = try #require(answer.object?["alerts"] as? [[String: Any]], "\(answer.text)")
                let critical = try #require(alerts.first { $0["severity"] as? String == "critical" }, "\(answer.text)")
                let values = try #require(critical["metric_values"] as? [String: Any])
                #expect(values["resume_from"] as? String == "/o/checkpoint-20")
                #expect(values["resume_from_step"] as? Int == 20)
                let action = try #require(critical["action"] as? [String: Any], "\(critical)")
                #expect(action["kind"] as? String == "save_and_stop" && action["dry_run"] as? Bool == false)
                // Warnings are below the default min_severity: no action.
                #expect(alerts.filter { $0["severity"] as? String == "warning" }.allSatisfy { $0["action"] == nil })

                let reported = try await client.post(
                    "/api/v1/runs/r/actions",
                    json: ["action": "save_and_stop", "step": 39, "detector": "entropy_collapse", "severity": "critical",
                           "reason": "actions.on_critical: save_and_stop", "result": "done"])
                #expect(reported.status == 201, "\(reported.text)")
                let listed = try await client.get("/api/v1/runs/r/checkpoints")
                #expect((listed.object?["checkpoints"] as? [[String: Any]])?.first?["name"] as? String == "checkpoint-20")
                let actions = try await client.get("/api/v1/runs/r/actions")
                #expect((actions.object?["actions"] as? [[String: Any]])?.first?["actor"] as? String == "client")

                let page = try await client.get("/run?id=r")
                #expect(page.status == 200)
                #expect(page.text.contains("checkpoint-20 (step 20)"), "run page names the checkpoint")
                #expect(page.text.contains("resume from <strong>checkpoint-20 (step 20)</strong>"))
                #expect(page.text.contains("id=\"actions-table\""))
                #expect(page.text.contains("\"checkpoints\":[{\"run\":0,\"step\":20"))
            }
        }
    }

    @Test func aClientCannotSetTheServersCommand() async throws {
        try await withServe(store: InMemoryStore()) { client in
            let refused = try await client.post(
                "/api/v1/runs", json: ["run_id": "r", "config": ["actions": ["command": ["rm", "-rf", "/"]]]])
            #expect(refused.status == 400 && refused.text.contains("actions.command"), "\(refused.text)")
        }
    }
}
