import Foundation
import Hummingbird
import RLWatch
import RLWatchCore
import RLWatchStore

/// The server's liveness watchdog: the system clock in `rlwatch serve`, a test clock in tests.
public typealias ServerWatchdog = LivenessWatchdog<AnyWallClock>

extension APIRoutes {
    /// Records a stored batch's arrival with the watchdog and stores what it found (a stall's "resumed" note, a
    /// throughput warning); call it under the session's lock, after the batch was stored.
    func livenessAfterBatch(_ steps: [MetricStep], session: RunSession) async {
        guard let liveness else { return }
        let findings = liveness.stepsArrived(runID: session.runID, batch: steps, config: session.monitor.config)
        guard !findings.isEmpty else { return }
        do {
            try await session.pipeline.record(findings, at: liveness.now)
        } catch {
            logger.error("could not store the liveness alerts of run \(session.runID): \(error)")
        }
    }

    /// The largest crash report accepted: an exception type, a message (a traceback's tail) and an exit code.
    static let maxCrashReportBytes = 64 << 10

    /// `POST /api/v1/runs/{run}/crash` `{"exception_type", "message", "exit_code"}`: the client saw its training
    /// process die. Raises `run_crashed` (critical) and closes the run, so it is not reported stalled as well.
    func crash(_ request: Request, runID: String) async throws -> Response {
        let body = try await collect(
            request, upTo: Self.maxCrashReportBytes, advice: "shorten the message (the end of a traceback is enough)")
        let fields = try Self.jsonObject(body, shape: #"{"exception_type", "message", "exit_code"}"#)
        func text(_ key: String) throws -> String {
            switch fields[key] {
            case nil, .null?: return ""
            case .string(let value)?: return value
            default: throw APIError.badRequest("\(key) must be a string", field: key)
            }
        }
        var exitCode: Int?
        switch fields["exit_code"] {
        case nil, .null?: exitCode = nil
        case .int(let value)?: exitCode = value
        default: throw APIError.badRequest("exit_code must be an integer", field: "exit_code")
        }
        let report = CrashReport(exceptionType: try text("exception_type"), message: try text("message"), exitCode: exitCode)
        guard let session = try await registry.session(for: runID) else {
            throw APIError.notFound("run \(runID) not found")
        }
        let now = liveness?.now ?? registry.now
        let outcomes: [AlertOutcome] = try await session.lock.run {
            let config = session.monitor.config
            let findings: [LivenessFinding]
            if let liveness {
                findings = liveness.crashed(
                    runID: runID, report: report, config: config, lastStep: session.monitor.progress.lastStep)
            } else {
                findings = config.crash.enabled ? [LivenessFinding(alert: report.alert(lastStep: session.monitor.progress.lastStep))] : []
            }
            let outcomes = try await session.pipeline.record(findings, at: now)
            try await store.finishRun(id: runID, at: now)
            registry.evict(session)
            return outcomes
        }
        let delivered = outcomes.filter { $0.disposition.isDelivered }.map(\.alert)
        metrics.accepted(steps: 0, alerts: delivered)
        let answer: JSONValue = .object([
            ("run_id", .string(runID)), ("finished_at", .double(now)), ("alerts", .array(delivered.map(\.json))),
        ])
        return Self.json(answer.serialized(), status: .ok)
    }
}
