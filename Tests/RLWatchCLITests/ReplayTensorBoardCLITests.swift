import Foundation
import Testing

/// `rlwatch replay` on TensorBoard event files and log directories: the same sources `watch` reads, so a
/// finished log gives the same alerts either way.
@Suite struct ReplayTensorBoardCLITests {
    @Test func aLogDirectoryReplaysWithWatchsAlerts() async throws {
        let sandbox = try CLISandbox()
        let steps = try WatchTensorBoardCLITests.veRLSteps()
        try EventFile.write(
            sandbox, "runs/exp1/events.out.tfevents.1700000000.host",
            EventFile.header + WatchTensorBoardCLITests.records(steps))
        let watched = try await sandbox.run(["watch", "--no-follow", "--no-store", "--output", "jsonl", "runs"])
        #expect(watched.status == 0, "\(watched)")
        let replayed = try await sandbox.run(["replay", "--no-store", "--format", "jsonl", "--explain", "runs"])
        #expect(replayed.status == 0, "\(replayed)")
        #expect(replayed.stderr.contains("metrics: entropy ← actor/entropy, kl_divergence ← actor/kl_loss"), "\(replayed)")
        let alerts = try WatchCLITests.alertKeys(replayed.stdout)
        #expect(alerts == (try WatchCLITests.alertKeys(watched.stdout)), "\(replayed)\n\(watched)")
        #expect(alerts.contains("kl_explosion/critical@67"), "\(replayed)")

        // The event file itself, stored: every step is in the database.
        let file = "runs/exp1/events.out.tfevents.1700000000.host"
        let stored = try await sandbox.run(["replay", "--run-id", "tb", file])
        #expect(stored.status == 0, "\(stored)")
        #expect(stored.stdout.contains("Replayed \(steps.count) steps as run tb"), "\(stored)")
        let diagnosis = try jsonObject(try await sandbox.run(["diagnose", "--run-id", "tb", "--format", "json"]).stdout)
        #expect(diagnosis["total_steps"] as? Int == steps.count, "\(diagnosis)")
    }

    @Test func aRestartedTrainersEventFilesReplayLikeWatch() async throws {
        let sandbox = try CLISandbox()
        let steps = try WatchTensorBoardCLITests.veRLSteps()
        // A trainer that restarted: a second event file continues the run.
        try EventFile.write(
            sandbox, "runs/events.out.tfevents.1700000000.host",
            EventFile.header + WatchTensorBoardCLITests.records(steps.prefix(50)))
        try EventFile.write(
            sandbox, "runs/events.out.tfevents.1700000500.host",
            EventFile.header + WatchTensorBoardCLITests.records(steps.dropFirst(50)))
        let watched = try await sandbox.run(["watch", "--no-follow", "--no-store", "--output", "jsonl", "runs"])
        let replayed = try await sandbox.run(["replay", "--no-store", "--format", "jsonl", "--fail-on", "critical", "runs"])
        #expect(watched.status == 0, "\(watched)")
        #expect(replayed.status == 1, "\(replayed)")
        #expect(try WatchCLITests.alertKeys(replayed.stdout) == WatchCLITests.alertKeys(watched.stdout), "\(replayed)")
    }

    @Test func aCorruptRecordStopsTheReplayUnlessSkipped() async throws {
        let sandbox = try CLISandbox()
        let steps = try WatchTensorBoardCLITests.veRLSteps()
        var bytes = EventFile.header + WatchTensorBoardCLITests.records(steps.prefix(20))
        var corrupt = EventFile.record(EventFile.scalarEvent(step: 20, tag: "actor/entropy", value: 1))
        corrupt[corrupt.count - 1] ^= 0xFF
        bytes += corrupt + WatchTensorBoardCLITests.records(steps.dropFirst(20).prefix(10))
        try EventFile.write(sandbox, "runs/events.out.tfevents.1700000000.host", bytes)
        let stopped = try await sandbox.run(["replay", "--no-store", "runs"])
        #expect(stopped.status == 2, "\(stopped)")
        #expect(stopped.stderr.contains("error: "), "\(stopped)")
        let skipped = try await sandbox.run(["replay", "--no-store", "--skip-bad-lines", "runs"])
        #expect(skipped.status == 0, "\(skipped)")
        #expect(skipped.stderr.contains("warning: skipped"), "\(skipped)")
        #expect(skipped.stdout.contains("Replayed 30 steps"), "\(skipped)")
    }
}
