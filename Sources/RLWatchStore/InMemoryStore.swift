import Foundation
import RLWatchCore
import Synchronization

/// A store that keeps everything in memory: for tests and `--no-store` runs.
public final class InMemoryStore: Store {
    /// Whether appended steps are kept (`replay --no-store` judges a million steps and reads none back).
    private let keepsSteps: Bool
    private struct State {
        var runs: [String: RunRecord] = [:]
        var steps: [String: [StoredStep]] = [:]
        var alerts: [String: [AlertRecord]] = [:]
        var nextAlertID: Int64 = 1
        var checkpoints: [String: SourceCheckpoint] = [:]
        var receipts: [String: [String: BatchReceipt]] = [:]
        var deliveries: [DeliveryRecord] = []
        var attempts: [Int64: [DeliveryAttemptRecord]] = [:]
        var alertsByID: [Int64: AlertRecord] = [:]
        var trainingCheckpoints: [String: [TrainingCheckpoint]] = [:]
        var actions: [String: [AlertActionRecord]] = [:]
        var nextActionID: Int64 = 1
    }

    private let state = Mutex(State())
    /// Rung after an append that queued deliveries (see ``OutboxStore/outboxDoorbell``).
    public let outboxDoorbell: OutboxDoorbell? = OutboxDoorbell()

    public init(keepingSteps: Bool = true) {
        keepsSteps = keepingSteps
    }

    public func registerRun(_ run: RunRecord) async throws {
        state.withLock { state in
            if var existing = state.runs[run.runID] {
                existing.framework = run.framework
                existing.configJSON = run.configJSON
                existing.finishedAt = run.finishedAt
                state.runs[run.runID] = existing
            } else {
                state.runs[run.runID] = run
            }
        }
    }

    public func append(steps: [StoredStep], alerts: [AlertRecord], options: AppendOptions) async throws {
        state.withLock { state in
            if let checkpoint = options.checkpoint { state.checkpoints[checkpoint.source] = checkpoint }
            if let receipt = options.receipt { state.receipts[receipt.runID, default: [:]][receipt.key] = receipt }
            if keepsSteps { for step in steps { state.steps[step.runID, default: []].append(step) } }
            for var alert in alerts {
                // Due when it was judged, on the monitor's clock (the dispatcher claims on the same clock).
                let now = alert.timestamp
                let id = state.nextAlertID
                alert.id = id
                state.nextAlertID += 1
                if alert.disposition.isDelivered {
                    for channel in alert.channels {
                        state.deliveries.append(
                            DeliveryRecord(
                                id: Int64(state.deliveries.count + 1), alertID: id, runID: alert.runID, channel: channel,
                                status: .pending, attempts: 0, nextAttemptAt: now, createdAt: now, updatedAt: now))
                    }
                }
                alert.channels = []
                state.alertsByID[id] = alert
                state.alerts[alert.runID, default: []].append(alert)
            }
        }
        if alerts.contains(where: { $0.disposition.isDelivered && !$0.channels.isEmpty }) { outboxDoorbell?.ring() }
    }

    public func finishRun(id: String, at time: Double) async throws {
        state.withLock { $0.runs[id]?.finishedAt = time }
    }

    public func checkpoint(source: String) async throws -> SourceCheckpoint? {
        state.withLock { $0.checkpoints[source] }
    }

    public func receipt(runID: String, key: String) async throws -> BatchReceipt? {
        state.withLock { $0.receipts[runID]?[key] }
    }

    public func runs() async throws -> [RunRecord] {
        state.withLock { state in
            state.runs.values.sorted { ($0.startedAt, $0.runID) > ($1.startedAt, $1.runID) }
        }
    }

    public func run(id: String) async throws -> RunRecord? {
        state.withLock { $0.runs[id] }
    }

    public func steps(runID: String, sinceStep: Int?, limit: Int?) async throws -> [StoredStep] {
        state.withLock { state in
            var rows = state.steps[runID] ?? []
            if let sinceStep { rows = rows.filter { $0.metrics.step >= sinceStep } }
            if let limit { rows = Array(rows.prefix(max(0, limit))) }
            return rows
        }
    }

