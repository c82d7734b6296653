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
    var state: RunState
    /// The downsampled line of each chart (``ChartData/series(rows:alerts:)``), by chart id.
    var series: [String: [(String, JSONValue)]]
    /// The charts this run has values for (``ChartData/charted(rows:)``).
    var charted: Set<String>
    /// The entropy chart's threshold line (``ChartData/collapseThreshold(run:rows:)``).
    var collapseThreshold: (value: Double, label: String)?
    /// The checkpoints the trainer saved (marked on the charts) and the actions taken on the run's alerts.
    var checkpoints: [TrainingCheckpoint] = []
    var actions: [AlertActionRecord] = []

    var delivered: [AlertRecord] { alerts.filter { $0.disposition.isDelivered } }
    var stalled: Bool { state == .stalled }
    var lastAlertID: Int64 { alerts.compactMap(\.id).max() ?? 0 }

    /// Reads a run's rows and builds the view from them.
    static func load(
        from store: any Store, run: RunRecord, alerts: [AlertRecord], now: Double, stallAfter: Double?
    ) async throws -> RunView {
        let rows = try await store.steps(runID: run.runID)
        let checkpoints = try await store.trainingCheckpoints(runID: run.runID)
        let actions = try await store.alertActions(runID: run.runID)
        let diagnosis = Diagnosis(
            run: run, steps: rows.map(\.metrics), alerts: alerts, checkpoints: checkpoints, actions: actions)
        let lastArrival = rows.last?.timestamp ?? run.startedAt
        return RunView(
            run: run, rowCount: rows.count, alerts: alerts, diagnosis: diagnosis,
            lastRow: rows.max { ($0.metrics.step, $0.timestamp) < ($1.metrics.step, $1.timestamp) },
            lastArrival: lastArrival,
            state: RunState(
                run: run, alerts: alerts, stepCount: rows.count, lastArrival: lastArrival, now: now, stallAfter: stallAfter),
            series: ChartData.series(rows: rows, alerts: alerts),
            charted: ChartData.charted(rows: rows),
            collapseThreshold: ChartData.collapseThreshold(run: run, rows: rows),
            checkpoints: checkpoints, actions: actions)
    }
}

