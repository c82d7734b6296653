import Foundation
import RLWatchTesting
import Testing

/// PostgreSQL stopped under `rlwatch serve`, then started again (issue 20, item 7). It used to be: a batch waited
/// 68 s for postgres-nio's pool, then for 15–20 s after the server was back every request was a 500
/// `connectionCreationCircuitBreakerTripped`. Now every request answers within seconds (a client waiting at most 10 s
/// sees it): a 503 with `Retry-After` and a few words, `/healthz` says the store is unwritable, and the first batch
/// sent once PostgreSQL is back is stored.
///
/// The server is this test's own (``ThrowawayPostgres``), so that it can be stopped without disturbing the suites
/// that share the one `scripts/test` starts, and after the rest of the suite (``IsolatedTests``).
@Suite("serve while PostgreSQL stops and starts again", .serialized, .enabled(if: IsolatedTests.enabled))
struct PostgresOutageCLITests {
    static func steps(_ range: ClosedRange<Int>) -> [[String: Any]] {
        range.map { ["step": $0, "entropy": 1.5, "kl": 0.01, "loss": 0.3] }
    }

    /// A 503 for a store that cannot be reached: `Retry-After`, the summary, nothing of SQL or of the pool's errors.
    static func expectUnreachable(_ reply: HTTPTestClient.Reply, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(reply.status == 503, "\(reply)", sourceLocation: sourceLocation)
        #expect(reply.headers["retry-after"] == "5", "\(reply.headers)", sourceLocation: sourceLocation)
        #expect(reply.text.contains("the PostgreSQL server cannot be reached"), "\(reply)", sourceLocation: sourceLocation)
        for leak in ["INSERT", "SELECT", "ConnectionPool", "CircuitBreaker", "127.0.0.1", "postgres://"] {
            #expect(!reply.text.contains(leak), "\(leak) in \(reply)", sourceLocation: sourceLocation)
        }
    }

    @Test(.enabled(if: ThrowawayPostgres.isAvailable), .timeLimit(.minutes(1)))
    func requestsFailFastWhileItIsDownAndSucceedAsSoonAsItIsBack() async throws {
        let postgres = try await ThrowawayPostgres()
        do {
            try await outage(postgres)
        } catch {
            await postgres.remove()
            throw error
        }
        await postgres.remove()
    }

    private func outage(_ postgres: ThrowawayPostgres) async throws {
        try await postgres.start()
        let sandbox = try CLISandbox()
        let migrate = try await sandbox.run(["db", "migrate", "--database", postgres.url])
        #expect(migrate.status == 0, "\(migrate)")
        let server = try sandbox.start(["serve", "--port", "0", "--database", postgres.url])
        // A client that waits at most 10 s for an answer: the 68 s wait of before fails it.
        let client = HTTPTestClient(port: try await server.servePort(), timeout: 10)
        #expect(try await client.post("/api/v1/runs", json: ["run_id": "job"]).status == 201)
        #expect(try await client.post("/api/v1/runs/job/steps", json: Self.steps(1...5)).status == 200)
        #expect(try await client.get("/healthz").text == "ok\n")

        try await postgres.stop()
        // The first request waits for the pool (2 s), asks the server, and fails; the next ones fail at once.
        for batch in 0..<3 {
            Self.expectUnreachable(
                try await client.post("/api/v1/runs/job/steps", json: Self.steps(6 + batch * 5...10 + batch * 5)))
        }
        let health = try await client.get("/healthz")
        #expect(health.status == 503, "\(health)")
        #expect(health.text.hasPrefix("store unwritable since "), "\(health)")
        #expect(health.text.contains("the PostgreSQL server cannot be reached"), "\(health)")
        Self.expectUnreachable(try await client.post("/api/v1/runs", json: ["run_id": "second"]))
        Self.expectUnreachable(try await client.post("/api/v1/runs/job/finish", json: [String: Any]()))

        try await postgres.start()
        // A request within `probeInterval` (250 ms) of the last failed probe reuses its verdict rather than probing
        // again; on an idle machine the restart takes less than that, so wait it out (`finish` above was the last).
        try await Task.sleep(for: .milliseconds(300))
        // The first batch after that is stored: no retry, no circuit breaker to wait out.
        let resent = try await client.post("/api/v1/runs/job/steps", json: Self.steps(6...10))
        #expect(resent.status == 200, "\(resent)")
        #expect(try await client.get("/healthz").text == "ok\n")
        #expect(try await client.post("/api/v1/runs", json: ["run_id": "second"]).status == 201)
        let stored = try await client.get("/api/v1/runs/job/metrics")
        #expect(stored.status == 200, "\(stored)")
        let steps = try #require(try jsonObject(stored.text)["steps"] as? [[String: Any]])
        #expect(steps.compactMap { $0["step"] as? Int } == Array(1...10), "\(stored.text)")
        let stopped = try await server.stop()
        #expect(stopped.exited && stopped.status == 0, "\(server.stderr)")
        #expect(server.stderr.contains("its connection pool was replaced"), "\(server.stderr)")
    }
}