    public func alerts(runID: String, filter: AlertFilter) async throws -> [AlertRecord] {
        state.withLock { state in
            let rows = state.alerts[runID] ?? []
            switch filter {
            case .all: return rows
            case .delivered: return rows.filter { $0.disposition.isDelivered }
            case .suppressed: return rows.filter { !$0.disposition.isDelivered }
            }
        }
    }

    public func stepCount(runID: String) async throws -> Int {
        state.withLock { $0.steps[runID]?.count ?? 0 }
    }

    /// Drops the rows that arrived before `time`; receipts carry no time here and stay.
    public func pruneSteps(before time: Double) async throws -> Int {
        state.withLock { state in
            var deleted = 0
            for runID in state.steps.keys {
                let before = state.steps[runID]?.count ?? 0
                state.steps[runID]?.removeAll { $0.timestamp < time }
                deleted += before - (state.steps[runID]?.count ?? 0)
            }
            return deleted
        }
    }
}

extension InMemoryStore {
    public func claimDueDeliveries(at time: Double, leaseUntil: Double, limit: Int) async throws -> [DueDelivery] {
        state.withLock { state in
            let due = state.deliveries.indices
                .filter { state.deliveries[$0].status == .pending && state.deliveries[$0].nextAttemptAt <= time }
                .sorted { (state.deliveries[$0].nextAttemptAt, $0) < (state.deliveries[$1].nextAttemptAt, $1) }
                .prefix(max(0, limit))
            return due.compactMap { index in
                state.deliveries[index].nextAttemptAt = leaseUntil
                let delivery = state.deliveries[index]
                return state.alertsByID[delivery.alertID].map { DueDelivery(delivery: delivery, alert: $0) }
            }
        }
    }

    public func nextDeliveryDue() async throws -> Double? {
        state.withLock { state in state.deliveries.filter { $0.status == .pending }.map(\.nextAttemptAt).min() }
    }

    public func recordDeliveryAttempt(_ attempt: DeliveryAttemptRecord, status: DeliveryStatus, nextAttemptAt: Double)
        async throws
    {
        state.withLock { state in
            state.attempts[attempt.deliveryID, default: []].append(attempt)
            guard let index = state.deliveries.firstIndex(where: { $0.id == attempt.deliveryID }),
                state.deliveries[index].status == .pending
            else { return }
            state.deliveries[index].status = status
            state.deliveries[index].attempts = max(state.deliveries[index].attempts, attempt.attempt)
            state.deliveries[index].nextAttemptAt = nextAttemptAt
            state.deliveries[index].updatedAt = attempt.time + attempt.durationSeconds
            state.deliveries[index].lastOutcome = attempt.outcome
            state.deliveries[index].lastDetail = attempt.detail
        }
    }

    public func deliveries(runID: String?, filter: DeliveryFilter) async throws -> [DeliveryRecord] {
        state.withLock { state in
            state.deliveries.filter { (runID == nil || $0.runID == runID) && filter.matches($0.status) }
        }
    }

    public func deliveryAttempts(deliveryID: Int64) async throws -> [DeliveryAttemptRecord] {
        state.withLock { $0.attempts[deliveryID] ?? [] }
    }
}

extension InMemoryStore {
    public func recordTrainingCheckpoint(_ checkpoint: TrainingCheckpoint, runID: String) async throws -> Bool {
        state.withLock { state in
            if state.trainingCheckpoints[runID, default: []].contains(where: { $0.path == checkpoint.path }) { return false }
            state.trainingCheckpoints[runID, default: []].append(checkpoint)
            return true
        }
    }

    public func trainingCheckpoints(runID: String) async throws -> [TrainingCheckpoint] {
        TrainingCheckpoint.listed(state.withLock { $0.trainingCheckpoints[runID] ?? [] })
    }
}

extension InMemoryStore {
    public func recordAlertAction(_ action: AlertActionRecord) async throws {
        state.withLock { state in
            var stored = action
            stored.id = state.nextActionID
            state.nextActionID += 1
            state.actions[action.runID, default: []].append(stored)
        }
    }

    public func alertActions(runID: String) async throws -> [AlertActionRecord] {
        state.withLock { $0.actions[runID] ?? [] }
    }
}
