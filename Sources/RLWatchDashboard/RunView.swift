import Foundation
import RLWatch
import RLWatchCore
import RLWatchStore

/// Everything the run page shows about one run, read from the store in one go.
struct RunView: Sendable {
    var run: RunRecord
    /// Every metric row, in arrival order.
    var rows: [StoredStep]
    /// Every alert, delivered or suppressed, in arrival order.
    var alerts: [AlertRecord]
    var diagnosis: Diagnosis
    var stalled: Bool

    var delivered: [AlertRecord] { alerts.filter { $0.disposition.isDelivered } }
    var lastRow: StoredStep? { rows.max { ($0.metrics.step, $0.timestamp) < ($1.metrics.step, $1.timestamp) } }
    var lastAlertID: Int64 { alerts.compactMap(\.id).max() ?? 0 }

    /// Reads a run, or nil when the store has no run with this id.
    static func load(from store: any Store, runID: String, now: Double, stallAfter: Double) async throws -> RunView? {
        guard let run = try await store.run(id: runID) else { return nil }
        let rows = try await store.steps(runID: runID)
        let alerts = try await store.alerts(runID: runID, filter: .all)
        let diagnosis = Diagnosis(run: run, steps: rows.map(\.metrics), alerts: alerts)
        let lastArrival = rows.last?.timestamp ?? run.startedAt
        let stalled = RunOverview.isStalled(run: run, lastArrival: lastArrival, now: now, stallAfter: stallAfter)
        return RunView(run: run, rows: rows, alerts: alerts, diagnosis: diagnosis, stalled: stalled)
    }
}

/// One line of the runs list.
struct RunOverview: Sendable {
    var run: RunRecord
    var stepCount: Int
    var lastStep: Int?
    var lastArrival: Double
    var delivered: Int
    var critical: Int
    var health: Diagnosis.Health
    var stalled: Bool

    /// A run is stalled when it is still open and nothing arrived for `stallAfter` seconds.
    static func isStalled(run: RunRecord, lastArrival: Double, now: Double, stallAfter: Double) -> Bool {
        run.finishedAt == nil && now - lastArrival > stallAfter
    }

    /// Summarises a run without reading its rows: a row count, the latest row (see `Store.latestStep`) and the
    /// alerts.
    static func load(from store: any Store, run: RunRecord, now: Double, stallAfter: Double) async throws -> RunOverview {
        let count = try await store.stepCount(runID: run.runID)
        let latest = count > 0 ? try await store.latestStep(runID: run.runID) : nil
        let alerts = try await store.alerts(runID: run.runID, filter: .all)
        let delivered = alerts.filter { $0.disposition.isDelivered }
        let lastArrival = latest?.timestamp ?? run.startedAt
        return RunOverview(
            run: run, stepCount: count, lastStep: latest?.metrics.step, lastArrival: lastArrival,
            delivered: delivered.count, critical: delivered.count { $0.alert.severity == .critical },
            health: Diagnosis.health(of: alerts),
            stalled: isStalled(run: run, lastArrival: lastArrival, now: now, stallAfter: stallAfter))
    }
}
