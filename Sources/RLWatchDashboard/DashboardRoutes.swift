import Foundation
import Hummingbird
import Logging
import RLWatch
import RLWatchCore
import RLWatchStore

/// What the dashboard needs to know besides the store.
public struct DashboardOptions: Sendable {
    /// An open run that sent nothing for this many seconds is marked stalled; nil (the default): each run's own
    /// stall limit, from its stored config (`stall.after_seconds`, else `stall.min_after_seconds` and
    /// `stall.interval_multiplier`), the limit its `run_stalled` alerts use.
    public var stallAfter: Double?
    public var live = LiveUpdateOptions()

    public init() {}
}

/// The web dashboard's routes: pages, assets, exports and live updates, on any Hummingbird router.
///
/// `rlwatch serve` mounts them next to its JSON API (the paths do not overlap: `/`, `/run`, `/compare`, `/events`,
/// `/export/…`, `/assets/…`); `rlwatch dashboard` serves them alone (``DashboardServer``). Run ids travel in query
/// parameters, so any id (spaces, `?`, `#`, `<script>`) makes a valid link.
public struct DashboardRoutes: Sendable {
    let store: any Store
    let options: DashboardOptions
    let live: LiveUpdates
    let views = RunViewCache()
    /// The wall clock the stall mark compares stored arrival times with.
    let wallClock: AnyWallClock
    let logger: Logger

    /// - Parameters:
    ///   - store: where runs are read from.
    ///   - options: the stall mark and live-update limits.
    ///   - clock: paces the live-update polls.
    ///   - wallClock: the wall clock the stall mark compares stored arrival times with; tests pass one they set.
    ///   - logger: where failed requests are logged.
    public init(
        store: any Store, options: DashboardOptions = DashboardOptions(), clock: any Clock<Duration> = ContinuousClock(),
        wallClock: AnyWallClock = .system, logger: Logger = .current
    ) {
        self.store = store
        self.options = options
        self.live = LiveUpdates(store: store, options: options.live, clock: clock)
        self.wallClock = wallClock
        self.logger = logger
    }

    /// Adds the dashboard's routes to `router`.
    public func register(on router: Router<BasicRequestContext>) {
        router.get("/") { request, _ in await self.page { try await self.runsList(request) } }
        router.get("/run") { request, _ in await self.page { try await self.runPage(request) } }
        router.get("/compare") { request, _ in await self.page { try await self.comparePage(request) } }
        router.get("/events") { request, _ in await self.page { try await self.events(request) } }
        router.get("/export/metrics.csv") { request, _ in await self.page { try await self.export(request, .metricsCSV) } }
        router.get("/export/metrics.jsonl") { request, _ in await self.page { try await self.export(request, .metricsJSONL) } }
        router.get("/export/alerts.csv") { request, _ in await self.page { try await self.export(request, .alertsCSV) } }
        router.get("/assets/dashboard.css") { request, _ in AssetFile.css.response(to: request) }
        router.get("/assets/dashboard.js") { request, _ in AssetFile.javascript.response(to: request) }
    }

    // MARK: Pages

    private func runsList(_ request: Request) async throws -> Response {
        let query = request.uri.queryParameters["q"].map(String.init)?.trimmingCharacters(in: .whitespaces) ?? ""
        let all = try await store.runs()
        let needle = query.lowercased()
        let matching = needle.isEmpty ? all : all.filter { ($0.runID + " " + $0.framework).lowercased().contains(needle) }
        let time = wallClock.now.secondsSince1970
        var overviews: [RunOverview] = []
        for run in matching.prefix(Pages.maxRuns) {
            overviews.append(try await RunOverview.load(from: store, run: run, now: time, stallAfter: options.stallAfter))
        }
        return Self.html(Pages.runsList(overviews, query: query, total: matching.count))
    }

    private func runPage(_ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        guard let runID = query["id"].map(String.init), !runID.isEmpty else {
            return Self.html(Pages.message(title: "No run", text: "Pick a run from the list."), status: .badRequest)
        }
        guard let view = try await views.view(from: store, runID: runID, now: wallClock.now.secondsSince1970, stallAfter: options.stallAfter) else {
            return Self.html(Pages.message(title: "Run not found", text: "There is no run \(runID) in this database."), status: .notFound)
        }
        var events = "/events?run=\(HTML.queryValue(runID))&after_alert=\(view.lastAlertID)"
        if let last = view.lastRow?.metrics.step { events += "&after_step=\(last)" }
        return Self.html(Pages.run(view, filters: Self.filters(request), eventsURL: events))
    }

    private func comparePage(_ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        var ids: [String] = []
        for id in query[values: "run"].map(String.init) where !id.isEmpty && !ids.contains(id) { ids.append(id) }
        let time = wallClock.now.secondsSince1970
        var views: [RunView] = []
        for id in ids.prefix(ChartData.palette.count) {
            if let view = try await self.views.view(from: store, runID: id, now: time, stallAfter: options.stallAfter) {
                views.append(view)
            }
        }
        if views.count < 2 {
            return Self.html(Pages.comparePicker(try await store.runs(), selected: ids))
        }
        return Self.html(Pages.compare(views, filters: Self.filters(request)))
    }

