import Foundation
import RLWatch
import RLWatchCore
import RLWatchSQLite
import RLWatchStore
import RLWatchTesting
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@testable import RLWatchDashboard

/// The dashboard over HTTP, without a browser: exports, the stall mark, the token rule, assets.
@Suite struct DashboardHTTPTests {
    /// Issue 20: idle connections stayed open forever. (The cap, shared code, is tested on `serve`.)
    @Test func idleAndStalledConnectionsAreClosed() async throws {
        let limits = ConnectionLimits(idleTimeout: .seconds(1), headerTimeout: .seconds(1), bodyTimeout: .seconds(1))
        try await withDashboard(store: InMemoryStore(), limits: limits) { client in
            let port = try #require(client.baseURL.port)
            let idle = try (0..<20).map { _ in try RawConnection(port: port) }
            let slowHeaders = try RawConnection(port: port)
            try slowHeaders.send("GET / HTTP/1.1\r\nHost: 127.")
            let health = try RawConnection(port: port)
            try health.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            let answer = try await health.readUntilClosed()
            #expect(answer.hasPrefix("HTTP/1.1 200"), "\(answer)")
            try await waitUntil("idle and stalled connections closed", timeout: .seconds(60)) {
                idle.allSatisfy(\.isClosedByPeer) && slowHeaders.isClosedByPeer
            }
        }
    }

