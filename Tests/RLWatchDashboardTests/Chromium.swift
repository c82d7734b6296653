import Foundation
import RLWatchTesting
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Headless Chromium driven as a subprocess: `--dump-dom`, `--screenshot`, and a DevTools session for pages that
/// must stay open (live updates).
///
/// Every process is killed with SIGKILL when done: children of the test runner inherit SIGTERM ignored.
enum Chromium {
    /// The browser, or nil when it is not installed (then the test fails in CI, where `.ci/run` installs it, and is
    /// reported and skipped elsewhere).
    static var executable: String? {
        let candidates = [ProcessInfo.processInfo.environment["CHROMIUM"], "/usr/bin/chromium", "/usr/bin/chromium-browser"]
        return candidates.compactMap { $0 }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// The browser, recording a failure in CI when it is missing.
    static func require() -> String? {
        if let executable { return executable }
        if ProcessInfo.processInfo.environment["CI"] != nil {
            Issue.record("chromium is not installed (CI must install the Debian package `chromium`)")
        } else {
            print("skipping: chromium is not installed (apt-get install -y chromium)")
        }
        return nil
    }

    static let commonArguments = [
        "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
        "--disable-extensions", "--disable-background-networking", "--window-size=1280,900",
    ]

    /// Runs chromium with `arguments` (plus the common ones and a fresh profile) and returns its standard output.
    static func run(_ arguments: [String], timeout: Double = 90) async throws -> String {
        guard let executable else { throw ChromiumError("chromium is not installed") }
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("rlwatch-chromium-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: profile) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = commonArguments + ["--user-data-dir=\(profile.path)"] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let pid = process.processIdentifier
        let killer = Task {
            try await Task.sleep(for: .seconds(timeout))
            kill(pid, SIGKILL)
        }
        defer {
            killer.cancel()
            kill(pid, SIGKILL)
        }
        let data: Data = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: output.fileHandleForReading.readDataToEndOfFile())
            }
        }
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    /// The DOM after the page's scripts ran (up to the load event).
    static func dumpDOM(_ url: String) async throws -> String {
        try await run(["--dump-dom", url])
    }

    /// Takes a 1280×900 screenshot of `url` into `file`.
    static func screenshot(_ url: String, to file: URL) async throws {
        _ = try await run(["--screenshot=\(file.path)", "--hide-scrollbars", url])
        guard FileManager.default.fileExists(atPath: file.path) else { throw ChromiumError("no screenshot written") }
    }
}

struct ChromiumError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A headless Chromium with one page open, driven through the DevTools protocol over a WebSocket.
final class DevToolsSession: @unchecked Sendable {
    private let process: Process
    private let profile: URL
    private let socket: URLSessionWebSocketTask
    private let session: URLSession
    private var nextID = 0

    private init(process: Process, profile: URL, socket: URLSessionWebSocketTask, session: URLSession) {
        self.process = process
        self.profile = profile
        self.socket = socket
        self.session = session
    }

    /// Starts the browser on `url` and connects to that page.
    static func open(_ url: String) async throws -> DevToolsSession {
        guard let executable = Chromium.executable else { throw ChromiumError("chromium is not installed") }
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("rlwatch-cdp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: profile, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = Chromium.commonArguments + [
            "--user-data-dir=\(profile.path)", "--remote-debugging-port=0", "--remote-allow-origins=*", url,
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        do {
            // Chromium writes the port it picked into the profile directory.
            let portFile = profile.appendingPathComponent("DevToolsActivePort")
            var port: Int?
            try await waitFor("the DevTools port") {
                port = (try? String(contentsOf: portFile, encoding: .utf8))?.split(separator: "\n").first.flatMap { Int($0) }
                return port != nil
            }
            var target: String?
            try await waitFor("the page target") {
                guard let port, let reply = try? await HTTPTestClient(port: port, timeout: 10).get("/json/list"),
                    let list = try? JSONSerialization.jsonObject(with: reply.body) as? [[String: Any]]
                else { return false }
                target = list.first { $0["type"] as? String == "page" }?["webSocketDebuggerUrl"] as? String
                return target != nil
            }
            let session = URLSession(configuration: .ephemeral)
            let socket = session.webSocketTask(with: URL(string: target!)!)
            socket.maximumMessageSize = 64 << 20
            socket.resume()
            return DevToolsSession(process: process, profile: profile, socket: socket, session: session)
        } catch {
            kill(process.processIdentifier, SIGKILL)
            try? FileManager.default.removeItem(at: profile)
            throw error
        }
    }

    /// Sends a command and returns its `result`, skipping the events that arrive meanwhile.
    func send(_ method: String, _ params: [String: Any] = [:]) async throws -> [String: Any] {
        nextID += 1
        let id = nextID
        let message = try JSONSerialization.data(withJSONObject: ["id": id, "method": method, "params": params])
        try await socket.send(.string(String(decoding: message, as: UTF8.self)))
        while true {
            let reply = try await socket.receive()
            let text: String
            switch reply {
            case .string(let string): text = string
            case .data(let data): text = String(decoding: data, as: UTF8.self)
            @unknown default: continue
            }
            guard let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
                object["id"] as? Int == id
            else { continue }
            if let error = object["error"] { throw ChromiumError("\(method) failed: \(error)") }
            return object["result"] as? [String: Any] ?? [:]
        }
    }

    /// Evaluates a JavaScript expression in the page and returns its value (JSON-compatible values only).
    func evaluate(_ expression: String) async throws -> Any? {
        let result = try await send("Runtime.evaluate", ["expression": expression, "returnByValue": true, "awaitPromise": true])
        if let exception = result["exceptionDetails"] { throw ChromiumError("script failed: \(exception)") }
        return (result["result"] as? [String: Any])?["value"]
    }

    /// Waits (up to 60 s, returning as soon as it holds) until `expression` is true in the page.
    func waitUntil(_ expression: String, timeout: Double = 60) async throws {
        try await waitFor(expression, timeout: timeout) { try await self.evaluate(expression) as? Bool == true }
    }

    func close() {
        socket.cancel(with: .goingAway, reason: nil)
        session.invalidateAndCancel()
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: profile)
    }
}

/// Polls `condition` every 100 ms until it is true, failing after `timeout` seconds.
func waitFor(_ what: String, timeout: Double = 60, _ condition: () async throws -> Bool) async throws {
    let deadline = Date().addingTimeInterval(timeout)
    while true {
        if try await condition() { return }
        if Date() > deadline { throw ChromiumError("timed out after \(Int(timeout)) s waiting for \(what)") }
        try await Task.sleep(for: .milliseconds(100))
    }
}
