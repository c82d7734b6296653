import Foundation
import RLWatch
import RLWatchCore
import RLWatchStore
import Testing

/// `rlwatch watch` on metrics JSONL files a trainer is still writing: real files in a temporary directory,
/// appended by the test between polls.
@Suite struct WatchJSONLTests {
    @Test func aGrowingFileIsReadAsItGrows() async throws {
        let sandbox = try WatchSandbox()
        let store = InMemoryStore()
        try sandbox.append("m.jsonl", WatchLines.healthy(1...5))
        let watcher = try await sandbox.watcher(["m.jsonl"], store: store)
        #expect(try await watcher.pollOnce() == 5)
        #expect(try await watcher.pollOnce() == 0)
        try sandbox.append("m.jsonl", WatchLines.healthy(6...30))
        #expect(try await watcher.pollOnce() == 25)
        try sandbox.append("m.jsonl", WatchLines.nanLoss(31))
        #expect(try await watcher.pollOnce() == 1)
        #expect(watcher.summary.alertKeys == ["loss_nan/critical@31"])
        let rows = try await store.steps(runID: watcher.runID)
        #expect(rows.map(\.metrics.step) == Array(1...31))
        #expect(sandbox.warnings.isEmpty)
    }

    @Test func aPartialLastLineIsWaitedOnNotAnError() async throws {
        let sandbox = try WatchSandbox()
        let store = InMemoryStore()
        try sandbox.append("m.jsonl", WatchLines.healthy(1...3))
        let watcher = try await sandbox.watcher(["m.jsonl"], store: store)
        #expect(try await watcher.pollOnce() == 3)
        let line = WatchLines.healthy(4)
        let cut = line.index(line.startIndex, offsetBy: 17)
        try sandbox.append("m.jsonl", String(line[..<cut]))
        #expect(try await watcher.pollOnce() == 0)
        try sandbox.append("m.jsonl", String(line[cut...]))
        #expect(try await watcher.pollOnce() == 1)
        #expect(try await store.steps(runID: watcher.runID).map(\.metrics.step) == [1, 2, 3, 4])
        #expect(sandbox.warnings.isEmpty)
    }

    @Test func withoutFollowAFinalLineWithoutNewlineIsRead() async throws {
        let sandbox = try WatchSandbox()
        let store = InMemoryStore()
        try sandbox.append("m.jsonl", WatchLines.healthy(1...2) + #"{"step": 3, "loss": 0.5}"#)
        let watcher = try await sandbox.watcher(["m.jsonl"], store: store, follow: false)
        #expect(try await watcher.run(clock: ContinuousClock()).steps == 3)
        // The trainer later finishes the line and goes on: the rest of line 3 is not read again.
        try sandbox.append("m.jsonl", "\n" + WatchLines.healthy(4))
        let again = try await sandbox.watcher(["m.jsonl"], store: store, follow: false)
        #expect(try await again.pollOnce() == 1)
        #expect(try await store.steps(runID: watcher.runID).map(\.metrics.step) == [1, 2, 3, 4])
    }

    @Test func veRLFileLoggerLinesRaiseTheRealRunsAlerts() async throws {
        let sandbox = try WatchSandbox()
        let store = InMemoryStore()
        let lines = try WatchLines.veRLLines()
        try sandbox.append("verl.jsonl", lines.prefix(20).joined())
        let watcher = try await sandbox.watcher(["verl.jsonl"], kind: .jsonl(.verl), store: store)
        try await watcher.pollOnce()
        for line in lines.dropFirst(20) {
            try sandbox.append("verl.jsonl", line)
            try await watcher.pollOnce()
        }
        #expect(watcher.summary.steps == 71)
        #expect(
            watcher.summary.alertKeys
                == ["kl_explosion/critical@67", "gradient_norm_spike/warning@68", "gradient_norm_spike/critical@71"])
        #expect(try await store.run(id: watcher.runID)?.framework == "verl")
        let keyNote = sandbox.notes.first { $0.kind == .explanation }?.text ?? ""
        #expect(keyNote.hasPrefix("metrics: entropy ← actor/entropy, kl_divergence ← actor/kl_loss,"), "\(keyNote)")
    }

    @Test func aTruncatedFileIsReadFromTheStartAsANewSegment() async throws {
        let sandbox = try WatchSandbox()
        let store = InMemoryStore()
        try sandbox.append("m.jsonl", WatchLines.healthy(1...10))
        let watcher = try await sandbox.watcher(["m.jsonl"], store: store)
        #expect(try await watcher.pollOnce() == 10)
        try sandbox.write("m.jsonl", WatchLines.healthy(1...3))
        #expect(try await watcher.pollOnce() == 3)
        #expect(sandbox.warnings.count == 1)
        #expect(sandbox.warnings.first?.contains("was truncated") == true, "\(sandbox.warnings)")
        let rows = try await store.steps(runID: watcher.runID)
        #expect(rows.map(\.metrics.step) == Array(1...10) + [1, 2, 3])
        #expect(rows.map(\.segment) == Array(repeating: 0, count: 10) + [1, 1, 1])
    }

