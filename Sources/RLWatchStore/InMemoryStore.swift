import RLWatchCore
import Synchronization

/// A store that keeps everything in memory: for tests and `--no-store` runs.
public final class InMemoryStore: Store {
    private struct State {
        var runs: [String: RunRecord] = [:]
        var steps: [String: [StoredStep]] = [:]
        var alerts: [String: [AlertRecord]] = [:]
        var nextAlertID: Int64 = 1
        var checkpoints: [String: SourceCheckpoint] = [:]
        var receipts: [String: [String: BatchReceipt]] = [:]
    }

    private let state = Mutex(State())

    public init() {}

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
            for step in steps { state.steps[step.runID, default: []].append(step) }
            for var alert in alerts {
                alert.id = state.nextAlertID
                state.nextAlertID += 1
                state.alerts[alert.runID, default: []].append(alert)
            }
        }
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
}
