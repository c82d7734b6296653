import Foundation
import RLWatch
import RLWatchCore
import RLWatchSQLite
import RLWatchStore
import Testing

/// A watch stopped and started again continues the same run: no step lost or stored twice, detectors
/// resumed (no old alert raised again), positions stored with the steps they cover.
@Suite struct WatchResumeTests {
    @Test func aRestartedWatchContinuesWithNoStepLostOrDuplicated() async throws {
        let sandbox = try WatchSandbox()
        let database = sandbox.path("metrics.db")
        let lines = try WatchLines.veRLLines()
        try sandbox.append("verl.jsonl", lines.prefix(66).joined())

        // First watch: up to step 67, the KL explosion.
        let first = try await sandbox.watcher(["verl.jsonl"], kind: .jsonl(.verl), store: try SQLiteStore(path: database))
        try await first.pollOnce()
        #expect(first.summary.alertKeys == ["kl_explosion/critical@67"])
        await first.finish()

        // The trainer goes on (a half-written line at the end), then the watch restarts.
        let rest = lines.dropFirst(66).joined()
        let cut = rest.index(rest.startIndex, offsetBy: rest.count - 40)
        try sandbox.append("verl.jsonl", String(rest[..<cut]))
        let store = try SQLiteStore(path: database)
        let second = try await sandbox.watcher(["verl.jsonl"], kind: .jsonl(.verl), store: store)
        #expect(second.runID == first.runID)
        #expect(second.summary.restoredSteps == 66)
        try await second.pollOnce()
        try sandbox.append("verl.jsonl", String(rest[cut...]))
        try await second.pollOnce()

        // The KL explosion at 67 is not raised again; the grad-norm spike that follows is raised once.
        #expect(second.summary.alertKeys == ["gradient_norm_spike/warning@68", "gradient_norm_spike/critical@71"])
        let rows = try await store.steps(runID: first.runID)
        let expected = lines.compactMap { line -> Int? in
            guard let range = line.range(of: "\"step\": ") else { return nil }
            return Int(line[range.upperBound...].prefix { $0.isNumber })
        }
        #expect(rows.map(\.metrics.step) == expected)
        #expect(Set(rows.map(\.segment)) == [0])
        let delivered = try await store.alerts(runID: first.runID, filter: .delivered).map(\.alert.step)
        #expect(delivered == [67, 68, 71])
        // A third start finds nothing new.
        let third = try await sandbox.watcher(["verl.jsonl"], kind: .jsonl(.verl), store: store)
        #expect(try await third.pollOnce() == 0)
        #expect(try await store.stepCount(runID: first.runID) == 71)
    }

    @Test func theStoredPositionMovesOnlyWithTheStepsItCovers() async throws {
        let sandbox = try WatchSandbox()
        let store = try SQLiteStore(path: sandbox.path("metrics.db"))
        try sandbox.append("m.jsonl", WatchLines.healthy(1...4))
        let watcher = try await sandbox.watcher(["m.jsonl"], store: store)
        try await watcher.pollOnce()
        let checkpoint = try #require(try await store.checkpoint(source: sandbox.path("m.jsonl")))
        #expect(checkpoint.runID == watcher.runID)
        #expect(checkpoint.state.contains("\"line\":4"))
        #expect(checkpoint.state.contains("\"offset\":\(WatchLines.healthy(1...4).utf8.count)"))
    }

    @Test func aRunWithStepsFromElsewhereIsNotMixedIn() async throws {
        let sandbox = try WatchSandbox()
        let store = InMemoryStore()
        let monitor = try await Monitor(config: RLWatchConfig(), runID: "taken", store: store)
        await monitor.log(MetricStep(step: 1, loss: 0.5))
        try sandbox.append("m.jsonl", WatchLines.healthy(1...3))
        let error = await #expect(throws: WatchError.self) {
            _ = try await sandbox.watcher(["m.jsonl"], store: store, runID: "taken")
        }
        #expect(error?.description.contains("run taken already has 1 stored step") == true)
    }

    @Test func theRunIDIsDerivedFromThePathsAndStable() throws {
        let one = WatchRunID.derive(from: ["/data/exp1/metrics.jsonl"])
        #expect(one == WatchRunID.derive(from: ["/data/exp1/metrics.jsonl"]))
        #expect(one.hasPrefix("watch-metrics.jsonl-"))
        #expect(one != WatchRunID.derive(from: ["/data/exp2/metrics.jsonl"]))
        #expect(WatchRunID.derive(from: ["/out/checkpoint-5/trainer_state.json"]).hasPrefix("watch-checkpoint-5-"))
        #expect(WatchRunID.derive(from: ["/a", "/b"]) == WatchRunID.derive(from: ["/b", "/a"]))
    }

    @Test func aFollowingWatchPicksUpAppendsUntilStopped() async throws {
        let sandbox = try WatchSandbox()
        let store = InMemoryStore()
        try sandbox.append("m.jsonl", WatchLines.healthy(1...3))
        // Built here, not by the sandbox: the running task owns the watcher and its notes.
        let watcher = try await Watcher.start(
            targets: [try WatchTarget(path: sandbox.path("m.jsonl"), kind: .jsonl())], config: RLWatchConfig(),
            store: store, options: Watcher.Options(follow: true, pollInterval: .milliseconds(5)), report: { _ in })
        let runID = watcher.runID
        let stop = WatchStopSignal()
        let running = Task { try await watcher.run(clock: ContinuousClock(), until: stop) }

        try sandbox.append("m.jsonl", WatchLines.healthy(4...10))
        #expect(try await waitUntil { try await store.stepCount(runID: runID) == 10 })
        try sandbox.append("m.jsonl", WatchLines.nanLoss(11))
        #expect(try await waitUntil { try await store.stepCount(runID: runID) == 11 })
        stop.stop()
        let summary = try await running.value
        #expect(summary.steps == 11)
        #expect(summary.alertKeys == ["loss_nan/critical@11"])
    }
}

/// Polls `condition` every 5 ms for at most `timeout`; true when it held in time. The bound is generous because the
/// full suite on 2 cores can keep a waiting test off the thread pool for tens of seconds; a passing wait returns as
/// soon as the condition holds.
func waitUntil(timeout: Duration = .seconds(60), _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(5))
    }
    return try await condition()
}
