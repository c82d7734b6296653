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

    @Test func commandsThatOnlyWriteSQLiteRefuseAPostgreSQLConfiguration() async throws {
        let sandbox = try CLISandbox()
        let demo = try await sandbox.run(["demo", "--steps", "5"], environment: ["RLWATCH_DATABASE_URL": "postgres://u@127.0.0.1:1/db"])
        #expect(demo.status == 1, "\(demo)")
        #expect(demo.stderr.contains("storage.url points at PostgreSQL"), "\(demo)")
        // The reading commands go to the database named, and say where they could not connect.
        let runs = try await sandbox.run(["runs"], environment: ["RLWATCH_DATABASE_URL": "postgres://u@127.0.0.1:1/db"])
        #expect(runs.status == 1 && runs.stderr.contains("127.0.0.1:1"), "\(runs)")
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
            #expect(migrated.status == 0 && migrated.stdout.contains("migrated from schema version 0 to 2"), "\(migrated)")
            let server = try sandbox.start(["serve", "--port", "0"], environment: environment)
            let client = HTTPTestClient(port: try await server.servePort(timeout: .seconds(90)))
            #expect(try await client.post("/api/v1/runs", json: ["run_id": "env"]).status == 201)
            #expect(try await client.post("/api/v1/runs/env/steps", json: [["step": 1, "loss": 0.5]]).status == 200)
            #expect(try await server.stop(signal: SIGTERM).status == 0)
            #expect(server.stderr.contains("database: postgres://"), "\(server.stderr)")
            #expect(!sandbox.exists("rlwatch_logs/metrics.db"))

            let status = try await sandbox.run(["db", "status"], environment: environment)
            #expect(status.stdout.contains("runs: 1") && status.stdout.contains("metric rows: 1"), "\(status)")
        }
    }
}
