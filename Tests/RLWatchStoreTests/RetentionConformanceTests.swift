import RLWatchCore
import RLWatchStore
import Testing

/// `storage.retention_days`: old metric rows go, runs, alerts and the outbox stay; run against every store (pruning is
/// a requirement of `Store`).
@Suite("Retention conformance")
struct RetentionConformanceTests {
    static var kinds: [StoreKind] { StoreKind.allCases }

    @Test(arguments: Self.kinds)
    func pruningDropsOldRowsAndKeepsRunsAlertsAndDeliveries(kind: StoreKind) async throws {
        try await kind.withStore { store in
            try await store.registerRun(RunRecord(runID: "r", framework: "trl", startedAt: 1, configJSON: "{}"))
            try await store.registerRun(RunRecord(runID: "s", framework: "trl", startedAt: 2, configJSON: "{}"))
            var alerts = sampleAlerts(runID: "r")
            alerts[0].channels = ["webhook"]
            // ordinarySteps are stamped 1_700_000_100 + step / 10.
            try await store.append(
                steps: ordinarySteps(runID: "r", steps: 1...40) + ordinarySteps(runID: "s", steps: 1...10), alerts: alerts)
            let deleted = try await store.pruneSteps(before: 1_700_000_100 + 20.5 / 10)
            #expect(deleted == 30)
            #expect(try await store.steps(runID: "r").map(\.metrics.step) == Array(21...40))
            #expect(try await store.stepCount(runID: "s") == 0)
            #expect(try await store.runs().map(\.runID) == ["s", "r"])
            #expect(try await store.alerts(runID: "r").map(fingerprint) == sampleAlerts(runID: "r").map(fingerprint))
            #expect(try await store.deliveries(runID: "r", filter: .pending).count == 1)
            // Idempotent: nothing more to delete.
            #expect(try await store.pruneSteps(before: 1_700_000_100 + 20.5 / 10) == 0)
        }
    }
}
