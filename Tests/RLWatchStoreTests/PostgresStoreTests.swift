import Foundation
import Synchronization
import RLWatchCore
import RLWatchPostgres
import RLWatchStore
import Testing

/// What only the PostgreSQL store does: versioned migrations, a shared database for several processes (run locks,
/// shared outbox), idempotent rows, retention, URLs.
@Suite("PostgresStore", .enabled(if: TestPostgres.isAvailable))
struct PostgresStoreTests {
    @Test func aDatabaseWithoutTheSchemaIsRefusedUntilMigrated() async throws {
        try await TestPostgres.withDatabase { url in
            await #expect {
                try await PostgresStore.withStore(url: url) { _ in }
            } throws: { error in
                let error = error as? PostgresStoreError
                return error?.needsMigration == true && "\(error!)".contains("rlwatch db migrate")
            }
            let first = try await PostgresStore.withStore(url: url, migrate: true) { _ in 0 }
            #expect(first == 0)
            // Up to date: opening works, migrating again applies nothing.
            let again = try await PostgresStore.withStore(url: url) { store in try await store.migrate() }
            #expect(again.from == PostgresStore.schemaVersion && again.applied.isEmpty)
        }
    }

    @Test func aSchemaFromANewerRLWatchIsAClearError() async throws {
        try await TestPostgres.withDatabase { url in
            try await PostgresStore.withStore(url: url, migrate: true) { _ in }
            try await PostgresServer.withConnection(to: url) { connection in
                try await connection.query(
                    "INSERT INTO rlwatch_schema_migrations (version, name) VALUES (99, 'from the future')",
                    logger: .init(label: "test"))
            }
            for migrate in [false, true] {
                await #expect {
                    try await PostgresStore.withStore(url: url, migrate: migrate) { _ in }
                } throws: { error in
                    "\(error)".contains("schema version 99") && "\(error)".contains("Upgrade rlwatch")
                }
            }
        }
    }

    @Test func aStepWrittenTwiceIsStoredOnce() async throws {
        try await TestPostgres.withDatabase { url in
            try await PostgresStore.withStore(url: url, migrate: true) { store in
                try await store.registerRun(RunRecord(runID: "r", framework: "trl", startedAt: 1, configJSON: "{}"))
                let batch = ordinarySteps(runID: "r", steps: 1...50)
                try await store.append(steps: batch, alerts: [])
                try await store.append(steps: Array(batch[10..<20]) + ordinarySteps(runID: "r", steps: 51...52), alerts: [])
                #expect(try await store.stepCount(runID: "r") == 52)
                #expect(try await store.steps(runID: "r").map(\.metrics.step) == Array(1...52))
            }
        }
    }

    @Test func exclusiveRunsSerialiseProcessesAndHandOverWhatTheOthersWrote() async throws {
        try await TestPostgres.withDatabase { url in
            try await PostgresStore.withStore(url: url, migrate: true) { first in
                try await PostgresStore.withStore(url: url) { second in
                    try await first.registerRun(RunRecord(runID: "r", framework: "trl", startedAt: 1, configJSON: "{}"))
                    // `first` writes steps 1...5 under the lock.
                    let (_, firstCursor) = try await first.withExclusiveRun("r", after: .start) { catchUp in
                        #expect(catchUp.steps.isEmpty && catchUp.run == nil)
                        try await first.append(steps: ordinarySteps(runID: "r", steps: 1...5), alerts: [])
                    }
                    // `second` has seen nothing: it gets those five, then writes 6...8.
                    let (seen, secondCursor) = try await second.withExclusiveRun("r", after: .start) { catchUp in
                        try await second.append(steps: ordinarySteps(runID: "r", steps: 6...8), alerts: [])
                        return catchUp.steps.map(\.metrics.step)
                    }
                    #expect(seen == [1, 2, 3, 4, 5])
                    #expect(secondCursor > firstCursor)
                    // `first` catches up with exactly what `second` wrote.
                    let (missed, _) = try await first.withExclusiveRun("r", after: firstCursor) { catchUp in
                        catchUp.steps.map(\.metrics.step)
                    }
                    #expect(missed == [6, 7, 8])
                    // Nothing new: nothing to catch up with.
                    let (none, sameCursor) = try await second.withExclusiveRun("r", after: secondCursor) { catchUp in
                        catchUp.steps.count
                    }
                    #expect(none == 0 && sameCursor == secondCursor)
                    // A run finished elsewhere is handed over with its record, so the caller can reopen it.
                    try await first.finishRun(id: "r", at: 42)
                    let (finished, _) = try await second.withExclusiveRun("r", after: secondCursor) { $0.run?.finishedAt }
                    #expect(finished == 42)
                }
            }
        }
    }

    @Test func aSecondProcessWaitsForTheRunLockAndAFailedBodyStoresNothing() async throws {
        try await TestPostgres.withDatabase { url in
            try await PostgresStore.withStore(url: url, migrate: true) { first in
                try await PostgresStore.withStore(url: url) { second in
                    try await first.registerRun(RunRecord(runID: "r", framework: "trl", startedAt: 1, configJSON: "{}"))
                    let order = OrderLog()
                    let holding = AsyncFlag()
                    let release = AsyncFlag()
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            _ = try await first.withExclusiveRun("r", after: .start) { _ in
                                await holding.set()
                                await release.wait()
                                order.append("first done")
                            }
                        }
                        await holding.wait()
                        group.addTask {
                            _ = try await second.withExclusiveRun("r", after: .start) { _ in order.append("second in") }
                        }
                        // Another run is not blocked by r's lock.
                        _ = try await second.withExclusiveRun("other", after: .start) { _ in order.append("other run") }
                        await release.set()
                        try await group.waitForAll()
                    }
                    #expect(order.entries == ["other run", "first done", "second in"])

                    struct Boom: Error {}
                    await #expect(throws: Boom.self) {
                        _ = try await first.withExclusiveRun("r", after: .start) { _ in
                            try await first.append(
                                steps: ordinarySteps(runID: "r", steps: 1...3), alerts: [],
                                options: AppendOptions(receipt: BatchReceipt(runID: "r", key: "k", response: "{}"), at: 1_000))
                            throw Boom()
                        }
                    }
                    #expect(try await second.stepCount(runID: "r") == 0)
                    #expect(try await second.receipt(runID: "r", key: "k") == nil)
                }
            }
        }
    }

    @Test func twoDispatchersNeverClaimTheSameDelivery() async throws {
        try await TestPostgres.withDatabase { url in
            try await PostgresStore.withStore(url: url, migrate: true) { first in
                try await PostgresStore.withStore(url: url) { second in
                    try await first.registerRun(RunRecord(runID: "r", framework: "trl", startedAt: 1, configJSON: "{}"))
                    var alerts: [AlertRecord] = []
                    for step in 1...60 {
                        var record = sampleAlerts(runID: "r")[0]
                        record.alert.step = step
                        record.channels = ["webhook"]
                        alerts.append(record)
                    }
                    try await first.append(steps: ordinarySteps(runID: "r", steps: 1...60), alerts: alerts)
                    let now = Date().timeIntervalSince1970 + 1
                    let claims = try await withThrowingTaskGroup(of: [Int64].self) { group in
                        for store in [first, second, first, second] {
                            group.addTask {
                                var mine: [Int64] = []
                                while true {
                                    let batch = try await store.claimDueDeliveries(at: now, leaseUntil: now + 600, limit: 4)
                                    if batch.isEmpty { return mine }
                                    mine += batch.map(\.delivery.id)
                                }
                            }
                        }
                        var all: [[Int64]] = []
                        for try await claimed in group { all.append(claimed) }
                        return all
                    }
                    let ids = claims.flatMap { $0 }
                    #expect(ids.count == 60)
                    #expect(Set(ids).count == 60)
                }
            }
        }
    }

    @Test func retentionDropsOldMetricRowsAndKeepsRunsAndAlerts() async throws {
        try await TestPostgres.withDatabase { url in
            try await PostgresStore.withStore(url: url, migrate: true) { store in
                try await store.registerRun(RunRecord(runID: "r", framework: "trl", startedAt: 1, configJSON: "{}"))
                // ordinarySteps are stamped around 1_700_000_100 + step/10.
                try await store.append(steps: ordinarySteps(runID: "r", steps: 1...100), alerts: sampleAlerts(runID: "r"))
                let deleted = try await store.pruneSteps(before: 1_700_000_100 + 50.5 / 10)
                #expect(deleted == 50)
                #expect(try await store.steps(runID: "r").map(\.metrics.step) == Array(51...100))
                #expect(try await store.alerts(runID: "r").count == 5)
                #expect(try await store.run(id: "r") != nil)
            }
        }
    }

    @Test func urlsAreParsedWithTheirSSLModeAndPrintedWithoutPasswords() throws {
        let url = try PostgresURL("postgres://alice:s%40cret@db.example.com:6543/metrics?sslmode=verify-full&pool_size=8")
        #expect(url.host == "db.example.com" && url.port == 6543 && url.database == "metrics")
        #expect(url.username == "alice" && url.password == "s@cret")
        #expect(url.sslMode == .verifyFull && url.poolSize == 8)
        #expect("\(url)" == "postgres://alice:***@db.example.com:6543/metrics")
        let plain = try PostgresURL("postgresql://bob@127.0.0.1/")
        #expect(plain.port == 5432 && plain.database == "bob" && plain.sslMode == .prefer)
        #expect(throws: PostgresStoreError.self) { try PostgresURL("postgres://u:pw@h/db?sslmode=maybe") }
        #expect(throws: PostgresStoreError.self) { try PostgresURL("postgres://u@h/db?ssl=true") }
        #expect(try PostgresURL("postgres://u@h/db?synchronous_commit=off").synchronousCommit == "off")
        #expect(throws: PostgresStoreError.self) { try PostgresURL("postgres://u@h/db?synchronous_commit=maybe") }
        do {
            _ = try PostgresURL("postgres://u:topsecret@h/db?sslmode=maybe")
        } catch {
            #expect(!"\(error)".contains("topsecret"))
            #expect("\(error)".contains("sslmode must be one of disable, allow, prefer, require, verify-ca, verify-full"))
        }
    }
}

/// Records an order of events from several tasks.
final class OrderLog: Sendable {
    private let storage = Mutex<[String]>([])
    func append(_ entry: String) { storage.withLock { $0.append(entry) } }
    var entries: [String] { storage.withLock { $0 } }
}

/// A one-shot signal between tasks.
actor AsyncFlag {
    private var isSet = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func set() {
        isSet = true
        for waiter in waiters { waiter.resume() }
        waiters = []
    }

    func wait() async {
        if isSet { return }
        await withCheckedContinuation { waiters.append($0) }
    }
}

extension PostgresStoreTests {
    @Test func theLargestStepIsOneIndexLookup() async throws {
        try await TestPostgres.withDatabase { url in
            try await PostgresStore.withStore(url: url, migrate: true) { store in
                #expect(try await store.largestStep(runID: "r") == nil)
                try await store.append(
                    steps: ordinarySteps(runID: "r", steps: 1...50) + ordinarySteps(runID: "r", steps: 10...20, segment: 1),
                    alerts: [])
                #expect(try await store.largestStep(runID: "r") == 50)
            }
        }
    }
}
