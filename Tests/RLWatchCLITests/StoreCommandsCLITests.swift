import Foundation
import Testing

/// `runs`, `diagnose` and `demo`.
@Suite struct StoreCommandsCLITests {
    @Test func runsWithoutADatabaseExits1() async throws {
        let sandbox = try CLISandbox()
        let result = try await sandbox.run(["runs"])
        #expect(result.exited && result.status == 1, "\(result)")
        #expect(result.stderr.contains("No rlwatch database found at"), "\(result)")
        #expect(!sandbox.exists("rlwatch_logs"), "runs created the log dir")
    }

    /// With no database in `./rlwatch_logs`, `runs`, `diagnose` and `alerts` look where a default `serve`, `watch`
    /// or `replay` run from a directory above (or the home directory) stored, and say which database they read;
    /// with several, they say which one they read and which others exist; with none, where they looked.
    @Test func readCommandsFindTheStoreAndSayWhichTheyUsed() async throws {
        let sandbox = try CLISandbox()
        try sandbox.write("metrics.jsonl", MetricsFiles.healthy)
        let above = sandbox.root.appendingPathComponent("rlwatch_logs").path
        let none = try await sandbox.run(["runs"])
        #expect(none.status == 1, "\(none)")
        #expect(none.stderr.contains("Looked in: \(sandbox.work.path)/rlwatch_logs/metrics.db, \(above)/metrics.db"), "\(none)")

        #expect(try await sandbox.run(["replay", "--run-id", "above", "--log-dir", above, "metrics.jsonl"]).status == 0)
        for command in [["runs"], ["diagnose"], ["alerts"]] {
            let found = try await sandbox.run(command)
            #expect(found.status == 0, "\(found)")
            #expect(found.stderr.contains("no database at \(sandbox.work.path)/rlwatch_logs/metrics.db; reading \(above)/metrics.db"), "\(found)")
        }
        #expect(try await sandbox.run(["runs"]).stdout.contains("above"))

        #expect(try await sandbox.run(["replay", "--run-id", "here", "metrics.jsonl"]).status == 0)
        let both = try await sandbox.run(["runs"])
        #expect(both.stdout.contains("here") && !both.stdout.contains("above"), "\(both)")
        #expect(both.stderr.contains("reading \(sandbox.work.path)/rlwatch_logs/metrics.db; other rlwatch databases: \(above)/metrics.db"), "\(both)")
        // Named explicitly: no search, no note.
        let named = try await sandbox.run(["runs", "--log-dir", above])
        #expect(named.stdout.contains("above") && named.stderr.isEmpty, "\(named)")
    }

    /// `db status` names the database and its schema version for SQLite as for PostgreSQL.
    @Test func dbStatusNamesTheSchemaVersionOfAnSQLiteFile() async throws {
        let sandbox = try CLISandbox()
        try sandbox.write("metrics.jsonl", MetricsFiles.healthy)
        #expect(try await sandbox.run(["replay", "--run-id", "known", "metrics.jsonl"]).status == 0)
        let status = try await sandbox.run(["db", "status"])
        #expect(status.status == 0, "\(status)")
        #expect(status.stdout.contains("database: \(sandbox.work.path)/rlwatch_logs/metrics.db"), "\(status)")
        #expect(status.stdout.contains("schema version: 5 (this rlwatch: 5)"), "\(status)")
        #expect(status.stdout.contains("runs: 1"), "\(status)")
    }

    @Test func diagnoseWithoutADatabaseExits1() async throws {
        let sandbox = try CLISandbox()
        let result = try await sandbox.run(["diagnose"])
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr.contains("No rlwatch database found at"), "\(result)")
    }

    @Test func diagnoseUnknownRunExits1() async throws {
        let sandbox = try CLISandbox()
        try sandbox.write("metrics.jsonl", MetricsFiles.healthy)
        let replay = try await sandbox.run(["replay", "--run-id", "known", "metrics.jsonl"])
        #expect(replay.status == 0, "\(replay)")
        let result = try await sandbox.run(["diagnose", "--run-id", "nope"])
        #expect(result.exited && result.status == 1, "\(result)")
        #expect(result.stderr.contains("Run nope not found."), "\(result)")
    }

    @Test func diagnoseFormats() async throws {
        let sandbox = try CLISandbox()
        try sandbox.write("metrics.jsonl", MetricsFiles.nanAndSpike)
        let replay = try await sandbox.run(["replay", "--run-id", "r1", "metrics.jsonl"])
        #expect(replay.status == 0, "\(replay)")

        let markdown = try await sandbox.run(["diagnose", "--run-id", "r1", "--format", "markdown"])
        #expect(markdown.status == 0, "\(markdown)")
        #expect(markdown.stdout.hasPrefix("# rlwatch diagnosis: `r1`"), "\(markdown)")
        #expect(markdown.stdout.contains("## Alerts"), "\(markdown)")
        #expect(markdown.stdout.contains("| 61 | loss_nan | critical | delivered |"), "\(markdown)")
        #expect(markdown.stdout.contains("**Last healthy step:** 60"), "\(markdown)")

        let text = try await sandbox.run(["diagnose", "--run-id", "r1"])
        #expect(text.status == 0, "\(text)")
        #expect(text.stdout.contains("Health:     CRITICAL"), "\(text)")
        #expect(text.stdout.contains("last healthy step: step 60"), "\(text)")

        // Without --run-id: the latest (here the only) run.
        let latest = try await sandbox.run(["diagnose", "--format", "json"])
        #expect(try jsonObject(latest.stdout)["run_id"] as? String == "r1", "\(latest)")
    }

    @Test func demoWithoutStoreCatchesTheCollapse() async throws {
        let sandbox = try CLISandbox()
        let result = try await sandbox.run(["demo", "--steps", "400", "--no-store"])
        #expect(result.status == 0, "\(result)")
        #expect(result.stderr.contains("rlwatch CRITICAL: entropy_collapse"), "\(result)")
        #expect(result.stdout.contains("rlwatch Diagnosis Report"), "\(result)")
        #expect(result.stdout.contains("CRITICAL"), "\(result)")
        #expect(!result.stderr.contains("\u{1B}["), "colour despite NO_COLOR")
        #expect(!sandbox.exists("rlwatch_logs"), "--no-store created the log dir")
    }

    @Test func demoStoresARunThatRunsLists() async throws {
        let sandbox = try CLISandbox()
        let demo = try await sandbox.run(["demo", "--steps", "400"])
        #expect(demo.status == 0, "\(demo)")
        let idLine = try #require(demo.stderr.split(separator: "\n").first { $0.hasPrefix("run id: ") }, "\(demo)")
        let runID = try #require(idLine.dropFirst("run id: ".count).split(separator: " ").first.map(String.init))
        #expect(runID.hasPrefix("demo_"), "\(demo)")
        #expect(demo.stdout.contains("rlwatch diagnose --run-id \(runID)"), "\(demo)")

        let runs = try await sandbox.run(["runs"])
        #expect(runs.status == 0, "\(runs)")
        let row = try #require(runs.stdoutLines.first { $0.hasPrefix(runID) }, "\(runs)")
        #expect(row.contains("manual") && row.contains("400") && row.hasSuffix("critical"), "\(row)")

        let diagnose = try await sandbox.run(["diagnose", "--format", "json"])
        let report = try jsonObject(diagnose.stdout)
        #expect(report["run_id"] as? String == runID)
        #expect(report["total_steps"] as? Int == 400)
        #expect((report["detectors_triggered"] as? [String])?.contains("entropy_collapse") == true, "\(diagnose)")
    }
}
