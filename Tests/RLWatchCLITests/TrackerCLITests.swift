import Foundation
import Testing

/// `rlwatch replay` and `watch` on the local files of the trackers themselves — W&B (offline), MLflow (SQLite store
/// and file store), Trackio — written by the real libraries in a Python process: the same scenario gives the same
/// alerts as from JSONL, a run is followed while its writer is still writing, a crashed W&B run is `run_crashed`.
///
/// Needs Python 3 with wandb, mlflow-skinny (+ sqlalchemy, alembic) and trackio (`scripts/test` puts its venv first
/// on PATH).
@Suite struct TrackerCLITests {
    /// Writes `steps` steps of the scenario with one tracker (`jsonl` writes rlwatch JSONL with the same values):
    /// healthy until step 29, a KL explosion from step 30, a NaN loss at step 35. With a gate directory, prints
    /// `logged` after the last step and waits for `GATE/finish` before ending the run (the run is still open
    /// while the watch reads it). The run ends with `exit_code` (W&B) or FAILED when it is not 0 (MLflow).
    static let writer = #"""
        import json, os, sys, time
        mode, out, steps, exit_code = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
        gate = sys.argv[5] if len(sys.argv) > 5 else ""
        os.makedirs(out, exist_ok=True)

        def values(step):
            return {
                "train/kl": 0.02 + 0.002 * (step % 3) if step < 30 else 4.0 + step,
                "train/loss": float("nan") if step == 35 else 0.3 + 0.01 * (step % 5),
                "train/reward": 0.5 + 0.01 * (step % 4),
                "train/entropy": 1.2 - 0.001 * step,
                "train/grad_norm": 1.0 + 0.05 * (step % 2),
            }

        def wait():
            if gate:
                print("logged", flush=True)
                while not os.path.exists(os.path.join(gate, "finish")):
                    time.sleep(0.05)

