import Foundation
import Hummingbird
import RLWatchCore
import RLWatchStore
import ServiceLifecycle
import Synchronization

/// How the live-update streams behave.
public struct LiveUpdateOptions: Sendable {
    /// How often an open stream asks the store for rows and alerts newer than the last it sent.
    public var pollInterval: Duration = .milliseconds(500)
    /// A comment line is sent after this long without news, so a closed connection is noticed.
    public var heartbeat: Duration = .seconds(10)
    /// The most streams open at once; one more is answered 503 (the page retries).
    public var maxStreams = 64
    /// The most rows one event carries; a backlog is sent in several events without waiting.
    public var maxRowsPerEvent = 2_000

    public init() {}
}

/// The server-sent-event streams that keep open run pages current.
///
/// Each stream polls the store incrementally (rows at a step after the last sent, alerts with a larger id), so it
/// works the same whether the steps arrive through this process (`rlwatch serve`) or through another process
/// writing the same database (`rlwatch dashboard` beside `rlwatch watch`, several servers on one database). The
/// event id is `LASTSTEP:LASTALERTID`, so a browser that reconnects resumes where it was.
/// A stream ends when the client goes away (the next write fails), when the run is finished, and on graceful
/// shutdown.
final class LiveUpdates: Sendable {
    let store: any Store
    let options: LiveUpdateOptions
    let clock: any Clock<Duration>
    private let open = Atomic<Int>(0)

    init(store: any Store, options: LiveUpdateOptions, clock: any Clock<Duration>) {
        self.store = store
        self.options = options
        self.clock = clock
    }

    /// The number of streams open now.
    var openStreams: Int { open.load(ordering: .relaxed) }

    /// The response to `GET /events?run=ID&after_step=N&after_alert=ID` (or a `Last-Event-ID` header).
    func response(runID: String, afterStep: Int?, afterAlert: Int64) -> Response {
        let reserved = open.add(1, ordering: .relaxed).newValue
        guard reserved <= options.maxStreams else {
            open.subtract(1, ordering: .relaxed)
            return Response(
                status: .serviceUnavailable, headers: [.contentType: "text/plain; charset=utf-8", .retryAfter: "5"],
                body: .init(byteBuffer: ByteBuffer(string: "too many live pages open; retry later\n")))
        }
        let headers: HTTPFields = [
            .contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-cache", .xContentTypeOptions: "nosniff",
        ]
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                defer { self.open.subtract(1, ordering: .relaxed) }
                try await self.stream(runID: runID, afterStep: afterStep, afterAlert: afterAlert, to: &writer)
            })
    }

    private func stream(runID: String, afterStep: Int?, afterAlert: Int64, to writer: inout any ResponseBodyWriter) async throws {
        let stop = Atomic<Bool>(false)
        var lastStep = afterStep
        var lastAlert = afterAlert
        var quiet = Duration.zero
        // Tells EventSource to reconnect after 2 s if the connection drops.
        try await writer.write(ByteBuffer(string: "retry: 2000\n\n"))
        try await withGracefulShutdownHandler {
            while !stop.load(ordering: .relaxed), !Task.isCancelled {
                guard let run = try await store.run(id: runID) else {
                    try await writer.write(ByteBuffer(string: "event: gone\ndata: {}\n\n"))
                    break
                }
                let rows = try await store.steps(
                    runID: runID, sinceStep: lastStep.map { $0 == Int.max ? $0 : $0 + 1 }, limit: options.maxRowsPerEvent)
                let alerts = try await store.alerts(runID: runID, filter: .all).filter { ($0.id ?? 0) > lastAlert }
                if !rows.isEmpty || !alerts.isEmpty {
                    lastStep = rows.map(\.metrics.step).max().map { max($0, lastStep ?? Int.min) } ?? lastStep
                    lastAlert = alerts.compactMap(\.id).max().map { max($0, lastAlert) } ?? lastAlert
                    let count = try await store.stepCount(runID: runID)
                    let event = Self.update(
                        rows: rows, alerts: alerts, steps: count, lastStep: lastStep, finished: run.finishedAt != nil)
                    try await writer.write(
                        ByteBuffer(string: "id: \(lastStep.map(String.init) ?? ""):\(lastAlert)\nevent: update\ndata: \(event)\n\n"))
                    quiet = .zero
                    if rows.count == options.maxRowsPerEvent { continue }
                } else if run.finishedAt != nil {
                    try await writer.write(ByteBuffer(string: "event: finished\ndata: {}\n\n"))
                    break
                } else if quiet >= options.heartbeat {
                    try await writer.write(ByteBuffer(string: ": ping\n\n"))
                    quiet = .zero
                }
                quiet += options.pollInterval
                try? await clock.sleep(for: options.pollInterval, tolerance: nil)
            }
        } onGracefulShutdown: {
            stop.store(true, ordering: .relaxed)
        }
        try await writer.finish(nil)
    }

    /// `{"rows": [[step, entropy, kl, …]], "alerts": [...], "steps", "last_step", "finished"}`; the row columns are
    /// ``ChartSpec/liveColumns``.
    static func update(rows: [StoredStep], alerts: [AlertRecord], steps: Int, lastStep: Int?, finished: Bool) -> String {
        let table: [JSONValue] = rows.map { row in
            .array([.int(row.metrics.step)] + ChartSpec.all.map { JSONValue.number($0.value(row.metrics)) })
        }
        return JSONValue.object([
            ("rows", .array(table)),
            ("alerts", .array(alerts.map { ChartData.alert($0, run: 0) })),
            ("steps", .int(steps)),
            ("last_step", lastStep.map(JSONValue.int) ?? .null),
            ("finished", .bool(finished)),
        ]).serialized()
    }
}
