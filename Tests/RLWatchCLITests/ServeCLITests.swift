import Foundation
import RLWatchTesting
import Testing

@Suite("rlwatch serve (the binary)")
struct ServeCLITests {
    @Test func servesTheAPIAndStopsCleanlyOnSIGTERM() async throws {
        let sandbox = try CLISandbox()
        let server = try sandbox.start(["serve", "--port", "0", "--log-dir", "logs"])
        let port = try await server.servePort()
        let client = HTTPTestClient(port: port)
        #expect(try await client.get("/healthz").text == "ok\n")
        #expect(try await client.post("/api/v1/runs", json: ["run_id": "cli-run"]).status == 201)
        var steps: [[String: Any]] = []
        for step in 0..<400 {
            steps.append(["step": step, "entropy": step < 200 ? 2.0 : 0.02, "kl": 0.02, "loss": 0.4])
        }
        let reply = try await client.post("/api/v1/runs/cli-run/steps", json: steps)
        #expect(reply.status == 200, "\(reply)")
        #expect(reply.text.contains("entropy_collapse"))

        let stopped = try await server.stop(signal: SIGTERM)
        #expect(stopped.exited && stopped.status == 0, "\(server.stderr)")

        // Everything answered was stored: diagnose sees it after the server is gone.
        let diagnose = try await sandbox.run(["diagnose", "--run-id", "cli-run", "--log-dir", "logs", "--format", "json"])
        #expect(diagnose.status == 0, "\(diagnose)")
        let report = try jsonObject(diagnose.stdout)
        #expect(report["total_steps"] as? Int == 400)
        #expect((report["detectors_triggered"] as? [String])?.contains("entropy_collapse") == true)
    }

    /// The first batch of each run makes `serve` say which logged key feeds which metric (what `watch` prints,
    /// and `--explain` starts with), once per run; later batches say nothing more.
    @Test func theFirstBatchOfARunNamesWhichKeyFeedsWhichMetric() async throws {
        let sandbox = try CLISandbox()
        let server = try sandbox.start(["serve", "--port", "0", "--log-dir", "logs"])
        let client = HTTPTestClient(port: try await server.servePort())
        #expect(try await client.post("/api/v1/runs", json: ["run_id": "trl-keys"]).status == 201)
        let steps: [[String: Any]] = (0..<3).map { ["step": $0, "entropy": 1.2, "kl": 0.01, "reward": 0.5, "reward_std": 0.2] }
        #expect(try await client.post("/api/v1/runs/trl-keys/steps", json: steps).status == 200)
        _ = try await server.waitForStderr(containing: "run trl-keys: metrics: ")
        let note = try #require(server.stderr.split(separator: "\n").first { $0.contains("run trl-keys: metrics: ") })
        #expect(note.contains("kl_divergence ← kl"), "\(note)")
        #expect(note.contains("reward_mean ← reward"), "\(note)")
        #expect(try await client.post("/api/v1/runs/trl-keys/steps", json: [["step": 3, "entropy": 1.1]]).status == 200)
        let stopped = try await server.stop(signal: SIGTERM)
        #expect(stopped.exited && stopped.status == 0, "\(server.stderr)")
        #expect(server.stderr.components(separatedBy: "run trl-keys: metrics: ").count == 2, "\(server.stderr)")
    }