    static func filters(_ request: Request) -> AlertTableFilters {
        let query = request.uri.queryParameters
        func text(_ key: Substring) -> String? { query[key].map(String.init).flatMap { $0.isEmpty ? nil : $0 } }
        return AlertTableFilters(
            detector: text("detector"), severity: text("severity"), from: text("from").flatMap { Int($0) },
            to: text("to").flatMap { Int($0) })
    }

    // MARK: Live updates

    private func events(_ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        guard let runID = query["run"].map(String.init), try await store.run(id: runID) != nil else {
            return Response(status: .notFound, headers: [.contentType: "text/plain; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: "run not found\n")))
        }
        var afterStep = query["after_step"].flatMap { Int(String($0)) }
        var afterAlert = query["after_alert"].flatMap { Int64(String($0)) } ?? 0
        // A reconnecting EventSource sends the id of the last event it received: "STEP:ALERTID".
        if let last = request.headers.first(where: { $0.name.canonicalName == "last-event-id" })?.value {
            let parts = last.split(separator: ":", omittingEmptySubsequences: false)
            if parts.count == 2 {
                afterStep = Int(parts[0]) ?? afterStep
                afterAlert = Int64(parts[1]) ?? afterAlert
            }
        }
        return live.response(runID: runID, afterStep: afterStep, afterAlert: afterAlert)
    }

    // MARK: Exports

    enum ExportKind {
        case metricsCSV, metricsJSONL, alertsCSV

        var file: (name: String, type: String) {
            switch self {
            case .metricsCSV: ("rlwatch_metrics.csv", "text/csv; charset=utf-8")
            case .metricsJSONL: ("rlwatch_metrics.jsonl", "application/x-ndjson; charset=utf-8")
            case .alertsCSV: ("rlwatch_alerts.csv", "text/csv; charset=utf-8")
            }
        }
    }

    /// Streams the export in chunks of 1,000 lines, one run after the other, so memory stays at one run's rows.
    private func export(_ request: Request, _ kind: ExportKind) async throws -> Response {
        var wanted: [String] = []
        for id in request.uri.queryParameters[values: "run"].map(String.init) where !wanted.contains(id) { wanted.append(id) }
        for id in wanted where try await store.run(id: id) == nil {
            return Response(status: .notFound, headers: [.contentType: "text/plain; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: "run not found: \(id)\n")))
        }
        guard !wanted.isEmpty else {
            return Response(status: .badRequest, headers: [.contentType: "text/plain; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: "name at least one run: ?run=ID\n")))
        }
        let store = store
        let ids = wanted
        let file = kind.file
        let headers: HTTPFields = [
            .contentType: file.type, .contentDisposition: "attachment; filename=\"\(file.name)\"", .cacheControl: "no-store",
        ]
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                var chunk = ""
                func line(_ text: String, _ writer: inout any ResponseBodyWriter) async throws {
                    chunk += text
                    if chunk.utf8.count >= 64 << 10 {
                        try await writer.write(ByteBuffer(string: chunk))
                        chunk = ""
                    }
                }
                switch kind {
                case .metricsCSV: try await line(Exports.csvLine(Exports.metricsHeader), &writer)
                case .alertsCSV: try await line(Exports.csvLine(Exports.alertsHeader), &writer)
                case .metricsJSONL: break
                }
                for id in ids {
                    switch kind {
                    case .metricsCSV, .metricsJSONL:
                        for row in try await store.steps(runID: id) {
                            try await line(kind == .metricsCSV ? Exports.metricsCSV(row) : Exports.metricsJSONL(row), &writer)
                        }
                    case .alertsCSV:
                        for record in try await store.alerts(runID: id, filter: .all) {
                            try await line(Exports.alertsCSV(record), &writer)
                        }
                    }
                }
                if !chunk.isEmpty { try await writer.write(ByteBuffer(string: chunk)) }
                try await writer.finish(nil)
            })
    }

    // MARK: Helpers

    /// Runs a handler; a failure is logged and answered with a page that says in a few words what failed (a 503
    /// with `Retry-After` when the store failed): the store's own message and SQL stay in the log.
    private func page(_ body: () async throws -> Response) async -> Response {
        do {
            return try await body()
        } catch {
            logger.error("dashboard request failed: \(error)")
            guard let summary = StorageFailure.summary(of: error) else {
                return Self.html(
                    Pages.message(title: "Error", text: "The dashboard failed (the server's log has the details)."),
                    status: .internalServerError)
            }
            var response = Self.html(
                Pages.message(title: "Error", text: "The dashboard could not read the store: \(summary). Retry later."),
                status: .serviceUnavailable)
            response.headers[.retryAfter] = "5"
            return response
        }
    }

    static let securityHeaders: HTTPFields = [
        .contentSecurityPolicy:
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        .xContentTypeOptions: "nosniff",
        .cacheControl: "no-store",
    ]

    static func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers = securityHeaders
        headers[.contentType] = "text/html; charset=utf-8"
        if let referrer = HTTPFields.Element.Name("Referrer-Policy") { headers[referrer] = "no-referrer" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
