import Foundation
import Testing

/// `rlwatch watch` on a real tensorboardX `SummaryWriter` in its own Python process: finished is what the trainer
/// writes at the end of training (TRL's summary scalars), a stopped or killed writer is a stall, stopping the
/// watch keeps the last step, and a watch started before the trainer made its log directory waits for it.
///
/// Needs Python 3 with tensorboardX (`scripts/test` puts its venv first on PATH).
@Suite(.serialized) struct WatchRealWriterCLITests {
    /// Writes `steps` steps as TRL's TensorBoard callback does (`train/…` tags, one `add_scalar` per key, flushed
    /// after each log), then: `finish` writes the end-of-training summary at the last step and exits; `hang`
    /// closes the file (everything on disk, nothing held open: what TensorBoard's writer without TensorFlow leaves
    /// between writes), prints `written` and sleeps (the test stops or kills it).
    static let writer = #"""
        import sys, time
        from tensorboardX import SummaryWriter
        logdir, steps, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
        w = SummaryWriter(logdir)
        for step in range(1, steps + 1):
            for tag, value in [("train/loss", 0.5 / step), ("train/kl", 0.01), ("train/entropy", 1.5),
                               ("train/reward", 0.4 + step * 0.001), ("train/reward_std", 0.2), ("train/grad_norm", 1.0)]:
                w.add_scalar(tag, value, step)
            w.flush()
        if mode == "finish":
            for tag, value in [("train/train_runtime", 12.5), ("train/train_loss", 0.1), ("train/total_flos", 1e15)]:
                w.add_scalar(tag, value, steps)
            w.close()
        else:
            w.close()
            print("written", flush=True)
            time.sleep(600)
        """#

    static let config = "stall:\n  after_seconds: 2\n  critical_after_seconds: 600\n"

    static func startWriter(_ sandbox: CLISandbox, steps: Int, mode: String) throws -> (Process, Pipe) {
        try sandbox.write("writer.py", writer)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", sandbox.url("writer.py").path, sandbox.url("tb").path, String(steps), mode]
        process.currentDirectoryURL = sandbox.work
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        return (process, output)
    }

    static func totalSteps(_ sandbox: CLISandbox) async throws -> Int? {
        let diagnosis = try await sandbox.run(["diagnose", "--format", "json"])
        return try jsonObject(diagnosis.stdout)["total_steps"] as? Int
    }

    /// Started before the log directory exists: waits with a note; the trainer writes 74 steps and its summary;
    /// the run finishes (no stall however long the files stay quiet); stopping the watch stores all 74 steps.
    @Test func aTrainerThatWritesItsSummaryFinishesAndNoStepIsLost() async throws {
        let sandbox = try CLISandbox()
        try sandbox.write("rlwatch.yaml", Self.config)
        let watch = try sandbox.start(["watch", "--poll-interval", "0.05", "--output", "jsonl", "--run-id", "finished", "tb"])
        _ = try await watch.waitForStderr(containing: "does not exist yet; waiting for the trainer")
        let (writer, _) = try Self.startWriter(sandbox, steps: 74, mode: "finish")
        writer.waitUntilExit()
        #expect(writer.terminationStatus == 0, "the tensorboardX writer failed (is tensorboardX installed?)")
        _ = try await watch.waitForStderr(containing: "the trainer wrote its end-of-training summary (train/train_")
        try await Task.sleep(for: .seconds(3))  // past the 2 s stall limit
        let stopped = try await watch.stop(signal: SIGINT)
        #expect(stopped.exited && stopped.status == 0, "\(watch.stderr)")
        #expect(!watch.stdout.contains("run_stalled"), "\(watch.stdout)")
        #expect(try await Self.totalSteps(sandbox) == 74, "\(watch.stderr)")
    }

    /// A writer SIGSTOPped after its last write, its file closed, is hung, not finished: the watch raises
    /// `run_stalled` after the stall limit (the old rule, "no process holds the file", called it finished);
    /// SIGKILLed, it stays a stall, never a finish; stopping the watch stores the last step, which had no next step
    /// to complete it (30 of 30, not 29).
    @Test func aStoppedThenKilledWriterIsStalledNotFinished() async throws {
        let sandbox = try CLISandbox()
        try sandbox.write("rlwatch.yaml", Self.config)
        let (writer, output) = try Self.startWriter(sandbox, steps: 30, mode: "hang")
        defer {
            kill(writer.processIdentifier, SIGKILL)
            writer.waitUntilExit()
        }
        let written = String(decoding: output.fileHandleForReading.readData(ofLength: 8), as: UTF8.self)
        #expect(written.hasPrefix("written"), "the tensorboardX writer failed (is tensorboardX installed?)")
        let watch = try sandbox.start(["watch", "--follow", "--poll-interval", "0.05", "--output", "jsonl", "--run-id", "hung", "tb"])
        _ = try await watch.waitForStderr(containing: "(tensorboard)")
        kill(writer.processIdentifier, SIGSTOP)
        _ = try await watch.waitForStdout(containing: "\"run_stalled\"", timeout: .seconds(30))
        #expect(!watch.stderr.contains("the run finished"), "\(watch.stderr)")
        kill(writer.processIdentifier, SIGKILL)
        writer.waitUntilExit()
        try await Task.sleep(for: .milliseconds(500))
        #expect(!watch.stderr.contains("the run finished"), "\(watch.stderr)")
        let stopped = try await watch.stop(signal: SIGTERM)
        #expect(stopped.exited && stopped.status == 0, "\(watch.stderr)")
        let total = try await Self.totalSteps(sandbox)
        #expect(total == 30, "\(String(describing: total)) steps stored: \(watch.stderr)")
    }

    /// `--no-follow` does not wait: a path that is not there is an error at once.
    @Test func noFollowDoesNotWait() async throws {
        let sandbox = try CLISandbox()
        let result = try await sandbox.run(["watch", "--no-follow", "missing"])
        #expect(result.status == 2, "\(result)")
        #expect(result.stderr.contains("cannot tell its format"), "\(result)")
    }
}