/// Keeps the last few run views read, so that reloading a page, or several people looking at one long run, does
/// not read all of its rows again.
///
/// An entry is reused while the run's row count, its alerts (count and newest id), its record (finish time,
/// config) and its checkpoint and action counts are unchanged: five small queries instead of reading, say, 100k
/// rows. Anything else reads the run
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
        /// Checkpoints and actions arrive without rows or alerts (a checkpoint reported, a client's stop).
        var checkpoints: Int
        var actions: Int
    }

    private let entries = Mutex<[Entry]>([])
    let capacity: Int

    init(capacity: Int = 4) { self.capacity = capacity }

    /// The view of a run, or nil when the store has no run with this id.
    func view(from store: any Store, runID: String, now: Double, stallAfter: Double?) async throws -> RunView? {
        guard let run = try await store.run(id: runID) else { return nil }
        let alerts = try await store.alerts(runID: runID, filter: .all)
        let stamp = Stamp(
            rows: try await store.stepCount(runID: runID), alerts: alerts.count,
            lastAlertID: alerts.compactMap(\.id).max() ?? 0, run: run,
            checkpoints: try await store.trainingCheckpoints(runID: runID).count,
            actions: try await store.alertActions(runID: runID).count)
        let cached = entries.withLock { entries -> RunView? in
            guard let index = entries.firstIndex(where: { $0.runID == runID && $0.stamp == stamp }) else { return nil }
            let entry = entries.remove(at: index)
            entries.append(entry)
            return entry.view
        }
        if var view = cached {
            view.state = RunState(
                run: run, alerts: alerts, stepCount: view.rowCount, lastArrival: view.lastArrival, now: now,
                stallAfter: stallAfter)
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
    var state: RunState
    var stalled: Bool { state == .stalled }

    /// Summarises a run without reading its rows: a row count, the latest row (see `Store.latestStep`) and the
    /// alerts.
    static func load(from store: any Store, run: RunRecord, now: Double, stallAfter: Double?) async throws -> RunOverview {
        let count = try await store.stepCount(runID: run.runID)
        let latest = count > 0 ? try await store.latestStep(runID: run.runID) : nil
        let alerts = try await store.alerts(runID: run.runID, filter: .all)
        let delivered = alerts.filter { $0.disposition.isDelivered }
        let lastArrival = latest?.timestamp ?? run.startedAt
        return RunOverview(
            run: run, stepCount: count, lastStep: latest?.metrics.step, lastArrival: lastArrival,
            delivered: delivered.count, critical: delivered.count { $0.alert.severity == .critical },
            health: Diagnosis.health(of: alerts),
            state: RunState(run: run, alerts: alerts, stepCount: count, lastArrival: lastArrival, now: now, stallAfter: stallAfter))
    }
}

/// What the pages say a run is doing: the badge beside its id.
///
/// A run is `crashed` when its last liveness alert is a `run_crashed` and no step arrived after it; `finished`
/// when it was closed; `stalled` when a `run_stalled` alert is open (raised, no "resumed" note and no step
/// since) or when it has been silent for longer than its stall limit; `open` (the green badge) only otherwise.
/// The stall limit is the run's own, from its stored config (see ``stallLimit(configJSON:meanInterval:)``), so
/// the page agrees with the watchdog's alerts.
enum RunState: String, Sendable, Hashable {
    case open
    case stalled
    case crashed
    case finished

    /// - Parameters:
    ///   - alerts: every alert of the run (delivered, suppressed, notes).
    ///   - stepCount: the run's row count (with `lastArrival` and the start, it gives the run's mean interval).
    ///   - stallAfter: a limit that overrides the runs' own (`rlwatch dashboard --stall-after`), or nil.
    init(run: RunRecord, alerts: [AlertRecord], stepCount: Int, lastArrival: Double, now: Double, stallAfter: Double?) {
        let liveness = alerts.filter { $0.alert.detector == .runStalled || $0.alert.detector == .runCrashed }
        let last = liveness.max { ($0.timestamp, $0.id ?? 0) < ($1.timestamp, $1.id ?? 0) }
        // A step stored after the alert means the run went on (its "resumed" note is stored with that step).
        let stepsSince = last.map { lastArrival > $0.timestamp } ?? true
        if let last, last.alert.detector == .runCrashed, last.disposition.isDelivered, !stepsSince {
            self = .crashed
        } else if run.finishedAt != nil {
            self = .finished
        } else if let last, last.alert.detector == .runStalled, last.disposition.isDelivered, !stepsSince {
            self = .stalled
        } else {
            let meanInterval = stepCount > 1 ? max(0, lastArrival - run.startedAt) / Double(stepCount - 1) : nil
            let limit = stallAfter ?? Self.stallLimit(configJSON: run.configJSON, meanInterval: meanInterval)
            self = limit.map { now - lastArrival > $0 } == true ? .stalled : .open
        }
    }

    /// The silence after which the run's own config calls it stalled: `stall.after_seconds`, else the larger of
    /// `stall.min_after_seconds` and `stall.interval_multiplier` × the run's interval between steps (the mean over
    /// the run here, as the runs list reads no rows; the watchdog uses the median of recent intervals, the same
    /// for a steady run); nil when the run's config turns stall detection off. A run stored without stall
    /// settings (an older database) gets the defaults.
    static func stallLimit(configJSON: String, meanInterval: Double?) -> Double? {
        let defaults = StallConfig()
        guard let stall = (try? JSONReader.parse(configJSON, mode: .pythonLenient))?["stall"]?.members else {
            return max(defaults.minAfterSeconds, defaults.intervalMultiplier * (meanInterval ?? 0))
        }
        func number(_ key: String) -> Double? { stall[key]?.number }
        if stall["enabled"] == .bool(false) { return nil }
        if let after = number("after_seconds") { return after }
        let floor = number("min_after_seconds") ?? defaults.minAfterSeconds
        let multiplier = number("interval_multiplier") ?? defaults.intervalMultiplier
        return max(floor, multiplier * (meanInterval ?? 0))
    }

    /// The badge's hover text.
    var title: String {
        switch self {
        case .open: "open: steps arrive within the run's stall limit"
        case .stalled: "open, but no step arrived within the run's stall limit (or a run_stalled alert is open)"
        case .crashed: "the training process crashed (run_crashed) and sent no step since"
        case .finished: "closed by the trainer or the monitor"
        }
    }
}