    @Test func aBatchInFlightAtSIGTERMIsFinishedAndStored() async throws {
        let sandbox = try CLISandbox()
        let server = try sandbox.start(["serve", "--port", "0", "--log-dir", "logs"])
        let port = try await server.servePort()
        let client = HTTPTestClient(port: port)
        #expect(try await client.post("/api/v1/runs", json: ["run_id": "inflight"]).status == 201)
        // A batch big enough to take a while to send and judge (20k steps with 64 rewards each, ~25 MB).
        let rewards = (0..<64).map { Double($0 % 7) / 7 }
        let steps: [[String: Any]] = (0..<20_000).map { ["step": $0, "entropy": 1.0, "loss": 0.5, "rewards": rewards] }
        let body = try JSONSerialization.data(withJSONObject: steps)
        let request = Task { try await client.post("/api/v1/runs/inflight/steps", body: body, contentType: "application/json") }
        // SIGTERM only once the batch's request is in progress: with a fixed 150 ms pause a loaded machine had not
        // connected yet, and the stopped server refused the connection instead of finishing the batch. The
        // /metrics request is busy itself while it is answered, so "in progress" is two busy connections.
        let watcher = HTTPTestClient(port: port)
        try await waitUntil("the batch's request in progress", timeout: .seconds(60)) {
            let metrics = (try? await watcher.get("/metrics").text) ?? ""
            let busy = metrics.split(separator: "\n").first { $0.hasPrefix(#"rlwatch_http_connections{state="busy"}"#) }
            return busy.flatMap { Double($0.split(separator: " ").last ?? "") }.map { $0 >= 2 } ?? false
        }
        kill(server.process.processIdentifier, SIGTERM)
        let reply = try await request.value
        #expect(reply.status == 200, "\(reply)")
        let stopped = try await server.stop(signal: SIGTERM)
        #expect(stopped.exited && stopped.status == 0, "\(server.stderr)")
        let diagnose = try await sandbox.run(["diagnose", "--run-id", "inflight", "--log-dir", "logs", "--format", "json"])
        #expect(try jsonObject(diagnose.stdout)["total_steps"] as? Int == 20_000, "\(diagnose)")
    }

    @Test func sigintAlsoStopsIt() async throws {
        let sandbox = try CLISandbox()
        let server = try sandbox.start(["serve", "--port", "0", "--log-dir", "logs"])
        _ = try await server.servePort()
        let stopped = try await server.stop(signal: SIGINT)
        #expect(stopped.exited && stopped.status == 0, "\(server.stderr)")
    }

    @Test func exitsWithItsParentProcess() async throws {
        let sandbox = try CLISandbox()
        let parent = Process()
        parent.executableURL = URL(fileURLWithPath: "/bin/sleep")
        parent.arguments = ["60"]
        try parent.run()
        let server = try sandbox.start([
            "serve", "--port", "0", "--log-dir", "logs", "--exit-with-parent", "\(parent.processIdentifier)",
        ])
        _ = try await server.servePort()
        #expect(server.process.isRunning)
        // SIGKILL, as when a training job is killed by the scheduler or the OOM killer.
        kill(parent.processIdentifier, SIGKILL)
        parent.waitUntilExit()
        let deadline = ContinuousClock.now + .seconds(15)
        while server.process.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!server.process.isRunning, "serve outlived its parent")
        if !server.process.isRunning {
            #expect(server.process.terminationReason == .exit && server.process.terminationStatus == 0, "\(server.stderr)")
        }
    }

    @Test func bindingBeyondLoopbackWithoutATokenIsRefused() async throws {
        let sandbox = try CLISandbox()
        let result = try await sandbox.run(["serve", "--host", "0.0.0.0", "--port", "0", "--log-dir", "logs"])
        #expect(result.status == 2, "\(result)")
        #expect(result.stderr.contains("requires a token"))
    }

    @Test func theTokenComesFromRLWATCH_TOKEN() async throws {
        let sandbox = try CLISandbox()
        let server = try sandbox.start(["serve", "--port", "0", "--log-dir", "logs"], environment: ["RLWATCH_TOKEN": "tok-0123456789abcdef"])
        let port = try await server.servePort()
        #expect(try await HTTPTestClient(port: port).get("/api/v1/runs").status == 401)
        #expect(try await HTTPTestClient(port: port, headers: ["Authorization": "Bearer tok-0123456789abcdef"]).get("/api/v1/runs").status == 200)
        let stopped = try await server.stop()
        #expect(stopped.status == 0)
    }

    /// Issue 20: `--token-file` keeps the token out of `ps`; it is read from the file's first line.
    @Test func theTokenComesFromATokenFile() async throws {
        let sandbox = try CLISandbox()
        try sandbox.write("token.txt", "  file-token-0123456789\n")
        let server = try sandbox.start(
            ["serve", "--port", "0", "--log-dir", "logs", "--token-file", sandbox.url("token.txt").path],
            environment: ["RLWATCH_TOKEN": "environment-token-is-overridden"])
        let port = try await server.servePort()
        #expect(try await HTTPTestClient(port: port).get("/api/v1/runs").status == 401)
        let headers = ["Authorization": "Bearer file-token-0123456789"]
        #expect(try await HTTPTestClient(port: port, headers: headers).get("/api/v1/runs").status == 200)
        #expect(try await server.stop().status == 0)
    }

    /// Issue 20: a token such as `a` or ` ` was accepted; fewer than 16 characters is refused, from any source.
    @Test(arguments: [
        (["--token", "a"], [String: String](), "--token: the token is 1 character(s) long; use at least 16"),
        ([], ["RLWATCH_TOKEN": " "], "RLWATCH_TOKEN: the token is 1 character(s) long"),
        (["--token-file", "short.txt"], [:], "the token is 5 character(s) long"),
        (["--token", "0123456789abcdef", "--token-file", "short.txt"], [:], "give --token or --token-file, not both"),
        (["--token-file", "missing.txt"], [:], "cannot read the file"),
    ])
    func shortOrConflictingTokensAreRefused(flags: [String], environment: [String: String], message: String) async throws {
        let sandbox = try CLISandbox()
        try sandbox.write("short.txt", "short\n")
        for command in ["serve", "dashboard"] {
            let result = try await sandbox.run(
                [command, "--port", "0", "--log-dir", "logs"] + flags.map { $0.hasSuffix(".txt") ? sandbox.url($0).path : $0 },
                environment: environment)
            #expect(result.status != 0, "\(command): \(result)")
            #expect(result.stderr.contains(message), "\(command): \(result)")
        }
    }

    @Test func helpNamesTheTokenSources() async throws {
        let result = try await CLISandbox().run(["serve", "--help"])
        for text in ["--token-file", "RLWATCH_TOKEN", "--idle-timeout", "--header-timeout", "--body-timeout", "--max-connections"] {
            #expect(result.stdout.contains(text), "\(text) in \(result.stdout)")
        }
    }
}
