import Foundation
import RLWatchTesting
import Testing

/// `storage.retention_days`: `rlwatch db prune`, `rlwatch serve` and a following `rlwatch watch` delete old metric rows,
/// keeping runs and alerts.
@Suite("Retention (the binary)")
struct RetentionCLITests {
    @Test func pruneAndServeDeleteOldMetricRowsAndKeepRunsAndAlerts() async throws {
        let sandbox = try CLISandbox()
        try sandbox.write("rlwatch.yaml", "alerts:\n  cooldown_steps: 0\n")
        let first = try sandbox.start(["serve", "--port", "0", "--log-dir", "logs"])
        let client = HTTPTestClient(port: try await first.servePort(timeout: .seconds(90)))
        #expect(try await client.post("/api/v1/runs", json: ["run_id": "old"]).status == 201)
        var steps: [[String: Any]] = (1...30).map { ["step": $0, "loss": 0.3] }
        steps.append(["step": 31, "loss": "NaN"])
        #expect(try await client.post("/api/v1/runs/old/steps", json: steps).status == 200)
        #expect(try await first.stop(signal: SIGTERM).status == 0)

        // Age the first 10 rows by 10 days and the next 10 by 5 days, as if they had arrived then.
        try age(sandbox.url("logs/metrics.db").path, steps: 1...10, days: 10)
        try age(sandbox.url("logs/metrics.db").path, steps: 11...20, days: 5)

        let prune = try await sandbox.run(["db", "prune", "--days", "7", "--log-dir", "logs"])
        #expect(prune.status == 0 && prune.stdout.contains("Deleted 10 metric row(s) older than 7 day(s)"), "\(prune)")

        // serve with storage.retention_days prunes at start.
        try sandbox.write("rlwatch.yaml", "alerts:\n  cooldown_steps: 0\nstorage:\n  retention_days: 3\n")
        let second = try sandbox.start(["serve", "--port", "0", "--log-dir", "logs"])
        let again = HTTPTestClient(port: try await second.servePort(timeout: .seconds(90)))
        let deadline = ContinuousClock.now + .seconds(90)
        var remaining: [Int] = []
        repeat {
            let rows = try await again.get("/api/v1/runs/old/metrics?limit=100").object?["steps"] as? [[String: Any]] ?? []
            remaining = rows.compactMap { $0["step"] as? Int }
            if remaining.first == 21 { break }
            try await Task.sleep(for: .milliseconds(100))
        } while ContinuousClock.now < deadline
        #expect(remaining == Array(21...31))
        let run = try #require(try await again.get("/api/v1/runs/old").object)
        #expect(run["run_id"] as? String == "old" && run["alerts"] as? Int == 1)
        #expect(try await second.stop(signal: SIGTERM).status == 0)
    }

    /// A following watch runs the same retention service as serve, beside its dispatcher.
    @Test func aFollowingWatchPrunesOldRowsLikeServe() async throws {
        let sandbox = try CLISandbox()
        try sandbox.write("old.jsonl", (1...20).map { "{\"step\": \($0), \"loss\": 0.3}\n" }.joined())
        #expect(try await sandbox.run(["replay", "--run-id", "old", "--log-dir", "logs", "old.jsonl"]).status == 0)
        try age(sandbox.url("logs/metrics.db").path, steps: 1...10, days: 10)

        try sandbox.write("rlwatch.yaml", "storage:\n  retention_days: 3\n")
        try sandbox.write("live.jsonl", (1...5).map { "{\"step\": \($0), \"loss\": 0.3}\n" }.joined())
        let watch = try sandbox.start(["watch", "--follow", "--run-id", "live", "--log-dir", "logs", "live.jsonl"])
        // 20 old rows (10 of them aged) + 5 watched: 15 once the watch has pruned.
        let deadline = ContinuousClock.now + .seconds(60)
        var status = ""
        repeat {
            status = try await sandbox.run(["db", "status", "--log-dir", "logs"]).stdout
            if status.contains("metric rows: 15\n") { break }
            try await Task.sleep(for: .milliseconds(100))
        } while ContinuousClock.now < deadline
        #expect(status.contains("runs: 2") && status.contains("metric rows: 15\n"), "\(status)")
        #expect(try await watch.stop(signal: SIGTERM).status == 0)
    }

    /// Moves the arrival time of some rows back, with Python's sqlite3 (the tests do not link GRDB).
    private func age(_ database: String, steps: ClosedRange<Int>, days: Int) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c",
            """
            import sqlite3, sys
            db = sqlite3.connect(sys.argv[1])
            db.execute("UPDATE metrics SET timestamp = timestamp - ? WHERE step BETWEEN ? AND ?",
                       (int(sys.argv[4]) * 86400, int(sys.argv[2]), int(sys.argv[3])))
            db.commit()
            """,
            database, String(steps.lowerBound), String(steps.upperBound), String(days),
        ]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CLIHarnessError(description: "could not age rows of \(database)") }
    }
}
