import Foundation
import Logging
import RLWatch
import RLWatchCore
import RLWatchStore
import Synchronization

/// The server's live runs, each with its own detector state, loaded on demand.
///
/// A run becomes live when it is opened (`POST /api/v1/runs`) or when steps arrive for a run the store knows
/// (after a server restart). Loading a stored run replays its stored rows through fresh detectors
/// (``Monitor/restore(from:)``), so a restart neither loses state nor re-raises old alerts. Concurrent requests
/// for a run that is being loaded wait for the one load.
final class RunRegistry: Sendable {
    struct Options: Sendable {
        var baseConfig: RLWatchConfig
        var store: any Store
        var sinks: [any AlertSink]
        /// Queue delivered alerts for the alert channels (an `AlertDispatcher` runs beside the server).
        var queueDeliveries = false
        var logger: Logger
    }

    let options: Options
    private let sessions = Mutex<[String: Task<RunSession?, any Error>]>([:])

    init(options: Options) {
        self.options = options
    }

    var liveCount: Int { sessions.withLock { $0.count } }

    /// The outcome of opening a run.
    struct Opened: Sendable {
        var session: RunSession
        /// True when the run already existed (live or stored).
        var resumed: Bool
    }

    /// Starts or resumes a run.
    ///
    /// - Throws: ``APIError`` 400 for an invalid run id or config override (naming the key), 409 when the run is
    ///   live with different overrides.
    func open(runID requested: String?, framework: String?, overrides: [String: ConfigValue]) async throws -> Opened {
        let runID = try requested.map(Self.validate) ?? Monitor.generateRunID()
        let config = try configuration(overrides: overrides)
        if let live = try await liveSession(runID) {
            guard overrides.isEmpty || overrides == live.overrides else {
                throw APIError(
                    status: 409,
                    message: "run \(runID) is live with a different configuration; finish it first or use a new run id")
            }
            return Opened(session: live, resumed: true)
        }
        let stored = try await options.store.run(id: runID)
        let task = sessions.withLock { map -> Task<RunSession?, any Error> in
            if let existing = map[runID] { return existing }
            let task = Task<RunSession?, any Error> {
                try await self.makeSession(
                    runID: runID, framework: framework ?? stored?.framework, config: config, overrides: overrides,
                    resume: stored != nil)
            }
            map[runID] = task
            return task
        }
        guard let session = try await value(of: task, runID: runID) else {
            throw APIError(status: 500, message: "run \(runID) could not be opened")
        }
        return Opened(session: session, resumed: stored != nil)
    }

    /// The live session of a run, loading a stored run; nil when the store does not know the run.
    func session(for runID: String) async throws -> RunSession? {
        if let live = try await liveSession(runID) { return live }
        let task = sessions.withLock { map -> Task<RunSession?, any Error> in
            if let existing = map[runID] { return existing }
            let task = Task<RunSession?, any Error> {
                guard let stored = try await self.options.store.run(id: runID) else { return nil }
                let overrides = Self.storedOverrides(configJSON: stored.configJSON)
                let config = (try? self.configuration(overrides: overrides)) ?? self.options.baseConfig
                return try await self.makeSession(
                    runID: runID, framework: stored.framework, config: config, overrides: [:], resume: true)
            }
            map[runID] = task
            return task
        }
        return try await value(of: task, runID: runID)
    }

    /// Drops a run's live state; the next request for it reloads it from the store.
    func evict(_ runID: String) {
        _ = sessions.withLock { $0.removeValue(forKey: runID) }
    }

    private func liveSession(_ runID: String) async throws -> RunSession? {
        guard let task = sessions.withLock({ $0[runID] }) else { return nil }
        return try await value(of: task, runID: runID)
    }

    /// Awaits a load; a load that failed or found nothing is forgotten so that a later request tries again.
    private func value(of task: Task<RunSession?, any Error>, runID: String) async throws -> RunSession? {
        do {
            if let session = try await task.value { return session }
        } catch {
            forget(task, runID: runID)
            throw error
        }
        forget(task, runID: runID)
        return nil
    }

    private func forget(_ task: Task<RunSession?, any Error>, runID: String) {
        sessions.withLock { map in
            if map[runID] == task { map.removeValue(forKey: runID) }
        }
    }

    private func makeSession(
        runID: String, framework: String?, config: RLWatchConfig, overrides: [String: ConfigValue], resume: Bool
    ) async throws -> RunSession {
        let monitor = try await Monitor(
            config: config, runID: runID, framework: framework ?? config.framework, store: options.store,
            sinks: options.sinks, queueDeliveries: options.queueDeliveries, logger: options.logger)
        if resume {
            let history = try await options.store.steps(runID: runID)
            monitor.restore(from: history)
            options.logger.info("resumed run \(runID) from \(history.count) stored step(s)")
        }
        return RunSession(monitor: monitor, overrides: overrides)
    }

    private func configuration(overrides: [String: ConfigValue]) throws -> RLWatchConfig {
        if overrides.isEmpty { return options.baseConfig }
        do {
            return try options.baseConfig.applying(overrides: overrides, source: .override(label: "config"))
        } catch {
            let key = error.issues.first?.key
            throw APIError(
                status: 400, message: "invalid config: " + error.issues.map(\.message).joined(separator: "; "), key: key)
        }
    }

    /// A run id: 1 to 200 characters, none of them a control character, `/` or `\`.
    static func validate(_ runID: String) throws -> String {
        guard !runID.isEmpty, runID.count <= 200,
            !runID.unicodeScalars.contains(where: {
                $0.properties.generalCategory == .control || $0 == "/" || $0 == "\\"
            })
        else {
            throw APIError.badRequest(
                "run_id must be 1 to 200 characters without control characters, `/` or `\\`", field: "run_id")
        }
        return runID
    }

    /// The detector and alert-policy settings of a stored run's config, as overrides on the server's config.
    ///
    /// Channel settings, storage and the run id are the server's own (the stored copy has its secrets redacted).
    static func storedOverrides(configJSON: String) -> [String: ConfigValue] {
        guard let data = configJSON.data(using: .utf8),
            case .object(var root) = try? JSONDecoder().decode(ConfigValue.self, from: data)
        else { return [:] }
        for key in ["run_id", "storage", "dashboard"] { root.removeValue(forKey: key) }
        if case .object(let alerts) = root["alerts"] {
            root["alerts"] = .object(alerts.filter { !($0.value.isObject) })
        }
        return root.filter { $0.value != .null }
    }
}

extension ConfigValue {
    fileprivate var isObject: Bool {
        if case .object = self { return true }
        return false
    }
}
