import Foundation
import GRDB
import RLWatchCore
@testable import RLWatchSQLite
import RLWatchServer
import RLWatchTesting
import Testing

@testable import RLWatchStore

/// A store that refuses writes (issue 20, item 7): 503 with `Retry-After` and a few words, never SQL or SQLite's own
/// message; `/healthz` says the store is unwritable until a write succeeds again.
@Suite struct StorageFailureTests {
    /// Every answer of a failed write: 503, `Retry-After`, the summary, and nothing of the SQL.
    static func expectStoreUnavailable(
        _ reply: HTTPTestClient.Reply, saying summary: String = "the database is read-only",
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(reply.status == 503, "\(reply)", sourceLocation: sourceLocation)
        #expect(reply.headers["retry-after"] == "5", "\(reply.headers)", sourceLocation: sourceLocation)
        #expect(reply.text.contains(summary), "\(reply)", sourceLocation: sourceLocation)
        for leak in [
            "INSERT", "UPDATE", "SELECT", "SQLite error", "attempt to write", "while executing", "runs", "or disk is full",
        ] {
            #expect(!reply.text.contains(leak), "\(leak) in \(reply)", sourceLocation: sourceLocation)
        }
    }

    @Test func aReadOnlyDatabaseIsA503WithRetryAfterAndHealthzSaysUnwritable() async throws {
        try await withTemporaryDirectory { directory in
            let store = try SQLiteStore(path: directory.appendingPathComponent("metrics.db").path)
            defer { try? store.close() }
            try await withServer(store: store) { client in
                #expect(try await client.post("/api/v1/runs", json: ["run_id": "before"]).status == 201)
                // SQLite itself refuses every write from now on (a chmod does the same for a non-root user).
                try await store.database.writeWithoutTransaction { try $0.execute(sql: "PRAGMA query_only = 1") }

                Self.expectStoreUnavailable(try await client.post("/api/v1/runs", json: ["run_id": "job"]))
                let health = try await client.get("/healthz")
                #expect(health.status == 503)
                #expect(health.text.hasPrefix("store unwritable since "), "\(health)")
                #expect(health.text.contains("the database is read-only"))

                let steps = [stepJSON(MetricStep(step: 1, loss: 0.5))]
                Self.expectStoreUnavailable(try await client.post("/api/v1/runs/before/steps", json: steps))
                Self.expectStoreUnavailable(try await client.post("/api/v1/runs/before/finish", json: [String: Any]()))
                Self.expectStoreUnavailable(
                    try await client.post("/api/v1/runs/before/crash", json: ["exception_type": "OOM", "exit_code": 1]))
                // Reads still work.
                #expect(try await client.get("/api/v1/runs/before").status == 200)

                // The store comes back: the client's retry goes through and /healthz is ok again.
                try await store.database.writeWithoutTransaction { try $0.execute(sql: "PRAGMA query_only = 0") }
                #expect(try await client.post("/api/v1/runs/before/steps", json: steps).status == 200)
                let recovered = try await client.get("/healthz")
                #expect(recovered.status == 200 && recovered.text == "ok\n", "\(recovered)")
            }
        }
    }

    /// SQLite's own `SQLITE_FULL` ("database or disk is full"): the file may not grow past the pages it has
    /// (`max_page_count`, what a full disk does to a write that needs a new page). A batch that needs room is a 503
    /// saying the disk is full, nothing of it is kept, and it is stored once there is room again.
    @Test func aFullDiskIsA503UntilThereIsRoomAgain() async throws {
        try await withTemporaryDirectory { directory in
            let store = try SQLiteStore(path: directory.appendingPathComponent("metrics.db").path)
            defer { try? store.close() }
            try await withServer(store: store) { client in
                #expect(try await client.post("/api/v1/runs", json: ["run_id": "job"]).status == 201)
                try await store.database.writeWithoutTransaction { db in
                    let pages = try #require(try Int.fetchOne(db, sql: "PRAGMA page_count"))
                    try db.execute(sql: "PRAGMA max_page_count = \(pages)")
                }
                let steps = (1...2_000).map { stepJSON(MetricStep(step: $0, loss: 0.5)) }
                Self.expectStoreUnavailable(
                    try await client.post("/api/v1/runs/job/steps", json: steps), saying: "the disk is full")
                let health = try await client.get("/healthz")
                #expect(health.status == 503 && health.text.contains("the disk is full"), "\(health)")
                #expect(try await store.stepCount(runID: "job") == 0)

                try await store.database.writeWithoutTransaction { try $0.execute(sql: "PRAGMA max_page_count = 1073741823") }
                #expect(try await client.post("/api/v1/runs/job/steps", json: steps).status == 200)
                #expect(try await store.stepCount(runID: "job") == 2_000)
                #expect(try await client.get("/healthz").text == "ok\n")
            }
        }
    }
}
