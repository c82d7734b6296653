import Foundation
import Testing

@testable import RLWatchTrackers
import RLWatchTesting

/// The LevelDB framing of W&B's transaction log, on logs whose records fall where a test needs them: split across
/// blocks (FIRST / MIDDLE / LAST), a block's tail too short for a chunk header, a record still being written.
/// (What W&B itself writes is read in `TrackerCLITests`, with W&B.)
@Suite struct WandbFramingTests {
    static func file(_ bytes: [UInt8]) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("framing-\(UUID().uuidString).wandb").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func steps(_ log: WandbLog, final: Bool = true) throws -> (steps: [Int], read: TrackerRead) {
        var all: [Int] = []
        var read = TrackerRead()
        repeat {
            read = try log.read(limit: 1000, final: final, strict: false)
            all += read.rows.map(\.step)
        } while read.hasMore
        return (all, read)
    }

    @Test func crcIsIEEE() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
    }

    @Test func recordsSplitAcrossBlocksAndPaddedBlockTailsAreRead() throws {
        var writer = WandbTransactionLogWriter()
        for step in 1...200 {
            // Rows of varying size, one larger than two blocks (FIRST, MIDDLE, LAST).
            writer.appendHistory(step: step, values: [("train/kl", 0.01), ("train/loss", step == 150 ? .nan : 0.3)],
                padding: step == 100 ? 70_000 : step % 97 * 13)
        }
        writer.appendExit(code: 0)
        #expect(writer.bytes.count > 3 * WandbTransactionLog.blockSize)
        let log = WandbLog(path: try Self.file(writer.bytes))
        let (steps, read) = try Self.steps(log)
        #expect(steps == Array(1...200))
        #expect(read.warnings.isEmpty)
        #expect(read.end == .finished("the W&B run exited with code 0"))
    }

    @Test func aRecordStillBeingWrittenIsWaitedForAndThenRead() throws {
        var writer = WandbTransactionLogWriter()
        for step in 1...50 { writer.appendHistory(step: step, values: [("actor/entropy", 1.0)], padding: 900) }
        let whole = writer.bytes
        let path = try Self.file(Array(whole.prefix(whole.count - 500)))
        let log = WandbLog(path: path)
        let first = try Self.steps(log, final: false)
        #expect(first.steps == Array(1...49))
        #expect(first.read.warnings.isEmpty)
        // The writer finishes the record: the next read continues from the stored position.
        try Data(whole).write(to: URL(fileURLWithPath: path))
        let resumed = WandbLog(path: path)
        try resumed.resume(from: log.position)
        #expect(try Self.steps(resumed).steps == [50])
    }

    @Test func aCorruptChunkIsSkippedWithItsBlockAndNamed() throws {
        var writer = WandbTransactionLogWriter()
        for step in 1...100 { writer.appendHistory(step: step, values: [("kl", 0.01)], padding: 600) }
        var bytes = writer.bytes
        bytes[WandbTransactionLog.blockSize + 3000] ^= 0xFF  // a record in the second block
        let path = try Self.file(bytes)
        let (steps, read) = try Self.steps(WandbLog(path: path))
        #expect(read.warnings.contains { $0.contains("\(path) at offset") && $0.contains("checksum mismatch; the chunk skipped") })
        // The chunk's length was sound: only its record is lost.
        #expect(steps.count == 99 && steps.first == 1 && steps.last == 100)

        // A corrupt length: nothing after it in the block can be trusted; the next blocks are read.
        var badLength = writer.bytes
        let chunk = WandbTransactionLog.fileHeaderSize
        badLength[chunk + 5] = 0xFF  // the first chunk's length: past the end of its block
        let blockLost = try Self.steps(WandbLog(path: try Self.file(badLength)))
        #expect(blockLost.read.warnings.contains { $0.contains("at offset 7") && $0.contains("runs past its block") }, "\(blockLost.read.warnings)")
        #expect(blockLost.steps.count < 99 && blockLost.steps.count > 40 && blockLost.steps.last == 100)
        let strict = try WandbLog(path: path).read(limit: 1000, final: true, strict: true)
        #expect(strict.failure?.contains("at offset") == true)
    }

    @Test func aFileWithoutTheHeaderIsNotALog() throws {
        let log = WandbLog(path: try Self.file(Array("{\"step\": 1}\n".utf8)))
        let read = try log.read(limit: 10, final: true, strict: false)
        #expect(read.failure?.contains("not a W&B transaction log") == true)
    }
}
