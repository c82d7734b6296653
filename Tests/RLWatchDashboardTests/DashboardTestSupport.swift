import Foundation
import Logging
import RLWatch
import RLWatchCore
import RLWatchDashboard
import RLWatchServer
import RLWatchSQLite
import RLWatchStore
import RLWatchTesting
import ServiceLifecycle
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Runs a real `rlwatch serve` server (`MonitorServer`, which mounts the dashboard at `/`) on 127.0.0.1 and a free
/// port for the duration of `body`, then shuts it down gracefully, as SIGTERM would.
func withServe<T: Sendable>(
    store: any Store, token: String? = nil, _ body: (HTTPTestClient) async throws -> T
) async throws -> T {
    var logger = Logger(label: "rlwatch.dashboard.test")
    logger.logLevel = .warning
    let server = MonitorServer(
        settings: ServerSettings(port: 0, token: token), config: RLWatchConfig(), store: store, logger: logger)
    return try await withService({ server.service(onListening: $0) }, logger: logger, body)
}

/// Runs the standalone dashboard (`rlwatch dashboard`) the same way.
func withDashboard<T: Sendable>(
    store: any Store, token: String? = nil, now: (@Sendable () -> Double)? = nil,
    limits: ConnectionLimits = ConnectionLimits(), _ body: (HTTPTestClient) async throws -> T
) async throws -> T {
    var logger = Logger(label: "rlwatch.dashboard.test")
    logger.logLevel = .warning
    let server = DashboardServer(
        host: "127.0.0.1", port: 0, token: token, limits: limits, routes: DashboardRoutes(
            store: store, wallClock: now.map { AnyWallClock(ManualWallClock(secondsSince1970: $0())) } ?? .system,
            logger: logger),
        logger: logger)
    return try await withService({ server.service(onListening: $0) }, logger: logger, body)
}

private func withService<T: Sendable>(
    _ make: (@escaping @Sendable (Int) async -> Void) -> any Service, logger: Logger, _ body: (HTTPTestClient) async throws -> T
) async throws -> T {
    let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
    let group = ServiceGroup(configuration: .init(services: [make { continuation.yield($0) }], logger: logger))
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw CancellationError() }
        do {
            let result = try await body(HTTPTestClient(port: port, timeout: 60))
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return result
        } catch {
            await group.triggerGracefulShutdown()
            try? await tasks.waitForAll()
            throw error
        }
    }
}

/// Runs `body` with a new SQLite store in a new temporary directory, removed afterwards.
func withSQLiteStore<T>(_ body: (SQLiteStore, URL) async throws -> T) async throws -> T {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("rlwatch-dashboard-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let store = try SQLiteStore(path: directory.appendingPathComponent("metrics.db").path)
    defer { try? store.close() }
    return try await body(store, directory)
}

/// Replays the demo's trace (healthy, then entropy collapses while KL runs away) through a real `Monitor`, with a
/// NaN loss at step 400, so the run has known alerts of several detectors.
@discardableResult
func seedCollapsingRun(_ store: any Store, runID: String, steps: Int = 500) async throws -> [AlertRecord] {
    let monitor = try await Monitor(config: RLWatchConfig(), runID: runID, framework: "trl", store: store)
    var trace = SyntheticRuns.entropyCollapseWithKLRunaway(steps: steps, collapseAt: 280, seed: 7)
    if trace.count > 400 { trace[400].loss = .nan }
    _ = try await monitor.log(batch: trace)
    return try await store.alerts(runID: runID, filter: .delivered)
}

/// `text` percent-encoded for a query value.
func query(_ text: String) -> String {
    text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? text
}

/// Parses RFC 4180 CSV (quoted fields, doubled quotes, CRLF or LF line ends).
func parseCSV(_ text: String) -> [[String]] {
    var rows: [[String]] = []
    var row: [String] = []
    var field = ""
    var quoted = false
    var characters = Array(text).makeIterator()
    var pending: Character? = nil
    while let c = pending ?? characters.next() {
        pending = nil
        if quoted {
            if c == "\"" {
                if let next = characters.next() {
                    if next == "\"" { field.append("\"") } else { quoted = false; pending = next }
                } else { quoted = false }
            } else { field.append(c) }
            continue
        }
        switch c {
        case "\"": quoted = true
        case ",": row.append(field); field = ""
        case "\r\n", "\n", "\r":
            row.append(field); field = ""
            rows.append(row); row = []
        default: field.append(c)
        }
    }
    if !field.isEmpty || !row.isEmpty { row.append(field); rows.append(row) }
    return rows
}

/// Counts the distinct colours of a PNG (decoded by Python's zlib: no image library needed here).
func distinctColours(png file: URL) throws -> Int {
    let script = """
        import sys, zlib, struct
        data = open(sys.argv[1], 'rb').read()
        assert data[:8] == b'\\x89PNG\\r\\n\\x1a\\n'
        pos, idat, w, h, ctype = 8, b'', 0, 0, 0
        while pos < len(data):
            n, kind = struct.unpack('>I4s', data[pos:pos+8]); body = data[pos+8:pos+8+n]; pos += 12 + n
            if kind == b'IHDR': w, h, depth, ctype = struct.unpack('>IIBB', body[:10])
            elif kind == b'IDAT': idat += body
        bpp = {2: 3, 6: 4, 0: 1, 4: 2}[ctype]
        raw = zlib.decompress(idat); stride = w * bpp; prev = bytearray(stride); colours = set(); i = 0
        for y in range(h):
            f = raw[i]; line = bytearray(raw[i+1:i+1+stride]); i += 1 + stride
            for x in range(stride):
                a = line[x-bpp] if x >= bpp else 0; b = prev[x]; c = prev[x-bpp] if x >= bpp else 0
                if f == 1: line[x] = (line[x] + a) & 255
                elif f == 2: line[x] = (line[x] + b) & 255
                elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
                elif f == 4:
                    p = a + b - c; pa, pb, pc = abs(p-a), abs(p-b), abs(p-c)
                    line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
            prev = line
            if y % 3 == 0:
                for x in range(0, stride, bpp * 3): colours.add(bytes(line[x:x+3]))
        print(len(colours))
        """
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script, file.path]
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return Int(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
}

/// An HTTP GET that neither follows redirects nor keeps cookies (for the token tests).
func rawGet(_ url: String, headers: [String: String] = [:]) async throws -> (status: Int, headers: [String: String], body: String) {
    final class NoRedirect: NSObject, URLSessionTaskDelegate {
        func urlSession(
            _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
            newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void
        ) { completionHandler(nil) }
    }
    let configuration = URLSessionConfiguration.ephemeral
    configuration.httpCookieStorage = nil
    configuration.httpShouldSetCookies = false
    let session = URLSession(configuration: configuration, delegate: NoRedirect(), delegateQueue: nil)
    defer { session.finishTasksAndInvalidate() }
    var request = URLRequest(url: URL(string: url)!)
    request.timeoutInterval = 60
    for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
    let (data, response) = try await session.data(for: request)
    let http = response as! HTTPURLResponse
    var fields: [String: String] = [:]
    for (name, value) in http.allHeaderFields { fields[String(describing: name).lowercased()] = String(describing: value) }
    return (http.statusCode, fields, String(decoding: data, as: UTF8.self))
}

/// How many times `needle` occurs in `text`.
func occurrences(of needle: String, in text: String) -> Int {
    text.components(separatedBy: needle).count - 1
}
