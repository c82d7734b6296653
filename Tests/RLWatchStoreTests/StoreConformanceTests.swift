import RLWatchCore
import RLWatchStore
import Testing

/// The behaviour every `Store` shares, run against each implementation.
@Suite("Store conformance")
struct StoreConformanceTests {
    @Test(arguments: StoreKind.allCases)
    func registeringAgainUpdatesFrameworkAndConfigButKeepsTheStartTime(kind: StoreKind) async throws {
        try await kind.withStore { store in
            try await store.registerRun(RunRecord(runID: "a", framework: "auto", startedAt: 100, configJSON: "{\"v\":1}"))
            try await store.registerRun(RunRecord(runID: "a", framework: "trl", startedAt: 200, configJSON: "{\"v\":2}"))
            let run = try await store.run(id: "a")
            #expect(run == RunRecord(runID: "a", framework: "trl", startedAt: 100, configJSON: "{\"v\":2}"))
            #expect(try await store.runs().count == 1)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func finishingARunIsRecordedAndReRegisteringReopensIt(kind: StoreKind) async throws {
        try await kind.withStore { store in
            try await store.registerRun(RunRecord(runID: "a", framework: "trl", startedAt: 100, configJSON: "{}"))
            #expect(try await store.run(id: "a")?.finishedAt == nil)
            try await store.finishRun(id: "a", at: 150.5)
            #expect(try await store.run(id: "a")?.finishedAt == 150.5)
            try await store.finishRun(id: "missing", at: 1)
            #expect(try await store.run(id: "missing") == nil)
            try await store.registerRun(RunRecord(runID: "a", framework: "trl", startedAt: 200, configJSON: "{}"))
            let reopened = try await store.run(id: "a")
            #expect(reopened?.finishedAt == nil && reopened?.startedAt == 100)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func checkpointsAndReceiptsAreWrittenWithTheirBatch(kind: StoreKind) async throws {
        try await kind.withStore { store in
            try await store.registerRun(RunRecord(runID: "r", framework: "trl", startedAt: 1, configJSON: "{}"))
            #expect(try await store.checkpoint(source: "/logs/a.jsonl") == nil)
            #expect(try await store.receipt(runID: "r", key: "k1") == nil)
            let first = SourceCheckpoint(source: "/logs/a.jsonl", runID: "r", state: "{\"offset\":10}")
            try await store.append(
                steps: ordinarySteps(runID: "r", steps: 1...3), alerts: [],
                options: AppendOptions(checkpoint: first, receipt: BatchReceipt(runID: "r", key: "k1", response: "{}"), at: 1_000))
            #expect(try await store.checkpoint(source: "/logs/a.jsonl") == first)
            #expect(try await store.receipt(runID: "r", key: "k1")?.response == "{}")
            #expect(try await store.receipt(runID: "other", key: "k1") == nil)
            // A later checkpoint replaces the earlier one; a checkpoint alone (no steps) is still saved.
            let second = SourceCheckpoint(source: "/logs/a.jsonl", runID: "r", state: "{\"offset\":99}")
            try await store.append(steps: [], alerts: [], options: AppendOptions(checkpoint: second, at: 1_001))
            #expect(try await store.checkpoint(source: "/logs/a.jsonl") == second)
            #expect(try await store.stepCount(runID: "r") == 3)
        }
    }

    /// A receipt keeps the digest of its batch (issue 20: a reused key is told from a retry by it); a receipt written
    /// without one reads back without one.
    @Test(arguments: StoreKind.allCases)
    func receiptsKeepTheirBatchDigest(kind: StoreKind) async throws {
        try await kind.withStore { store in
            try await store.registerRun(RunRecord(runID: "r", framework: "trl", startedAt: 1, configJSON: "{}"))
            let digested = BatchReceipt(runID: "r", key: "k1", response: "{\"accepted\":3}", batchDigest: "v1-3-00000000000000ff")
            try await store.append(
                steps: ordinarySteps(runID: "r", steps: 1...3), alerts: [], options: AppendOptions(receipt: digested, at: 1_000))
            #expect(try await store.receipt(runID: "r", key: "k1") == digested)
            let bare = BatchReceipt(runID: "r", key: "k2", response: "{}")
            try await store.append(steps: ordinarySteps(runID: "r", steps: 4...4), alerts: [], options: AppendOptions(receipt: bare, at: 1_001))
            #expect(try await store.receipt(runID: "r", key: "k2") == bare)
            #expect(try await store.receipt(runID: "r", key: "k2")?.batchDigest == nil)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func runsAreListedNewestFirst(kind: StoreKind) async throws {
        try await kind.withStore { store in
            for (id, start) in [("old", 1.0), ("newest", 3.0), ("middle", 2.0)] {
                try await store.registerRun(RunRecord(runID: id, framework: "verl", startedAt: start, configJSON: "{}"))
            }
            #expect(try await store.runs().map(\.runID) == ["newest", "middle", "old"])
            #expect(try await store.latestRun()?.runID == "newest")
        }
    }

    @Test(arguments: StoreKind.allCases)
    func stepsRoundTripIncludingNonFiniteValues(kind: StoreKind) async throws {
        try await kind.withStore { store in
            try await store.registerRun(RunRecord(runID: "r", framework: "trl", startedAt: 1, configJSON: "{}"))
            let written = nonFiniteSteps(runID: "r") + ordinarySteps(runID: "r", steps: 4...20)
                + ordinarySteps(runID: "r", steps: 1...3, segment: 1)
            try await store.append(steps: Array(written.prefix(5)), alerts: [])
            try await store.append(steps: Array(written.dropFirst(5)), alerts: [])
            let read = try await store.steps(runID: "r")
            #expect(read.map(fingerprint) == written.map(fingerprint))
            #expect(try await store.stepCount(runID: "r") == written.count)
            // Spot checks that the fingerprints are not hiding anything.
            #expect(read[0].metrics.loss?.isNaN == true)
            #expect(read[1].metrics.gradNorm == .infinity)
            #expect(read[2].metrics.entropy == -.infinity)
            #expect(read[0].metrics.rewards?[1].isNaN == true)
            #expect(read[2].metrics.extras["special"] == -.infinity)
            #expect(read[3].metrics.rewards == [])
            #expect(read[4].metrics.rewards == nil)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func alertsRoundTripWithDispositionAndMetricValueOrder(kind: StoreKind) async throws {
        try await kind.withStore { store in
            try await store.registerRun(RunRecord(runID: "r", framework: "trl", startedAt: 1, configJSON: "{}"))
            let written = sampleAlerts(runID: "r")
            try await store.append(steps: ordinarySteps(runID: "r", steps: 10...14), alerts: Array(written.prefix(2)))
            try await store.append(steps: [], alerts: Array(written.dropFirst(2)))

            let all = try await store.alerts(runID: "r")
            #expect(all.map(fingerprint) == written.map(fingerprint))
            let ids = all.compactMap(\.id)
            #expect(ids.count == all.count)
            #expect(ids == ids.sorted() && Set(ids).count == ids.count)
            #expect(all[0].alert.metricValues.keys == written[0].alert.metricValues.keys)
            #expect(all[0].alert.metricValues["threshold"] == .double(2.0))
            #expect(all[0].alert.metricValues["window"] == .int(50))

            let delivered = try await store.alerts(runID: "r", filter: .delivered)
            #expect(delivered.map(\.alert.step) == [10, 13])
            let suppressed = try await store.alerts(runID: "r", filter: .suppressed)
            #expect(suppressed.map(\.disposition) == [
                .suppressed(.cooldown(lastStep: 10, cooldown: 100)),
                .suppressed(.criticalCooldown(criticalStep: 9, cooldown: 50)),
                .suppressed(.runCap(limit: 50)),
            ])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func sinceStepAndLimitSelectInArrivalOrder(kind: StoreKind) async throws {
        try await kind.withStore { store in
            try await store.registerRun(RunRecord(runID: "r", framework: "trl", startedAt: 1, configJSON: "{}"))
            // A resume: steps 1...10, then 6...8 again in segment 1.
            try await store.append(
                steps: ordinarySteps(runID: "r", steps: 1...10) + ordinarySteps(runID: "r", steps: 6...8, segment: 1),
                alerts: [])
            func steps(_ since: Int?, _ limit: Int?) async throws -> [String] {
                try await store.steps(runID: "r", sinceStep: since, limit: limit).map { "\($0.segment):\($0.metrics.step)" }
            }
            #expect(try await steps(8, nil) == ["0:8", "0:9", "0:10", "1:8"])
            #expect(try await steps(nil, 3) == ["0:1", "0:2", "0:3"])
            #expect(try await steps(7, 3) == ["0:7", "0:8", "0:9"])
            #expect(try await steps(nil, 0) == [])
            #expect(try await steps(11, nil) == [])
            #expect(try await steps(nil, 100).count == 13)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func unknownRunsReadAsEmpty(kind: StoreKind) async throws {
        try await kind.withStore { store in
            try await store.registerRun(RunRecord(runID: "r", framework: "trl", startedAt: 1, configJSON: "{}"))
            try await store.append(steps: ordinarySteps(runID: "r", steps: 1...3), alerts: sampleAlerts(runID: "r"))
            #expect(try await store.run(id: "nope") == nil)
            #expect(try await store.steps(runID: "nope").isEmpty)
            #expect(try await store.steps(runID: "nope", sinceStep: 1, limit: 5).isEmpty)
            #expect(try await store.alerts(runID: "nope").isEmpty)
            #expect(try await store.alerts(runID: "nope", filter: .suppressed).isEmpty)
            #expect(try await store.stepCount(runID: "nope") == 0)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func runsDoNotSeeEachOthersRows(kind: StoreKind) async throws {
        try await kind.withStore { store in
            for id in ["a", "b"] {
                try await store.registerRun(RunRecord(runID: id, framework: "trl", startedAt: 1, configJSON: "{}"))
            }
            // Interleaved, as when two runs share a database; run a resumes from step 2.
            let a = ordinarySteps(runID: "a", steps: 1...4) + ordinarySteps(runID: "a", steps: 2...3, segment: 1)
            let b = ordinarySteps(runID: "b", steps: 1...2)
            var interleaved: [StoredStep] = []
            for index in a.indices {
                interleaved.append(a[index])
                if index < b.count { interleaved.append(b[index]) }
            }
            try await store.append(steps: interleaved, alerts: sampleAlerts(runID: "b"))
            #expect(try await store.stepCount(runID: "a") == 6)
            #expect(try await store.steps(runID: "a").map(fingerprint) == a.map(fingerprint))
            let since3 = try await store.steps(runID: "a", sinceStep: 3, limit: nil)
            #expect(since3.map { "\($0.segment):\($0.metrics.step)" } == ["0:3", "0:4", "1:3"])
            let limited = try await store.steps(runID: "a", sinceStep: 2, limit: 4)
            #expect(limited.map { "\($0.segment):\($0.metrics.step)" } == ["0:2", "0:3", "0:4", "1:2"])
            #expect(try await store.steps(runID: "b").map(\.runID) == ["b", "b"])
            #expect(try await store.alerts(runID: "a").isEmpty)
            #expect(try await store.alerts(runID: "b").count == 5)
        }
    }
}