    @Test func aReplacedFileIsReadFromTheStart() async throws {
        let sandbox = try WatchSandbox()
        let store = InMemoryStore()
        try sandbox.append("m.jsonl", WatchLines.healthy(1...10))
        let watcher = try await sandbox.watcher(["m.jsonl"], store: store)
        #expect(try await watcher.pollOnce() == 10)
        // Atomically replaced by a longer file: a new inode.
        try sandbox.replace("m.jsonl", WatchLines.healthy(100...112))
        #expect(try await watcher.pollOnce() == 13)
        #expect(sandbox.warnings.contains { $0.contains("was replaced (it is another file now") }, "\(sandbox.warnings)")
        // Rewritten in place, longer than what was read, with other first bytes.
        try sandbox.write("m.jsonl", "#  rewritten\n" + WatchLines.healthy(1...20))
        #expect(try await watcher.pollOnce() == 20)
        #expect(sandbox.warnings.last?.contains("its first bytes changed") == true, "\(sandbox.warnings)")
        #expect(try await store.stepCount(runID: watcher.runID) == 43)
    }

    @Test func newFilesInAWatchedDirectoryArePickedUp() async throws {
        let sandbox = try WatchSandbox()
        let store = InMemoryStore()
        try sandbox.append("logs/a.jsonl", WatchLines.healthy(1...5))
        try sandbox.append("logs/notes.txt", "not a log\n")
        let watcher = try await sandbox.watcher(["logs"], store: store)
        #expect(try await watcher.pollOnce() == 5)
        try sandbox.append("logs/b.jsonl", WatchLines.healthy(6...9))
        #expect(try await watcher.pollOnce() == 4)
        #expect(sandbox.notes.contains { $0.kind == .info && $0.text.hasSuffix("/logs/b.jsonl") }, "\(sandbox.notes)")
        #expect(try await store.steps(runID: watcher.runID).map(\.metrics.step) == Array(1...9))
    }

    @Test func aMalformedLineIsSkippedWithAWarningNamingFileAndLine() async throws {
        let sandbox = try WatchSandbox()
        let store = InMemoryStore()
        try sandbox.append("m.jsonl", WatchLines.healthy(1...2) + "{\"step\": 3, \"loss\": tru}\n" + WatchLines.healthy(4))
        let watcher = try await sandbox.watcher(["m.jsonl"], store: store)
        #expect(try await watcher.pollOnce() == 3)
        #expect(sandbox.warnings.count == 1)
        #expect(sandbox.warnings.first?.hasPrefix("skipped \(sandbox.path("m.jsonl")):3: ") == true, "\(sandbox.warnings)")
    }

    @Test func strictStopsAtAMalformedLineAfterStoringWhatCameBefore() async throws {
        let sandbox = try WatchSandbox()
        let store = InMemoryStore()
        try sandbox.append("m.jsonl", WatchLines.healthy(1...2) + "{\"step\": 3,\n" + WatchLines.healthy(4))
        let watcher = try await sandbox.watcher(["m.jsonl"], store: store, strict: true)
        let error = await #expect(throws: WatchError.self) { try await watcher.pollOnce() }
        #expect(error?.description.hasPrefix("\(sandbox.path("m.jsonl")):3: ") == true, "\(String(describing: error))")
        #expect(try await store.steps(runID: watcher.runID).map(\.metrics.step) == [1, 2])
        // The stored position is before the bad line: a restart meets it again.
        let again = try await sandbox.watcher(["m.jsonl"], store: store, strict: true)
        await #expect(throws: WatchError.self) { try await again.pollOnce() }
        #expect(try await store.stepCount(runID: watcher.runID) == 2)
    }

    @Test func largeBacklogsAreStoredInBatches() async throws {
        let sandbox = try WatchSandbox()
        let store = InMemoryStore()
        try sandbox.append("m.jsonl", WatchLines.healthy(1...250))
        let watcher = try await sandbox.watcher(["m.jsonl"], store: store, follow: false, batchSize: 64)
        #expect(try await watcher.run(clock: ContinuousClock()).steps == 250)
        #expect(try await store.steps(runID: watcher.runID).map(\.metrics.step) == Array(1...250))
    }

    @Test func explainNamesKeysAndIdleDetectors() async throws {
        let sandbox = try WatchSandbox()
        let store = InMemoryStore()
        let lines = try WatchLines.veRLLines()
        try sandbox.append("verl.jsonl", lines.prefix(5).joined())
        let watcher = try await sandbox.watcher(["verl.jsonl"], kind: .jsonl(.verl), store: store, explain: true)
        try await watcher.pollOnce()
        try sandbox.append("verl.jsonl", lines.dropFirst(5).joined())
        try await watcher.pollOnce()
        let explanation = sandbox.notes.filter { $0.kind == .explanation }.map(\.text)
        #expect(explanation.first?.hasPrefix("metrics: entropy ← actor/entropy") == true)
        #expect(explanation.contains { $0.contains("detectors, from the first 5 steps") }, "\(explanation)")
        #expect(explanation.contains { $0.contains("reward_hacking variance check: no reward_std") && $0.contains("veRL") })
        #expect(explanation.contains { $0.contains("advantage_variance: no advantage_std") })
        #expect(explanation.contains { $0.contains("watching:") && $0.contains("kl_explosion (kl_divergence)") })
        // Said once only.
        #expect(explanation.filter { $0.hasPrefix("metrics:") }.count == 1)
    }
}
