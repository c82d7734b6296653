import Foundation
import Glibc
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

/// A headless Chromium with one page open, driven through the DevTools protocol.
///
/// The protocol runs over `--remote-debugging-pipe` (NUL-terminated JSON on file descriptors 3 and 4) rather than a
/// WebSocket: Foundation's `URLSessionWebSocketTask` needs a libcurl built with WebSocket support, which Debian's is
/// not, and the pipe needs no port either.
final class DevToolsSession: @unchecked Sendable {
    private let pid: pid_t
    private let profile: URL
    private let input: Int32
    private let output: Int32
    private let lock = NSLock()
    private var messages: [[String: Any]] = []
    private var pendingBytes: [UInt8] = []
    private var closed = false
    private var nextID = 0
    private var sessionID: String?

    private init(pid: pid_t, profile: URL, input: Int32, output: Int32) {
        self.pid = pid
        self.profile = profile
        self.input = input
        self.output = output
    }

    /// Starts the browser on `url` and attaches to that page.
    static func open(_ url: String) async throws -> DevToolsSession {
        guard let executable = Chromium.executable else { throw ChromiumError("chromium is not installed") }
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("rlwatch-cdp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: profile, withIntermediateDirectories: true)
        var toChrome: [Int32] = [0, 0]
        var fromChrome: [Int32] = [0, 0]
        guard pipe(&toChrome) == 0, pipe(&fromChrome) == 0 else { throw ChromiumError("pipe failed") }
        // Move the child's ends above 4 so that the dup2 to 3 and 4 below cannot clobber one another.
        let childIn = fcntl(toChrome[0], F_DUPFD, 10)
        let childOut = fcntl(fromChrome[1], F_DUPFD, 10)
        Glibc.close(toChrome[0])
        Glibc.close(fromChrome[1])
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, childIn, 3)
        posix_spawn_file_actions_adddup2(&actions, childOut, 4)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addclose(&actions, toChrome[1])
        posix_spawn_file_actions_addclose(&actions, fromChrome[0])
        let arguments = [executable] + Chromium.commonArguments + ["--user-data-dir=\(profile.path)", "--remote-debugging-pipe", url]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable, &actions, nil, &argv, environ)
        Glibc.close(childIn)
        Glibc.close(childOut)
        guard status == 0 else { throw ChromiumError("posix_spawn failed: \(status)") }
        let session = DevToolsSession(pid: pid, profile: profile, input: toChrome[1], output: fromChrome[0])
        session.startReading()
        do {
            var target: String?
            try await waitFor("the page target") {
                let targets = try await session.send("Target.getTargets")["targetInfos"] as? [[String: Any]] ?? []
                target = targets.first { $0["type"] as? String == "page" && ($0["url"] as? String ?? "").hasPrefix("http") }?["targetId"] as? String
                return target != nil
            }
            let attached = try await session.send("Target.attachToTarget", ["targetId": target!, "flatten": true])
            session.sessionID = attached["sessionId"] as? String
            _ = try await session.send("Runtime.enable")
            return session
        } catch {
            session.close()
            throw error
        }
    }

    private func startReading() {
        let thread = Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                let count = read(output, &buffer, buffer.count)
                if count <= 0 { break }
                lock.withLock {
                    for byte in buffer[0..<count] {
                        if byte == 0 {
                            if let object = try? JSONSerialization.jsonObject(with: Data(pendingBytes)) as? [String: Any],
                                object["id"] != nil
                            {
                                messages.append(object)
                            }
                            pendingBytes.removeAll(keepingCapacity: true)
                        } else {
                            pendingBytes.append(byte)
                        }
                    }
                }
            }
            lock.withLock { closed = true }
        }
        thread.start()
    }

    /// Sends a command (to the attached page once there is one) and returns its `result`.
    func send(_ method: String, _ params: [String: Any] = [:]) async throws -> [String: Any] {
        let id: Int = lock.withLock {
            nextID += 1
            return nextID
        }
        var message: [String: Any] = ["id": id, "method": method, "params": params]
        if let sessionID { message["sessionId"] = sessionID }
        var bytes = [UInt8](try JSONSerialization.data(withJSONObject: message))
        bytes.append(0)
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { write(input, $0.baseAddress, $0.count) }
            guard count > 0 else { throw ChromiumError("the browser closed its pipe") }
            written += count
        }
        var reply: [String: Any]?
        try await waitFor(method, timeout: 60) {
            try lock.withLock {
                if let index = messages.firstIndex(where: { $0["id"] as? Int == id }) {
                    reply = messages.remove(at: index)
                    return true
                }
                if closed { throw ChromiumError("the browser exited") }
                return false
            }
        }
        if let error = reply?["error"] { throw ChromiumError("\(method) failed: \(error)") }
        return reply?["result"] as? [String: Any] ?? [:]
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
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        Glibc.close(input)
        Glibc.close(output)
        try? FileManager.default.removeItem(at: profile)
    }
}

/// Polls `condition` every 100 ms until it is true, failing after `timeout` seconds.
func waitFor(_ what: String, timeout: Double = 60, _ condition: () async throws -> Bool) async throws {
    try await waitUntil(what, timeout: .milliseconds(Int64(timeout * 1000)), interval: .milliseconds(100), condition)
}
