import Foundation

/// A webhook receiver in a stdlib-Python `http.server` process on 127.0.0.1, for tests whose `rlwatch` runs as a
/// separate process (and may be SIGKILLed mid-delivery).
///
/// Each request's `run_id/detector/step` is appended to `requests.log` as it arrives. Every request is answered
/// 200 and appended to `acknowledged.log` only after the response was written. With `holdingFirstRequest`, the
/// first request is held for 600 s (until the receiver is killed) and never answered, so a delivery is in flight.
final class WebhookReceiverProcess: @unchecked Sendable {
    let process: Process
    let directory: URL

    static let script = """
        import http.server, json, os, sys, threading, time
        directory, hold_first = sys.argv[1], sys.argv[2] == "hold"
        lock = threading.Lock()
        seen = [0]

        def append(name, line):
            with lock, open(os.path.join(directory, name), "a") as f:
                f.write(line + "\\n")

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                alert = json.loads(body)
                key = "%s/%s/%s" % (alert["run_id"], alert["detector"], alert["step"])
                with lock:
                    seen[0] += 1
                    held = hold_first and seen[0] == 1
                append("requests.log", key)
                if held:
                    time.sleep(600)
                    return
                try:
                    self.send_response(200)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    self.wfile.flush()
                except OSError:
                    return
                append("acknowledged.log", key)

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        with open(os.path.join(directory, "port.tmp"), "w") as f:
            f.write(str(server.server_address[1]))
        os.rename(os.path.join(directory, "port.tmp"), os.path.join(directory, "port"))
        server.serve_forever()
        """

    init(sandbox: CLISandbox, holdingFirstRequest: Bool = false) throws {
        directory = sandbox.root.appendingPathComponent("receiver", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", Self.script, directory.path, holdingFirstRequest ? "hold" : "answer"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.standardError
        try process.run()
    }

    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// The receiver's port, once it listens.
    /// Waits are generous: the full suite on 2 cores can keep a test off the thread pool for tens of seconds; they
    /// return as soon as the condition holds.
    func port(timeout: Duration = .seconds(90)) async throws -> Int {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let text = try? String(contentsOf: directory.appendingPathComponent("port"), encoding: .utf8),
                let port = Int(text)
            {
                return port
            }
            guard process.isRunning else { throw CLIHarnessError(description: "the webhook receiver exited") }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw CLIHarnessError(description: "the webhook receiver did not listen within \(timeout)")
    }

    /// Waits until at least `count` requests arrived.
    func waitForRequests(_ count: Int, timeout: Duration = .seconds(90)) async throws {
        try await wait(until: count, of: "received", requests, timeout: timeout)
    }

    /// Waits until at least `count` requests were answered.
    func waitForAcknowledged(_ count: Int, timeout: Duration = .seconds(90)) async throws {
        try await wait(until: count, of: "acknowledged", acknowledged, timeout: timeout)
    }

    /// `run_id/detector/step` of every request received, in order.
    func requests() -> [String] { lines("requests.log") }

    /// `run_id/detector/step` of every request answered 200, in order.
    func acknowledged() -> [String] { lines("acknowledged.log") }

    private func wait(until count: Int, of what: String, _ lines: () -> [String], timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        while lines().count < count {
            if ContinuousClock.now >= deadline {
                throw CLIHarnessError(description: "the webhook receiver \(what) \(lines()) within \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    private func lines(_ name: String) -> [String] {
        let text = (try? String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map(String.init)
    }
}