        if mode == "jsonl":
            with open(os.path.join(out, "metrics.jsonl"), "w") as f:
                for step in range(1, steps + 1):
                    row = {k.split("/", 1)[1]: v for k, v in values(step).items()}
                    f.write(json.dumps({"step": step, **row}) + "\n")
        elif mode == "wandb":
            os.environ.update(WANDB_MODE="offline", WANDB_SILENT="true", WANDB_DISABLE_GIT="true")
            import wandb
            run = wandb.init(project="rlwatch-test", dir=out)
            for step in range(1, steps + 1):
                run.log(values(step), step=step)
            wait()
            run.finish(exit_code=exit_code)
        elif mode in ("mlflow-sqlite", "mlflow-file"):
            if mode == "mlflow-file":
                os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
            import mlflow
            mlflow.set_tracking_uri(
                "sqlite:///" + os.path.join(out, "mlflow.db") if mode == "mlflow-sqlite"
                else "file://" + os.path.join(out, "mlruns"))
            mlflow.start_run()
            for step in range(1, steps + 1):
                mlflow.log_metrics(values(step), step=step)
            wait()
            mlflow.end_run(status="FINISHED" if exit_code == 0 else "FAILED")
        elif mode == "trackio":
            os.environ["TRACKIO_DIR"] = out
            import trackio
            trackio.init(project="rlwatch-test")
            for step in range(1, steps + 1):
                trackio.log(values(step), step=step)
            wait()
            trackio.finish()
        """#

    /// Where each tracker's output is watched or replayed from, relative to the writer's output directory.
    static func logPath(_ mode: String) -> String {
        switch mode {
        case "wandb": "out/wandb"
        case "mlflow-sqlite": "out/mlflow.db"
        case "mlflow-file": "out/mlruns"
        case "trackio": "out"
        default: "out/metrics.jsonl"
        }
    }

    static func startWriter(_ sandbox: CLISandbox, mode: String, steps: Int = 40, exitCode: Int = 0, gate: Bool = false)
        throws -> (Process, Pipe)
    {
        try sandbox.write("writer.py", writer)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments =
            ["python3", sandbox.url("writer.py").path, mode, sandbox.url("out").path, String(steps), String(exitCode)]
            + (gate ? [sandbox.work.path] : [])
        process.currentDirectoryURL = sandbox.work
        var environment = ProcessInfo.processInfo.environment
        environment["HOME"] = sandbox.work.path
        environment["HF_HUB_OFFLINE"] = "1"
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        return (process, output)
    }

    /// Writes a finished run with one tracker; fails the test when the writer does.
    static func write(_ sandbox: CLISandbox, mode: String, exitCode: Int = 0) throws {
        let (writer, _) = try startWriter(sandbox, mode: mode, exitCode: exitCode)
        writer.waitUntilExit()
        #expect(writer.terminationStatus == 0, "the \(mode) writer failed (is it installed in the venv?)")
    }

    static let scenarioAlerts = ["kl_explosion/critical@30", "loss_nan/critical@35"]

    @Test(arguments: ["wandb", "mlflow-sqlite", "mlflow-file", "trackio"])
    func aTrackersRunGivesTheAlertsOfTheSameRunAsJSONL(mode: String) async throws {
        let reference = try CLISandbox()
        try Self.write(reference, mode: "jsonl")
        let expected = try WatchCLITests.alertKeys(
            try await reference.run(["replay", "--no-store", "--format", "jsonl", Self.logPath("jsonl")]).stdout)
        #expect(expected.contains("kl_explosion/critical@30") && expected.contains("loss_nan/critical@35"), "\(expected)")

        let sandbox = try CLISandbox()
        try Self.write(sandbox, mode: mode)
        let path = Self.logPath(mode)
        let replayed = try await sandbox.run(["replay", "--no-store", "--format", "jsonl", "--explain", path])
        #expect(replayed.status == 0, "\(replayed)")
        #expect(try WatchCLITests.alertKeys(replayed.stdout) == expected, "\(replayed)")
        #expect(replayed.stderr.contains("kl_divergence ← kl"), "\(replayed)")
        #expect(!replayed.stdout.contains("run_crashed"), "\(replayed)")

        // Watched to its end: the same alerts, and every step stored.
        let watched = try await sandbox.run(["watch", "--no-follow", "--output", "jsonl", "--run-id", "w", path])
        #expect(watched.status == 0, "\(watched)")
        #expect(try WatchCLITests.alertKeys(watched.stdout) == expected, "\(watched)")
        let diagnosis = try jsonObject(try await sandbox.run(["diagnose", "--run-id", "w", "--format", "json"]).stdout)
        #expect(diagnosis["total_steps"] as? Int == 40, "\(diagnosis)")
    }

    @Test(arguments: ["wandb", "mlflow-sqlite"])
    func aRunIsFollowedWhileItsWriterIsStillWriting(mode: String) async throws {
        let sandbox = try CLISandbox()
        let (writer, output) = try Self.startWriter(sandbox, mode: mode, gate: true)
        defer {
            if writer.isRunning { kill(writer.processIdentifier, SIGKILL) }
            writer.waitUntilExit()
        }
        let logged = String(decoding: output.fileHandleForReading.readData(ofLength: 6), as: UTF8.self)
        #expect(logged == "logged", "the \(mode) writer failed (is it installed in the venv?)")
        let watch = try sandbox.start(
            ["watch", "--follow", "--poll-interval", "0.1", "--output", "jsonl", "--run-id", "live", Self.logPath(mode)])
        // The run is still open (its writer waits): the alerts come from what it has written so far.
        _ = try await watch.waitForStdout(containing: "\"loss_nan\"", timeout: .seconds(60))
        #expect(writer.isRunning)
        try sandbox.write("finish", "")
        writer.waitUntilExit()
        #expect(writer.terminationStatus == 0)
        _ = try await watch.waitForStderr(containing: "the run finished", timeout: .seconds(60))
        let stopped = try await watch.stop(signal: SIGINT)
        #expect(stopped.exited && stopped.status == 0, "\(watch.stderr)")
        #expect(try WatchCLITests.alertKeys(watch.stdout) == Self.scenarioAlerts, "\(watch.stdout)\n\(watch.stderr)")
        let diagnosis = try jsonObject(try await sandbox.run(["diagnose", "--run-id", "live", "--format", "json"]).stdout)
        #expect(diagnosis["total_steps"] as? Int == 40, "\(diagnosis)")
    }

    @Test(arguments: ["wandb", "mlflow-sqlite", "mlflow-file"])
    func aCrashedRunIsRunCrashed(mode: String) async throws {
        let sandbox = try CLISandbox()
        try Self.write(sandbox, mode: mode, exitCode: 3)
        let replayed = try await sandbox.run(["replay", "--no-store", "--format", "jsonl", Self.logPath(mode)])
        #expect(replayed.status == 0, "\(replayed)")
        #expect(try WatchCLITests.alertKeys(replayed.stdout) == Self.scenarioAlerts + ["run_crashed/critical@40"], "\(replayed)")
        if mode == "wandb" { #expect(replayed.stdout.contains("exited with status 3 after step 40"), "\(replayed)") }
        let watched = try await sandbox.run(["watch", "--no-follow", "--output", "jsonl", Self.logPath(mode)])
        #expect(watched.status == 0, "\(watched)")
        #expect(watched.stdout.contains("\"run_crashed\""), "\(watched)")
    }

    /// The framing: a run cut in the middle of a record (still being written) reads up to the last whole record
    /// with no error; a corrupt chunk is skipped with a note naming the file and offset (or stops the replay).
    @Test func aTruncatedOrCorruptTransactionLogLosesOnlyWhatIsBroken() async throws {
        let sandbox = try CLISandbox()
        try Self.write(sandbox, mode: "wandb")
        let runs = try FileManager.default.contentsOfDirectory(atPath: sandbox.url("out/wandb").path)
        let run = try #require(runs.first { $0.hasPrefix("offline-run-") })
        let name = try #require(
            try FileManager.default.contentsOfDirectory(atPath: sandbox.url("out/wandb/\(run)").path).first {
                $0.hasSuffix(".wandb")
            })
        let bytes = try Data(contentsOf: sandbox.url("out/wandb/\(run)/\(name)"))

        let truncated = sandbox.url("cut/run.wandb")
        try FileManager.default.createDirectory(at: truncated.deletingLastPathComponent(), withIntermediateDirectories: true)
        try bytes.prefix(bytes.count * 2 / 3).write(to: truncated)
        let cut = try await sandbox.run(["replay", "--no-store", "cut/run.wandb"])
        #expect(cut.status == 0, "\(cut)")
        #expect(!cut.stderr.contains("warning"), "\(cut)")
        let count = cut.stdout.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        #expect(count > 0 && count < 40, "\(cut)")

        // Flip a byte of a history record's payload in the middle of the log: its chunk's checksum fails.
        var corrupt = bytes
        let key = Data("train/reward".utf8)
        var found: [Int] = []
        var from = bytes.startIndex
        while let range = bytes.range(of: key, in: from..<bytes.endIndex) {
            found.append(range.lowerBound)
            from = range.upperBound
        }
        let middle = try #require(found.count > 10 ? found[found.count / 2] : nil, "\(found.count) history records")
        corrupt[middle] ^= 0xFF
        try corrupt.write(to: sandbox.url("corrupt.wandb"))
        let stopped = try await sandbox.run(["replay", "--no-store", "corrupt.wandb"])
        #expect(stopped.status == 2, "\(stopped)")
        #expect(stopped.stderr.contains("corrupt.wandb at offset "), "\(stopped)")
        let skipped = try await sandbox.run(["replay", "--no-store", "--skip-bad-lines", "corrupt.wandb"])
        #expect(skipped.status == 0, "\(skipped)")
        #expect(skipped.stderr.contains("skipped") && skipped.stderr.contains("corrupt.wandb at offset "), "\(skipped)")
    }

    @Test func aWandbDirectoryFollowsItsNewestRun() async throws {
        let sandbox = try CLISandbox()
        try Self.write(sandbox, mode: "wandb", exitCode: 1)
        try await Task.sleep(for: .seconds(1.1))  // a later date in the second run's directory name
        try Self.write(sandbox, mode: "wandb")
        let replayed = try await sandbox.run(["replay", "--no-store", "--format", "jsonl", "out"])
        #expect(replayed.status == 0, "\(replayed)")
        // The newest run finished cleanly: no crash from the first.
        #expect(try WatchCLITests.alertKeys(replayed.stdout) == Self.scenarioAlerts, "\(replayed)")
    }
}
