import Foundation
import RLWatch
import RLWatchCore
import RLWatchSQLite
import RLWatchStore
import Testing

/// `replay`'s feeder: one batch judged and stored while the reader parses the next, in order, and nothing lost or
/// hidden by the overlap.
@Suite struct ReplayFeederTests {
    private static func steps(_ range: ClosedRange<Int>) -> [MetricStep] {
        range.map { MetricStep(step: $0, entropy: 0.4, rewardMean: 0.1 * Double($0 % 7), loss: 0.5) }
    }

    @Test func everyBatchIsStoredInOrderOnceFlushed() async throws {
        let store = InMemoryStore()
        let pipeline = RunPipeline(monitor: try await Monitor(config: RLWatchConfig(), runID: "r", store: store))
        nonisolated(unsafe) let feeder = ReplayFeeder(pipeline: pipeline, batchSize: 3, printer: nil)
        try await ReplayFeeder.runOnOwnThread {
            for step in Self.steps(1...10) { try feeder.consume(step) }
            try feeder.flush()
        }
        // Ten steps in batches of three: four transactions, the last one partial, all stored in step order.
        #expect(try await store.steps(runID: "r").map(\.metrics.step) == Array(1...10))
        #expect(pipeline.tally.steps == 10)
    }

    @Test func aBatchThatCannotBeStoredStopsTheReplayWithItsError() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("feeder-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("metrics.db").path
        _ = try SQLiteStore(path: path)
        // Runs register in memory, rows go to a read-only file: every batch fails for real.
        let store = SeparateRegistration(try SQLiteStore.openExisting(path: path, readOnly: true))
        let pipeline = RunPipeline(monitor: try await Monitor(config: RLWatchConfig(), runID: "ro", store: store))
        nonisolated(unsafe) let feeder = ReplayFeeder(pipeline: pipeline, batchSize: 2, printer: nil)
        let consumed = try await ReplayFeeder.runOnOwnThread { () -> Int in
            var consumed = 0
            do {
                for step in Self.steps(1...10) {
                    try feeder.consume(step)
                    consumed += 1
                }
                try feeder.flush()
            } catch {
                return consumed
            }
            return -1
        }
        // The first batch (steps 1-2) fails while steps 3-4 are read; handing those over waits for it and throws,
        // so the reader stops at step 4 instead of reading on past a store that keeps nothing.
        #expect(consumed == 3)
        #expect(try await store.stepCount(runID: "ro") == 0)
    }
}
