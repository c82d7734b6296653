import Foundation
import RLWatch
import RLWatchCore
import RLWatchSQLite
import RLWatchStore
import Testing

/// `rlwatch watch` on a TRL / Hugging Face `trainer_state.json`, rewritten whole at each checkpoint save.
@Suite struct WatchTrainerStateTests {
    /// A trainer_state.json whose log_history holds `steps`, with values that depend on `seed`.
    static func document(_ steps: [Int], seed: Double = 0) -> String {
        let entries = steps.map { step in
            "{\"step\": \(step), \"loss\": \(0.5 + seed + Double(step) / 1000), \"entropy\": 0.3, \"grad_norm\": 1.0}"
        }
        let summary = "{\"step\": \(steps.last ?? 0), \"train_runtime\": 10.0, \"train_loss\": 0.4}"
        return "{\"global_step\": \(steps.last ?? 0), \"log_history\": [\(entries.joined(separator: ", ")), \(summary)]}"
    }

    @Test func onlyEntriesNotSeenYetAreRead() async throws {
        let sandbox = try WatchSandbox()
        let store = InMemoryStore()
        try sandbox.write("out/trainer_state.json", Self.document(Array(1...5)))
        let watcher = try await sandbox.watcher(["out/trainer_state.json"], kind: .trainerState(), store: store)
        #expect(try await watcher.pollOnce() == 5)
        #expect(try await watcher.pollOnce() == 0)
        try sandbox.replace("out/trainer_state.json", Self.document(Array(1...8)))
        #expect(try await watcher.pollOnce() == 3)
        try sandbox.write("out/trainer_state.json", Self.document(Array(1...12)))  // rewritten in place
        #expect(try await watcher.pollOnce() == 4)
        #expect(try await store.steps(runID: watcher.runID).map(\.metrics.step) == Array(1...12))
        #expect(sandbox.warnings.isEmpty)
        #expect(try await store.run(id: watcher.runID)?.framework == "trl")
    }

    @Test func aDocumentWhoseGlobalStepReachedMaxStepsSaysTheRunFinished() async throws {
        let sandbox = try WatchSandbox()
        let store = InMemoryStore()
        let midway = Self.document(Array(1...5)).replacingOccurrences(of: "{\"global_step\": 5,", with: "{\"global_step\": 5, \"max_steps\": 8,")
        try sandbox.write("out/trainer_state.json", midway)
        let watcher = try await sandbox.watcher(["out/trainer_state.json"], kind: .trainerState(), store: store)
        #expect(try await watcher.pollOnce() == 5)
        #expect(!sandbox.notes.contains { $0.text.contains("the run finished") })
        let done = Self.document(Array(1...8)).replacingOccurrences(of: "{\"global_step\": 8,", with: "{\"global_step\": 8, \"max_steps\": 8,")
        try sandbox.replace("out/trainer_state.json", done)
        #expect(try await watcher.pollOnce() == 3)
        let finished = sandbox.notes.filter { $0.text.contains("global_step 8 reached max_steps 8") }
        #expect(finished.count == 1, "\(sandbox.notes.map(\.text))")
        #expect(finished.first?.text.contains("the run finished; it is not reported as stalled") == true)
    }

    @Test func aResumeFromAnEarlierCheckpointIsReadAsANewSegment() async throws {
        let sandbox = try WatchSandbox()
        let store = InMemoryStore()
        try sandbox.write("trainer_state.json", Self.document(Array(1...10)))
        let watcher = try await sandbox.watcher(["trainer_state.json"], kind: .trainerState(), store: store)
        #expect(try await watcher.pollOnce() == 10)
        // Resumed from step 6: the history up to 6 is the same, 7… are new values.
        let entries = (1...6).map { Self.entry($0, seed: 0) } + (7...9).map { Self.entry($0, seed: 1) }
        try sandbox.replace("trainer_state.json", "{\"log_history\": [\(entries.joined(separator: ", "))]}")
        #expect(try await watcher.pollOnce() == 3)
        #expect(sandbox.warnings.count == 1)
        #expect(sandbox.warnings.first?.contains("differs after step 6") == true, "\(sandbox.warnings)")
        let rows = try await store.steps(runID: watcher.runID)
        #expect(rows.map(\.metrics.step) == Array(1...10) + [7, 8, 9])
        #expect(rows.suffix(3).allSatisfy { $0.segment == 1 })
    }

    static func entry(_ step: Int, seed: Double) -> String {
        "{\"step\": \(step), \"loss\": \(0.5 + seed + Double(step) / 1000), \"entropy\": 0.3, \"grad_norm\": 1.0}"
    }

    @Test func aRestartReadsOnlyWhatIsNew() async throws {
        let sandbox = try WatchSandbox()
        let database = sandbox.path("metrics.db")
        try sandbox.write("trainer_state.json", Self.document(Array(1...5)))
        let first = try await sandbox.watcher(
            ["trainer_state.json"], kind: .trainerState(), store: try SQLiteStore(path: database))
        #expect(try await first.pollOnce() == 5)
        try sandbox.replace("trainer_state.json", Self.document(Array(1...7)))
        let store = try SQLiteStore(path: database)
        let second = try await sandbox.watcher(["trainer_state.json"], kind: .trainerState(), store: store)
        #expect(try await second.pollOnce() == 2)
        #expect(try await store.steps(runID: first.runID).map(\.metrics.step) == Array(1...7))
    }

    @Test func aDirectoryIsReadThroughItsNewestCheckpoint() async throws {
        let sandbox = try WatchSandbox()
        let store = InMemoryStore()
        try sandbox.write("out/checkpoint-5/trainer_state.json", Self.document(Array(1...5)))
        let watcher = try await sandbox.watcher(["out"], kind: .trainerState(), store: store)
        #expect(try await watcher.pollOnce() == 5)
        try await Task.sleep(for: .milliseconds(20))  // a later modification time
        try sandbox.write("out/checkpoint-10/trainer_state.json", Self.document(Array(1...10)))
        #expect(try await watcher.pollOnce() == 5)
        #expect(try await store.steps(runID: watcher.runID).map(\.metrics.step) == Array(1...10))
    }

    @Test func aDocumentCaughtMidWriteIsReadAgainLater() async throws {
        let sandbox = try WatchSandbox()
        let store = InMemoryStore()
        try sandbox.write("trainer_state.json", Self.document(Array(1...3)))
        let watcher = try await sandbox.watcher(["trainer_state.json"], kind: .trainerState(), store: store)
        #expect(try await watcher.pollOnce() == 3)
        let full = Self.document(Array(1...6))
        try sandbox.write("trainer_state.json", String(full.prefix(full.count / 2)))
        #expect(try await watcher.pollOnce() == 0)
        #expect(sandbox.warnings.isEmpty)
        // Still broken at the next poll: said once.
        #expect(try await watcher.pollOnce() == 0)
        #expect(try await watcher.pollOnce() == 0)
        #expect(sandbox.warnings.count == 1)
        #expect(sandbox.warnings.first?.contains("waiting for the trainer to rewrite it") == true)
        try sandbox.write("trainer_state.json", full)
        #expect(try await watcher.pollOnce() == 3)
    }
}
