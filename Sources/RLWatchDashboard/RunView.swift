import Foundation
import RLWatch
import RLWatchCore
import RLWatchStore
import Synchronization

/// Everything the run page shows about one run, read from the store in one go.
struct RunView: Sendable {
    var run: RunRecord
    /// The number of metric rows (the rows themselves are not kept: see ``series``).
    var rowCount: Int
    /// Every alert, delivered or suppressed, in arrival order.
    var alerts: [AlertRecord]
    var diagnosis: Diagnosis
    /// The last row at the largest step.
    var lastRow: StoredStep?
    /// When the last row arrived (the run's start when it has none).
    var lastArrival: Double
    var stalled: Bool
    /// The downsampled line of each chart (``ChartData/series(rows:alerts:)``).
    var series: [MetricName: [(String, JSONValue)]]
    /// The entropy chart's threshold line (``ChartData/collapseThreshold(run:rows:)``).
    var collapseThreshold: (value: Double, label: String)?

    var delivered: [AlertRecord] { alerts.filter { $0.disposition.isDelivered } }
    var lastAlertID: Int64 { alerts.compactMap(\.id).max() ?? 0 }

    /// Reads a run's rows and builds the view from them.
    static func load(
        from store: any Store, run: RunRecord, alerts: [AlertRecord], now: Double, stallAfter: Double
    ) async throws -> RunView {
        let rows = try await store.steps(runID: run.runID)
        let diagnosis = Diagnosis(run: run, steps: rows.map(\.metrics), alerts: alerts)
        let lastArrival = rows.last?.timestamp ?? run.startedAt
        return RunView(
            run: run, rowCount: rows.count, alerts: alerts, diagnosis: diagnosis,
            lastRow: rows.max { ($0.metrics.step, $0.timestamp) < ($1.metrics.step, $1.timestamp) },
            lastArrival: lastArrival,
            stalled: RunOverview.isStalled(run: run, lastArrival: lastArrival, now: now, stallAfter: stallAfter),
            series: ChartData.series(rows: rows, alerts: alerts),
            collapseThreshold: ChartData.collapseThreshold(run: run, rows: rows))
    }
}

/// Keeps the last few run views read, so that reloading a page, or several people looking at one long run, does
/// not read all of its rows again.
///
/// An entry is reused while the run's row count, its alerts (count and newest id) and its record (finish time,
/// config) are unchanged: three small queries instead of reading, say, 100k rows. Anything else reads the run
/// again. At most `capacity` runs are kept (least recently used first out).
final class RunViewCache: Sendable {
    private struct Entry: Sendable {
        var runID: String
        var stamp: Stamp
        var view: RunView
    }

    private struct Stamp: Hashable, Sendable {
        var rows: Int
        var alerts: Int
        var lastAlertID: Int64
        var run: RunRecord
    }

    private let entries = Mutex<[Entry]>([])
    let capacity: Int

    init(capacity: Int = 4) { self.capacity = capacity }

    /// The view of a run, or nil when the store has no run with this id.
    func view(from store: any Store, runID: String, now: Double, stallAfter: Double) async throws -> RunView? {
        guard let run = try await store.run(id: runID) else { return nil }
        let alerts = try await store.alerts(runID: runID, filter: .all)
        let stamp = Stamp(
            rows: try await store.stepCount(runID: runID), alerts: alerts.count,
            lastAlertID: alerts.compactMap(\.id).max() ?? 0, run: run)
        let cached = entries.withLock { entries -> RunView? in
            guard let index = entries.firstIndex(where: { $0.runID == runID && $0.stamp == stamp }) else { return nil }
            let entry = entries.remove(at: index)
            entries.append(entry)
            return entry.view
        }
        if var view = cached {
            view.stalled = RunOverview.isStalled(run: run, lastArrival: view.lastArrival, now: now, stallAfter: stallAfter)
            return view
        }
        let view = try await RunView.load(from: store, run: run, alerts: alerts, now: now, stallAfter: stallAfter)
        guard view.rowCount == stamp.rows else { return view }  // rows arrived meanwhile: do not cache a mix
        entries.withLock { entries in
            entries.removeAll { $0.runID == runID }
            entries.append(Entry(runID: runID, stamp: stamp, view: view))
            if entries.count > capacity { entries.removeFirst(entries.count - capacity) }
        }
        return view
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
