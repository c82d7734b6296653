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
        /// A live run that received nothing for this long is dropped from memory (its state reloads from the
        /// store on its next request), so that a long-lived server's memory does not grow with every run it saw.
        var idleTimeout: Double = 3600
        /// Stamps the runs' rows and their last use.
        var clock: AnyWallClock = .system
    }

    let options: Options
    private let sessions = Mutex<[String: Task<RunSession?, any Error>]>([:])
    /// When idle sessions were last looked for (seconds since 1970).
    private let lastSweep: Mutex<Double>

    init(options: Options) {
        self.options = options
        lastSweep = Mutex(options.clock.now.secondsSince1970)
    }

    /// Now on the server's clock (seconds since 1970).
    var now: Double { options.clock.now.secondsSince1970 }

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
    func open(runID requested: String?, framework: String?, overrides: [String: JSONValue]) async throws -> Opened {
        // Normalised, so that the same overrides sent with their keys in another order are the same configuration.
        let overrides = overrides.mapValues(\.normalized)
        let runID = try requested.map(Self.validate) ?? Monitor.generateRunID()
        let config = try configuration(overrides: overrides)
        if let live = try await liveSession(runID) {
            guard overrides.isEmpty || overrides == live.overrides else {
                throw APIError(
                    status: 409,
                    message: "run \(runID) is live with a different configuration; finish it first or use a new run id")
            }
            if options.store.sharesRuns {
                // Other servers may have judged batches since: catch up, so that the answer's progress is current.
                try await live.lock.run {
                    if !live.isRetired { try await serialized(live) {} }
                }
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
        await evictIdleSessions()
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

    /// Drops a run's live state; the next request for it reloads it from the store. Call it holding the session's
    /// lock (it retires the session).
    ///
    /// A session is retired exactly when it leaves the map, and only here; so while its lock is held, a session that
    /// is not retired is the one the map holds for its run, and removing the run's entry removes this session.
    func evict(_ session: RunSession) {
        guard !session.isRetired else { return }
        session.retire()
        _ = sessions.withLock { $0.removeValue(forKey: session.runID) }
    }

    /// Evicts the sessions idle for longer than ``Options/idleTimeout``; runs at most once a minute.
    func evictIdleSessions(now: Double? = nil, force: Bool = false) async {
        let now = now ?? self.now
        let due = lastSweep.withLock { last -> Bool in
            guard force || now - last >= min(60, options.idleTimeout) else { return false }
            last = now
            return true
        }
        guard due else { return }
        let live = sessions.withLock { Array($0.values) }
        for task in live {
            guard let session = try? await task.value, now - session.lastUsed >= options.idleTimeout else { continue }
            await session.lock.run {
                // Used while we waited for the lock: keep it.
                guard now - session.lastUsed >= options.idleTimeout, !session.isRetired else { return }
                evict(session)
                options.logger.info("run \(session.runID) idle for \(Int(now - session.lastUsed)) s; its detector state was released")
            }
        }
    }

    /// The session of a run held in memory (awaiting a load in progress), or nil; never loads from the store.
    func liveSession(_ runID: String) async throws -> RunSession? {
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
        runID: String, framework: String?, config: RLWatchConfig, overrides: [String: JSONValue], resume: Bool
    ) async throws -> RunSession {
        let monitor = try await Monitor(
            config: config, runID: runID, framework: framework ?? config.framework, store: options.store,
            sinks: options.sinks, queueDeliveries: options.queueDeliveries, recognisingRepeats: true,
            logger: options.logger, clock: options.clock)
        let session = RunSession(monitor: monitor, overrides: overrides, now: now)
        if options.store.sharesRuns {
            // Replayed under the run's lock, so that no other server adds rows half-way; the cursor then lets each
            // batch catch up with just what the others wrote since.
            let (count, cursor) = try await options.store.withExclusiveRun(runID, after: .start) { catchUp in
                monitor.restore(from: catchUp.steps)
                return catchUp.steps.count
            }
            session.cursor = cursor
            if count > 0 { options.logger.info("resumed run \(runID) from \(count) stored step(s)") }
        } else if resume {
            let history = try await options.store.steps(runID: runID)
            monitor.restore(from: history)
            options.logger.info("resumed run \(runID) from \(history.count) stored step(s)")
        }
        return session
    }

    /// Runs `body` (which judges and stores a batch of the session's run) as the only writer of the run among every
    /// server sharing the store; call it holding the session's lock.
    ///
    /// With a store whose runs are shared (PostgreSQL), `body` runs inside the run's database lock and transaction,
    /// after the monitor replayed the rows other servers stored since it last saw the run, so the batch is judged
    /// as if one server had seen every batch; a run that another server finished meanwhile is reopened, as a batch
    /// after `finish` reopens it on one server. Other stores have one server, whose session lock is enough.
    ///
    /// When anything throws, the session is retired (its detectors may have seen rows that are not stored, or not
    /// counted by its cursor); the next request reloads the run from the store.
    func serialized<T: Sendable>(_ session: RunSession, _ body: () async throws -> T) async throws -> T {
        let shared = options.store
        guard shared.sharesRuns else { return try await body() }
        do {
            let (value, cursor) = try await shared.withExclusiveRun(session.runID, after: session.cursor) { catchUp in
                if !catchUp.steps.isEmpty { session.monitor.restore(from: catchUp.steps) }
                if var run = catchUp.run, run.finishedAt != nil {
                    run.finishedAt = nil
                    try await shared.registerRun(run)
                }
                return try await body()
            }
            session.cursor = cursor
            return value
        } catch {
            evict(session)
            throw error
        }
    }

    private func configuration(overrides: [String: JSONValue]) throws -> RLWatchConfig {
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
    static func storedOverrides(configJSON: String) -> [String: JSONValue] {
        // The store's columns are read as the store reads them: Python's NaN tokens allowed (rlwatch 0.5.1 wrote them).
        guard var root = (try? JSONReader.parse(configJSON, mode: .pythonLenient))?.members else { return [:] }
        for key in ["run_id", "storage", "dashboard"] { root.removeValue(forKey: key) }
        if case .object(let alerts) = root["alerts"] {
            root["alerts"] = .object(alerts.filter { $0.1.members == nil })
        }
        return root.filter { $0.value != .null }
    }
}
