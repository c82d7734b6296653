import Foundation
import RLWatchTesting
import Testing

/// Which store a command uses: `--database`, `storage.url`, `RLWATCH_DATABASE_URL`, else the SQLite file.
@Suite("Store selection (the binary)")
struct StoreSelectionCLITests {
    @Test func aSqliteURLNamesTheFileServeUses() async throws {
        let sandbox = try CLISandbox()
        let server = try sandbox.start(["serve", "--port", "0", "--database", "sqlite:custom/store.db"])
        let client = HTTPTestClient(port: try await server.servePort(timeout: .seconds(90)))
        #expect(try await client.post("/api/v1/runs", json: ["run_id": "here"]).status == 201)
        let stopped = try await server.stop(signal: SIGTERM)
        #expect(stopped.exited && stopped.status == 0, "\(server.stderr)")
        #expect(sandbox.exists("custom/store.db"))
        #expect(!sandbox.exists("rlwatch_logs/metrics.db"))
        let runs = try await sandbox.run(["runs"], environment: ["RLWATCH_DATABASE_URL": "sqlite:custom/store.db"])
        #expect(runs.status == 0 && runs.stdout.contains("here"), "\(runs)")
    }

    @Test func aMalformedURLIsBadInputAndItsPasswordIsNeverPrinted() async throws {
        let sandbox = try CLISandbox()
        let other = try await sandbox.run(["serve", "--port", "0", "--database", "mysql://db/x"])
        #expect(other.status == 2 && other.stderr.contains("expected postgres://"), "\(other)")
        let typo = try await sandbox.run([
            "db", "status", "--database", "postgres://u:hunter2@127.0.0.1:1/db?sslmode=requir",
        ])
        #expect(typo.status == 2, "\(typo)")
        #expect(typo.stderr.contains("sslmode must be one of"), "\(typo)")
        #expect(!typo.stderr.contains("hunter2") && !typo.stdout.contains("hunter2"), "\(typo)")
        let fromEnvironment = try await sandbox.run(
            ["serve", "--port", "0"], environment: ["RLWATCH_DATABASE_URL": "postgres://u@h/db?ssl=1"])
        #expect(fromEnvironment.status == 2, "\(fromEnvironment)")
        #expect(fromEnvironment.stderr.contains("storage.url (env RLWATCH_DATABASE_URL)"), "\(fromEnvironment)")
    }

    @Test func writingAndReadingCommandsGoToTheConfiguredPostgreSQLDatabase() async throws {
        let sandbox = try CLISandbox()
        try sandbox.write("metrics.jsonl", "{\"step\": 1, \"loss\": 0.5}\n")
        let environment = ["RLWATCH_DATABASE_URL": "postgres://u@127.0.0.1:1/db"]
        // Every command goes to the database named, and says where it could not connect; none writes SQLite.
        for arguments in [
            ["demo", "--steps", "5"], ["replay", "metrics.jsonl"], ["watch", "--no-follow", "metrics.jsonl"], ["runs"],
        ] {
            let result = try await sandbox.run(arguments, environment: environment)
            #expect(result.status == 1 && result.stderr.contains("127.0.0.1:1"), "\(arguments): \(result)")
        }
        #expect(!sandbox.exists("rlwatch_logs/metrics.db"))
    }

