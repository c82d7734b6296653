import Foundation
import Testing

/// Runs that `demo` and `replay` store are over: they are marked finished, so a later `serve` (which watches the
/// unfinished runs of its database for stalls) never reports them stalled.
@Suite struct FinishedRunsCLITests {
    /// `run_id → finished_at` of the sandbox's database, read with Python's sqlite3 (no rlwatch code involved).
    func finishedAt(_ sandbox: CLISandbox) throws -> [String: Double?] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c",
            "import json, sqlite3, sys; db = sqlite3.connect(sys.argv[1]); "
                + "print(json.dumps({r: f for r, f in db.execute('SELECT run_id, finished_at FROM runs')}))",
            sandbox.url("rlwatch_logs/metrics.db").path,
        ]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        return object.mapValues { $0 as? Double }
    }

    @Test func demoAndReplayRunsAreFinished() async throws {
        let sandbox = try CLISandbox()
        let demo = try await sandbox.run(["demo", "--steps", "60", "--run-id", "demo-run"])
        #expect(demo.status == 0, "\(demo)")
        try sandbox.write("metrics.jsonl", MetricsFiles.nanAndSpike)
        let replay = try await sandbox.run(["replay", "metrics.jsonl", "--run-id", "replayed"])
        #expect(replay.status == 0, "\(replay)")
        let finished = try finishedAt(sandbox)
        #expect(Set(finished.keys) == ["demo-run", "replayed"])
        #expect(finished.values.allSatisfy { $0 != nil }, "\(finished)")
    }
}