    @Test func metricsCSVAndJSONLRoundTripStoredValuesIncludingNonFinite() async throws {
        try await withSQLiteStore { store, _ in
            let values: [Double?] = [0.5, .nan, .infinity, -.infinity, nil, 1e-300, -0.0, 123_456.789]
            for runID in ["a,\"quoted\" run", "b"] {
                try await store.registerRun(RunRecord(runID: runID, framework: "manual", startedAt: 1_700_000_000, configJSON: "{}"))
                let rows = values.enumerated().map { index, value in
                    StoredStep(
                        runID: runID, segment: 0, timestamp: 1_700_000_000.25 + Double(index),
                        metrics: MetricStep(step: index, entropy: value, klDivergence: 0.01, loss: value, gradNorm: value,
                            extras: index == 1 ? ["completions/clipped_ratio": 0.25] : [:]))
                }
                let alert = Alert(step: 2, detector: .lossNaN, severity: .critical, message: "loss, \"is\"\nnot finite",
                    metricValues: ["loss": .double(.infinity)], recommendation: "stop")
                try await store.append(steps: rows, alerts: [AlertRecord(runID: runID, timestamp: 1_700_000_002, alert: alert, disposition: .delivered)])
            }
            let stored = try await store.steps(runID: "a,\"quoted\" run") + store.steps(runID: "b")
            try await withServe(store: store) { client in
                let ids = "run=" + query("a,\"quoted\" run") + "&run=b"
                let csv = try await client.get("/export/metrics.csv?" + ids)
                #expect(csv.status == 200)
                #expect(csv.headers["content-disposition"]?.contains("rlwatch_metrics.csv") == true)
                let table = parseCSV(csv.text)
                let header = table[0]
                #expect(header.prefix(4) == ["run_id", "step", "segment", "timestamp"])
                #expect(table.count == 1 + stored.count)
                for (row, expected) in zip(table.dropFirst(), stored) {
                    let cell = Dictionary(uniqueKeysWithValues: zip(header, row))
                    #expect(cell["run_id"] == expected.runID)
                    #expect(Int(cell["step"] ?? "") == expected.metrics.step)
                    #expect(Double(cell["timestamp"] ?? "") == expected.timestamp)
                    for name in MetricName.allCases {
                        let text = cell[name.rawValue] ?? "?"
                        let parsed: Double? = text.isEmpty ? nil : Double(text)
                        #expect(same(parsed, expected.metrics[name]), "\(name) of step \(expected.metrics.step): \(text)")
                        if !text.isEmpty { #expect(parsed != nil, "\(text) does not parse") }
                    }
                }
                let jsonl = try await client.get("/export/metrics.jsonl?" + ids)
                let lines = jsonl.text.split(separator: "\n")
                #expect(lines.count == stored.count)
                for (line, expected) in zip(lines, stored) {
                    let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                    #expect(object["run_id"] as? String == expected.runID)
                    let loss: Double? = (object["loss"] as? Double) ?? (object["loss"] as? String).flatMap(Double.init)
                    #expect(same(loss, expected.metrics.loss))
                }
                let alerts = parseCSV(try await client.get("/export/alerts.csv?" + ids).text)
                #expect(alerts.count == 3)
                #expect(alerts[1][0] == "a,\"quoted\" run")
                #expect(alerts[1][7] == "loss, \"is\"\nnot finite")
                #expect(alerts[2][0] == "b")
                #expect((try await client.get("/export/metrics.csv?run=nope")).status == 404)
            }
        }
    }

    /// Issue 20: client text that starts a cell as a formula is exported inert; numbers are left alone.
    @Test func csvExportsNeutraliseFormulas() async throws {
        try await withSQLiteStore { store, _ in
            let runID = "=HYPERLINK(\"http://evil\",\"x\")"
            try await store.registerRun(RunRecord(runID: runID, framework: "manual", startedAt: 1_700_000_000, configJSON: "{}"))
            let step = StoredStep(
                runID: runID, segment: 0, timestamp: 1_700_000_000, metrics: MetricStep(step: -3, loss: -0.5, extras: ["@x": 1]))
            let alert = Alert(step: -3, detector: .lossNaN, severity: .critical, message: "+cmd|' /C calc'!A0",
                metricValues: [:], recommendation: "-stop")
            try await store.append(steps: [step], alerts: [AlertRecord(runID: runID, timestamp: 1_700_000_000, alert: alert, disposition: .delivered)])
            try await withServe(store: store) { client in
                let metrics = parseCSV(try await client.get("/export/metrics.csv?run=" + query(runID)).text)
                let header = metrics[0]
                let cell = Dictionary(uniqueKeysWithValues: zip(header, metrics[1]))
                #expect(cell["run_id"] == "'" + runID)
                #expect(cell["step"] == "-3")
                #expect(cell["loss"] == "-0.5")
                let alerts = parseCSV(try await client.get("/export/alerts.csv?run=" + query(runID)).text)
                #expect(alerts[1][0] == "'" + runID)
                #expect(alerts[1][2] == "-3")
                #expect(alerts[1][7] == "'+cmd|' /C calc'!A0")
                #expect(alerts[1][8] == "'-stop")
            }
        }
    }

    @Test func runsListMarksOpenRunsThatStoppedSendingAsStalled() async throws {
        try await withSQLiteStore { store, _ in
            let now = 1_800_000_000.0
            for (runID, lastArrival, finished) in [("quiet", now - 3600, false), ("busy", now - 5, false), ("done", now - 7200, true)] {
                try await store.registerRun(RunRecord(runID: runID, framework: "trl", startedAt: now - 9000, configJSON: "{}"))
                let rows = (0..<30).map {
                    StoredStep(runID: runID, segment: 0, timestamp: lastArrival - Double(30 - $0), metrics: MetricStep(step: $0 * 10, entropy: 1))
                }
                try await store.append(steps: rows, alerts: [])
                if finished { try await store.finishRun(id: runID, at: lastArrival) }
            }
            try await withDashboard(store: store, now: { now }) { client in
                let page = try await client.get("/")
                #expect(page.status == 200)
                let rows = page.text.components(separatedBy: "<tr data-run=").dropFirst()
                let stalled = rows.filter { $0.contains("data-stalled=\"true\"") }.map { String($0.prefix(8)) }
                #expect(stalled == ["\"quiet\" "])
                #expect(page.text.contains(">290<"), "last step")
                #expect((try await client.get("/?q=bus")).text.contains("data-run=\"busy\""))
                #expect(!(try await client.get("/?q=bus")).text.contains("data-run=\"quiet\""))
            }
        }
    }

    @Test func tokenIsRequiredAndABrowserGetsItOnceThenByCookie() async throws {
        let store = InMemoryStore()
        try await seedCollapsingRun(store, runID: "r1", steps: 50)
        for standalone in [false, true] {
            let body: (HTTPTestClient) async throws -> Void = { client in
                let base = client.baseURL.absoluteString
                let denied = try await rawGet(base + "/run?id=r1")
                #expect(denied.status == 401)
                #expect(denied.body.contains("?token="), "the 401 page says how to get in")
                #expect(try await rawGet(base + "/?token=wrong").status == 401)
                let granted = try await rawGet(base + "/run?id=r1&token=s3cret")
                #expect(granted.status == 303)
                #expect(granted.headers["location"] == "/run?id=r1")
                let cookie = try #require(granted.headers["set-cookie"])
                #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"))
                #expect(!cookie.contains("s3cret"), "the cookie holds a value derived from the token, not the token")
                #expect(!cookie.contains("Secure"), "plain HTTP: a Secure cookie would never be sent back")
                let viaProxy = try await rawGet(base + "/?token=s3cret", headers: ["X-Forwarded-Proto": "https"])
                #expect(viaProxy.headers["set-cookie"]?.hasSuffix("; Secure") == true, "behind a TLS proxy")
                let pair = String(cookie.split(separator: ";")[0])
                #expect(try await rawGet(base + "/run?id=r1", headers: ["Cookie": pair]).status == 200)
                // The token itself in the cookie (what a stolen 0.x cookie held) opens nothing.
                #expect(try await rawGet(base + "/run?id=r1", headers: ["Cookie": "rlwatch_token=s3cret"]).status == 401)
                #expect(try await rawGet(base + "/export/alerts.csv?run=r1", headers: ["Cookie": pair]).status == 200)
                #expect(try await rawGet(base + "/run?id=r1", headers: ["Authorization": "Bearer s3cret"]).status == 200)
                #expect(try await rawGet(base + "/healthz").status == 200)
                if !standalone {
                    // The API reads with the cookie, but writing needs the bearer header.
                    #expect(try await rawGet(base + "/api/v1/runs", headers: ["Cookie": pair]).status == 200)
                    #expect(try await rawGet(base + "/api/v1/runs").status == 401)
                    let post = try await client.send("POST", "/api/v1/runs", body: Data("{}".utf8), headers: ["Cookie": pair, "Content-Type": "application/json"])
                    #expect(post.status == 401)
                }
            }
            if standalone {
                try await withDashboard(store: store, token: "s3cret", body)
            } else {
                try await withServe(store: store, token: "s3cret", body)
            }
        }
    }

    @Test func assetsAreServedFromTheBinaryWithETags() async throws {
        try await withDashboard(store: InMemoryStore()) { client in
            for path in ["/assets/dashboard.js", "/assets/dashboard.css"] {
                let asset = try await client.get(path)
                #expect(asset.status == 200)
                let etag = try #require(asset.headers["etag"])
                #expect(asset.headers["cache-control"]?.contains("max-age") == true)
                print("\(path): \(asset.body.count) bytes")
                let again = try await rawGet(client.baseURL.absoluteString + path, headers: ["If-None-Match": etag])
                #expect(again.status == 304)
            }
            let page = try await client.get("/")
            #expect(page.headers["content-security-policy"]?.contains("script-src 'self'") == true)
            #expect(!page.text.contains("http://") && !page.text.contains("https://"), "no external resource")
        }
    }

    @Test func liveStreamSendsOnlyNewRowsAndAlerts() async throws {
        let store = InMemoryStore()
        try await seedCollapsingRun(store, runID: "s", steps: 100)
        try await withDashboard(store: store) { client in
            let url = client.baseURL.appendingPathComponent("events")
            let stream = StreamReader(url: URL(string: url.absoluteString + "?run=s&after_step=97&after_alert=999999")!)
            defer { stream.cancel() }
            try await waitFor("an update event") { stream.text.contains("data: {\"rows\"") && stream.text.hasSuffix("\n\n") }
            #expect(stream.status == 200)
            let lines = stream.text.components(separatedBy: "\n").filter { !$0.isEmpty }
            let data = try #require(lines.first { $0.hasPrefix("data: {\"rows\"") }?.dropFirst("data: ".count))
            let event = try #require(try JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: Any])
            let rows = try #require(event["rows"] as? [[Any]])
            #expect(rows.map { $0[0] as? Int } == [98, 99])
            #expect((event["alerts"] as? [Any])?.isEmpty == true)
            #expect(event["steps"] as? Int == 100)
            #expect(lines.contains("id: 99:999999"))
        }
    }
}

/// Equal, with NaN equal to NaN and nil only to nil.
func same(_ a: Double?, _ b: Double?) -> Bool {
    switch (a, b) {
    case (nil, nil): true
    case (let x?, let y?): x == y || (x.isNaN && y.isNaN)
    default: false
    }
}

/// Reads a streamed response as it arrives (server-sent events).
final class StreamReader: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    private let lock = NSLock()
    private var buffer = Data()
    private var code = 0
    private var session: URLSession!
    private var task: URLSessionDataTask!

    init(url: URL) {
        super.init()
        session = URLSession(configuration: .ephemeral, delegate: self, delegateQueue: nil)
        task = session.dataTask(with: url)
        task.resume()
    }

    var text: String { lock.withLock { String(decoding: buffer, as: UTF8.self) } }
    var status: Int { lock.withLock { code } }

    func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
        completionHandler: @escaping (URLSession.ResponseDisposition) -> Void
    ) {
        lock.withLock { code = (response as? HTTPURLResponse)?.statusCode ?? 0 }
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        lock.withLock { buffer.append(data) }
    }

    func cancel() {
        task.cancel()
        session.invalidateAndCancel()
    }
}