    @Test(.enabled(if: PostgresFixture.isAvailable))
    func replayWatchAndDemoStoreIntoPostgreSQL() async throws {
        try await PostgresFixture.withDatabase { url in
            let sandbox = try CLISandbox()
            let migrated = try await sandbox.run(["db", "migrate", "--database", url])
            #expect(migrated.status == 0, "\(migrated)")
            let log = try String(contentsOfFile: WatchCLITests.veRL, encoding: .utf8)
            try sandbox.write("verl.jsonl", log)
            let steps = log.split(separator: "\n").count

            let replayed = try await sandbox.run(["replay", "--run-id", "shared-replay", "--database", url, "verl.jsonl"])
            #expect(replayed.status == 0, "\(replayed)")
            // The same replay twice into one run would mix its steps: refused, naming the database.
            let again = try await sandbox.run(["replay", "--run-id", "shared-replay", "--database", url, "verl.jsonl"])
            #expect(again.status == 2 && again.stderr.contains("already exists in postgres://"), "\(again)")
            let diagnosis = try jsonObject(
                try await sandbox.run(["diagnose", "--run-id", "shared-replay", "--format", "json", "--database", url]).stdout)
            #expect(diagnosis["total_steps"] as? Int == steps, "\(diagnosis)")
            // The replay's alerts are the stored run's.
            let text = try await sandbox.run(["diagnose", "--run-id", "shared-replay", "--database", url])
            #expect(replayed.stdout.contains("kl_explosion") && text.stdout.contains("kl_explosion"), "\(text)")

            // More steps than one stored batch: every batch is written.
            try sandbox.write("long.jsonl", (1...20_000).map { "{\"step\": \($0), \"entropy\": 1.0}\n" }.joined())
            let long = try await sandbox.run(["replay", "--run-id", "shared-long", "--database", url, "long.jsonl"])
            #expect(long.status == 0, "\(long)")
            let longDiagnosis = try jsonObject(
                try await sandbox.run(["diagnose", "--run-id", "shared-long", "--format", "json", "--database", url]).stdout)
            #expect(longDiagnosis["total_steps"] as? Int == 20_000, "\(longDiagnosis)")

            let watched = try await sandbox.run(
                ["watch", "--no-follow", "--run-id", "shared-watch", "verl.jsonl"], environment: ["RLWATCH_DATABASE_URL": url])
            #expect(watched.status == 0 && watched.stderr.contains("database postgres://"), "\(watched)")
            let demo = try await sandbox.run(["demo", "--steps", "300", "--run-id", "shared-demo", "--database", url])
            #expect(demo.status == 0, "\(demo)")
            let runs = try await sandbox.run(["runs", "--database", url])
            for run in ["shared-replay", "shared-watch", "shared-demo"] {
                #expect(runs.stdout.contains(run), "\(run): \(runs)")
            }
            let watchedDiagnosis = try jsonObject(
                try await sandbox.run(["diagnose", "--run-id", "shared-watch", "--format", "json", "--database", url]).stdout)
            #expect(watchedDiagnosis["total_steps"] as? Int == steps, "\(watchedDiagnosis)")
            #expect(!sandbox.exists("rlwatch_logs/metrics.db"))
        }
    }

    @Test(.enabled(if: PostgresFixture.isAvailable))
    func runsDiagnoseAndAlertsReadPostgreSQLAsTheyReadSQLite() async throws {
        try await PostgresFixture.withDatabase { url in
            let sandbox = try CLISandbox()
            let demo = try await sandbox.run(["demo", "--steps", "400", "--run-id", "shared-demo"])
            #expect(demo.status == 0, "\(demo)")
            let copied = try await sandbox.run(["migrate-store", "--from", "sqlite:rlwatch_logs/metrics.db", "--to", url])
            #expect(copied.status == 0, "\(copied)")
            for arguments in [["runs"], ["diagnose", "--run-id", "shared-demo", "--format", "json"], ["alerts"]] {
                let local = try await sandbox.run(arguments)
                let shared = try await sandbox.run(arguments + ["--database", url])
                #expect(local.status == 0 && shared.status == 0, "\(arguments): \(local) / \(shared)")
                #expect(shared.stdout == local.stdout, "\(arguments)")
            }
            let fromEnvironment = try await sandbox.run(["runs"], environment: ["RLWATCH_DATABASE_URL": url])
            #expect(fromEnvironment.stdout.contains("shared-demo"), "\(fromEnvironment)")
        }
    }

    @Test(.enabled(if: PostgresFixture.isAvailable))
    func serveTakesPostgreSQLFromTheEnvironmentAndRefusesAnUnmigratedDatabase() async throws {
        try await PostgresFixture.withDatabase { url in
            let sandbox = try CLISandbox()
            let environment = ["RLWATCH_DATABASE_URL": url]
            let refused = try await sandbox.run(["serve", "--port", "0"], environment: environment)
            #expect(refused.status == 1 && refused.stderr.contains("rlwatch db migrate"), "\(refused)")

            let migrated = try await sandbox.run(["db", "migrate"], environment: environment)
            #expect(migrated.status == 0 && migrated.stdout.contains("migrated from schema version 0 to 3"), "\(migrated)")
            let server = try sandbox.start(["serve", "--port", "0"], environment: environment)
            let client = HTTPTestClient(port: try await server.servePort(timeout: .seconds(90)))
            #expect(try await client.post("/api/v1/runs", json: ["run_id": "env"]).status == 201)
            #expect(try await client.post("/api/v1/runs/env/steps", json: [["step": 1, "loss": 0.5]]).status == 200)
            #expect(try await server.stop(signal: SIGTERM).status == 0)
            #expect(server.stderr.contains("database: postgres://"), "\(server.stderr)")
            #expect(!sandbox.exists("rlwatch_logs/metrics.db"))

            let status = try await sandbox.run(["db", "status"], environment: environment)
            #expect(status.stdout.contains("runs: 1") && status.stdout.contains("metric rows: 1"), "\(status)")
            #expect(status.stdout.contains("schema version: 3 (this rlwatch: 3)"), "\(status)")
        }
    }
}
