import RLWatchCore
import RLWatchStore
import Testing

/// The alert outbox, run against every store that keeps one.
@Suite("Outbox conformance")
struct OutboxConformanceTests {
    @Test(arguments: StoreKind.outboxKinds)
    func deliveredAlertsAreQueuedPerChannelAndLeasedWhenClaimed(kind: StoreKind) async throws {
        try await kind.withStore { store in
            try await store.registerRun(RunRecord(runID: "r", framework: "trl", startedAt: 1, configJSON: "{}"))
            var alerts = sampleAlerts(runID: "r")
            for index in alerts.indices { alerts[index].channels = ["webhook", "slack"] }
            try await store.append(steps: ordinarySteps(runID: "r", steps: 10...14), alerts: alerts)
            // Two delivered alerts × two channels; suppressed ones are never queued.
            let queued = try await store.deliveries(runID: "r", filter: .pending)
            #expect(queued.count == 4)
            #expect(Set(queued.map(\.channel)) == ["webhook", "slack"])
            // Each entry is due when its alert was judged (its timestamp, on the monitor's clock).
            let judged = alerts.filter(\.disposition.isDelivered).map(\.timestamp)
            #expect(try await store.nextDeliveryDue() == judged.min())
            let due = try #require(judged.max())

            let claimed = try await store.claimDueDeliveries(at: due + 1, leaseUntil: due + 1000, limit: 3)
            #expect(claimed.count == 3)
            #expect(claimed.allSatisfy { $0.delivery.nextAttemptAt == due + 1000 })
            #expect(claimed.allSatisfy { $0.alert.disposition.isDelivered && $0.alert.runID == "r" })
            // Leased entries are not due again before the lease ends; the fourth still is.
            let rest = try await store.claimDueDeliveries(at: due + 2, leaseUntil: due + 1000, limit: 10)
            #expect(rest.count == 1)
            #expect(Set((claimed + rest).map(\.delivery.id)).count == 4)
            #expect(try await store.claimDueDeliveries(at: due + 3, leaseUntil: due + 1000, limit: 10).isEmpty)
        }
    }

    /// The dispatcher of this process is woken by the commit, not by its next poll.
    @Test(arguments: StoreKind.outboxKinds)
    func anAppendThatQueuesDeliveriesRingsTheDoorbell(kind: StoreKind) async throws {
        try await kind.withStore { store in
            let doorbell = try #require(store.outboxDoorbell, "\(kind) does not wake its dispatcher")
            try await store.registerRun(RunRecord(runID: "r", framework: "trl", startedAt: 1, configJSON: "{}"))
            // Steps alone, and alerts without channels, queue nothing: the bell stays silent.
            try await store.append(steps: ordinarySteps(runID: "r", steps: 1...3), alerts: sampleAlerts(runID: "r"))
            let clock = ContinuousClock()
            let silent = try await clock.measure { await doorbell.wait(upTo: .milliseconds(300)) }
            #expect(silent >= .milliseconds(300), "rang without a queued delivery")
            // A waiting dispatcher wakes on the commit that queues one.
            let woken = Task { try await clock.measure { await doorbell.wait(upTo: .seconds(120)) } }
            try await Task.sleep(for: .milliseconds(50))
            var alert = sampleAlerts(runID: "r")[0]
            alert.channels = ["webhook"]
            try await store.append(steps: ordinarySteps(runID: "r", steps: 4...4), alerts: [alert])
            #expect(try await woken.value < .seconds(60), "the waiter slept to its timeout")
        }
    }

    @Test(arguments: StoreKind.outboxKinds)
    func anAttemptIsLoggedAndOnlyAPendingEntryMoves(kind: StoreKind) async throws {
        try await kind.withStore { store in
            try await store.registerRun(RunRecord(runID: "r", framework: "trl", startedAt: 1, configJSON: "{}"))
            var alert = sampleAlerts(runID: "r")[0]
            alert.channels = ["webhook"]
            try await store.append(steps: ordinarySteps(runID: "r", steps: 10...10), alerts: [alert])
            let entry = try #require(try await store.deliveries(runID: nil, filter: .all).first)
            func attempt(_ number: Int, _ outcome: String) -> DeliveryAttemptRecord {
                DeliveryAttemptRecord(
                    deliveryID: entry.id, alertID: entry.alertID, channel: entry.channel, attempt: number,
                    time: 2_000_000_000 + Double(number), outcome: outcome, httpStatus: outcome == "delivered" ? 200 : nil,
                    detail: "attempt \(number)", durationSeconds: 0.5)
            }
            try await store.recordDeliveryAttempt(attempt(1, "retryable"), status: .pending, nextAttemptAt: 2_000_000_100)
            try await store.recordDeliveryAttempt(attempt(2, "delivered"), status: .delivered, nextAttemptAt: 0)
            try await store.recordDeliveryAttempt(attempt(3, "failed"), status: .failed, nextAttemptAt: 0)
            let after = try #require(try await store.deliveries(runID: "r", filter: .all).first)
            #expect(after.status == .delivered)
            #expect(after.attempts == 2)
            #expect(after.lastOutcome == "delivered")
            #expect(try await store.deliveries(runID: "r", filter: .pending).isEmpty)
            #expect(try await store.nextDeliveryDue() == nil)
            let log = try await store.deliveryAttempts(deliveryID: entry.id)
            #expect(log.map(\.attempt) == [1, 2, 3])
            #expect(log.map(\.httpStatus) == [nil, 200, nil])
            #expect(log[0].detail == "attempt 1" && log[0].durationSeconds == 0.5)
        }
    }
}
