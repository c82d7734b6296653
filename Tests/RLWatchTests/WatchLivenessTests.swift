import Foundation
import RLWatch
import RLWatchCore
import RLWatchStore
import RLWatchTesting
import Synchronization
import Testing

/// `run_stalled` in `rlwatch watch`: quiet files are a stall whether or not a process holds them open (TensorBoard's
/// writer closes its file after every write); only what the trainer writes at the end of training finishes the run;
/// a writer process that is gone without it is said to have died.
@Suite struct WatchLivenessTests {
    static let config: RLWatchConfig = {
        var config = RLWatchConfig()
        config.stall.afterSeconds = 60
        config.stall.criticalAfterSeconds = 180
        return config
    }()

    @Test func quietFilesAreStalledAndResumeWithANoteAndAWriterThatDiedIsSaid() async throws {
        let sandbox = try WatchSandbox()
        let store = InMemoryStore()
        let clock = ManualWallClock()
        let open = Atomic<Bool>(true)
        let alive = Atomic<Bool>(true)
        try sandbox.append("metrics.jsonl", WatchLines.healthy(1...5))
        let watcher = try await sandbox.watcher(
            ["metrics.jsonl"], store: store, config: Self.config, wallClock: AnyWallClock(clock),
            fileHolders: { _ in open.load(ordering: .relaxed) ? [4242] : [] },
            processAlive: { _ in alive.load(ordering: .relaxed) })
        try await watcher.pollOnce()
        await watcher.checkLiveness()
        clock.advance(by: .seconds(59))
        await watcher.checkLiveness()
        #expect(try await store.alerts(runID: watcher.runID).isEmpty)
        clock.advance(by: .seconds(1))
        await watcher.checkLiveness()
        clock.advance(by: .seconds(120))
        await watcher.checkLiveness()
        let raised = try await store.alerts(runID: watcher.runID).map { "\($0.alert.detector)/\($0.alert.severity.rawValue)@\($0.alert.step)" }
        #expect(raised == ["run_stalled/warning@5", "run_stalled/critical@5"])
        #expect(watcher.summary.alertKeys == raised)

        // The trainer writes again: the stall ends with a note.
        try sandbox.append("metrics.jsonl", WatchLines.healthy(6...6))
        try await watcher.pollOnce()
        let last = try #require(try await store.alerts(runID: watcher.runID).last)
        #expect(last.disposition == .suppressed(.resolved))
        #expect(last.alert.step == 6)

        // Then closes the file (as TensorBoard's writer does after every write): not the end of the run.
        open.store(false, ordering: .relaxed)
        await watcher.checkLiveness()
        #expect(!sandbox.notes.contains { $0.text.contains("exited") })
        clock.advance(by: .seconds(60))
        await watcher.checkLiveness()
        #expect(try await store.alerts(runID: watcher.runID).last?.alert.severity == .warning)
        #expect(try await store.alerts(runID: watcher.runID).count == 4)
        // The process that held it dies (SIGKILL, an OOM kill) without an end-of-training summary: said at once.
        alive.store(false, ordering: .relaxed)
        await watcher.checkLiveness()
        #expect(sandbox.warnings.contains { $0.contains("pid 4242") && $0.contains("crashed or was killed") }, "\(sandbox.notes)")
        clock.advance(by: .seconds(120))
        await watcher.checkLiveness()
        #expect(try await store.alerts(runID: watcher.runID).last?.alert.severity == .critical)
    }

    @Test func aWatchThatDoesNotFollowNeverRaisesAStall() async throws {
        let sandbox = try WatchSandbox()
        let store = InMemoryStore()
        let clock = ManualWallClock()
        try sandbox.append("metrics.jsonl", WatchLines.healthy(1...5))
        let watcher = try await sandbox.watcher(
            ["metrics.jsonl"], store: store, follow: false, config: Self.config, wallClock: AnyWallClock(clock),
            fileHolders: { _ in [4242] })
        _ = try await watcher.run(clock: ContinuousClock())
        clock.advance(by: .seconds(100_000))
        await watcher.checkLiveness()
        #expect(try await store.alerts(runID: watcher.runID).isEmpty)
    }

    @Test func theOpenFileProbeSeesAnotherProcessHoldingTheFile() async throws {
        let sandbox = try WatchSandbox()
        try sandbox.append("held.jsonl", "")
        let path = sandbox.path("held.jsonl")
        #expect(OpenFileProbe.anotherProcessHasOpen([path]) == false)
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/bin/sh")
        holder.arguments = ["-c", "exec 3>>\"$0\"; exec sleep 120", path]
        try holder.run()
        defer {
            kill(holder.processIdentifier, SIGKILL)
            holder.waitUntilExit()
        }
        var seen = false
        for _ in 0..<600 where !seen {
            seen = OpenFileProbe.anotherProcessHasOpen([path]) == true
            if !seen { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(seen)
        kill(holder.processIdentifier, SIGKILL)
        holder.waitUntilExit()
        #expect(OpenFileProbe.anotherProcessHasOpen([path]) == false)
    }
}