/// A PostgreSQL server of a test's own, on a temporary directory and a free port, that it may stop and start: the
/// programs `scripts/test` found (`RLWATCH_TEST_PG_BIN`); as root, run as the `postgres` user, which must own the
/// cluster.
final class ThrowawayPostgres: Sendable {
    static let bin: String? = ProcessInfo.processInfo.environment["RLWATCH_TEST_PG_BIN"].flatMap { $0.isEmpty ? nil : $0 }

    static let isAvailable: Bool = {
        if bin != nil || ProcessInfo.processInfo.environment["CI"] != nil { return true }
        FileHandle.standardError.write(
            Data("note: PostgreSQL outage tests skipped: RLWATCH_TEST_PG_BIN is not set (scripts/test sets it)\n".utf8))
        return false
    }()

    let directory: URL
    let port: Int
    var url: String { "postgres://postgres@127.0.0.1:\(port)/postgres?connect_timeout=5" }
    private let bin: String

    init() async throws {
        guard let bin = Self.bin else {
            throw CLIHarnessError(description: "RLWATCH_TEST_PG_BIN is not set; CI must provide PostgreSQL's programs")
        }
        self.bin = bin
        directory = URL(fileURLWithPath: "/tmp/rlwatch-outage-pg-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        port = try freeLoopbackPort()
        if getuid() == 0 { try await Self.shell("chown postgres \(directory.path)", asOwner: false) }
        try await Self.shell("\(bin)/initdb -D \(directory.path)/data -A trust -U postgres >\(directory.path)/initdb.log 2>&1")
    }

    func start() async throws {
        try await Self.shell(
            "\(bin)/pg_ctl -D \(directory.path)/data -l \(directory.path)/pg.log -w -o "
                + "'-p \(port) -k \(directory.path) -c listen_addresses=127.0.0.1' start >/dev/null")
    }

    /// `pg_ctl stop -m fast`: what stopping the service does; sessions are ended and the server exits.
    func stop() async throws {
        try await Self.shell("\(bin)/pg_ctl -D \(directory.path)/data -m fast -w stop >/dev/null")
    }

    func remove() async {
        try? await Self.shell("\(bin)/pg_ctl -D \(directory.path)/data -m immediate stop >/dev/null 2>&1 || true")
        try? FileManager.default.removeItem(at: directory)
    }

    /// Runs `command` with `/bin/bash`, as the `postgres` user when this process is root.
    private static func shell(_ command: String, asOwner: Bool = true) async throws {
        // Every descriptor above 2 closed first: the server `pg_ctl start` leaves running would inherit them, and
        // one of them is how Foundation learns that this command exited (held open, `isRunning` stays true).
        let command = #"for fd in /proc/$$/fd/*; do n=${fd##*/}; (( n > 2 )) && eval "exec $n>&-"; done 2>/dev/null; "#
            + command
        let process = Process()
        if asOwner && getuid() == 0 {
            process.executableURL = URL(fileURLWithPath: "/bin/su")
            process.arguments = ["postgres", "-s", "/bin/bash", "-c", command]
        } else {
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = ["-c", command]
        }
        // Errors go to a file, not a pipe: `pg_ctl start` leaves the server it starts holding its standard error,
        // so a pipe would never reach its end.
        let errorsURL = FileManager.default.temporaryDirectory.appendingPathComponent("rlwatch-pg-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: errorsURL.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errorsURL) }
        let errors = try FileHandle(forWritingTo: errorsURL)
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        try? errors.close()
        // Polled, not `waitUntilExit()`: that blocks a thread of the cooperative pool, which (2 cores) the
        // server's tests and Foundation's own child reaping need.
        let deadline = ContinuousClock.now + .seconds(45)
        while process.isRunning {
            if ContinuousClock.now >= deadline {
                process.terminate()
                throw CLIHarnessError(description: "`\(command)` ran past 45 s")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        let text = (try? String(contentsOf: errorsURL, encoding: .utf8)) ?? ""
        guard process.terminationStatus == 0 else {
            throw CLIHarnessError(description: "`\(command)` failed (\(process.terminationStatus)): \(text)")
        }
    }
}

/// A TCP port on 127.0.0.1 that nothing listens on (bound to port 0, read back, closed).
func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw CLIHarnessError(description: "socket() failed: errno \(errno)") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
        }
    }
    guard bound else { throw CLIHarnessError(description: "bind() on 127.0.0.1 failed: errno \(errno)") }
    return Int(UInt16(bigEndian: address.sin_port))
}
