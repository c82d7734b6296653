import Foundation
import SwiftProtobuf
import Testing

@testable import RLWatchTensorBoard

/// Framing and decoding edge cases, on records made in Swift.
@Suite struct RecordFramingTests {
    static func scalarEvent(step: Int64, tag: String, value: Float) throws -> [UInt8] {
        var summaryValue = Tensorboard_Summary.Value()
        summaryValue.tag = tag
        summaryValue.simpleValue = value
        var event = Tensorboard_Event()
        event.step = step
        event.wallTime = 1_700_000_000
        event.summary.value = [summaryValue]
        return try event.serializedBytes()
    }

    static func file(_ records: [[UInt8]], in directory: TemporaryDirectory) throws -> String {
        let path = directory.path + "/events.out.tfevents.1700000000.test"
        try records.flatMap { TFRecordFrame.encode($0) }.write(toFile: path)
        return path
    }

    @Test func encodeThenScan() throws {
        let data = try Self.scalarEvent(step: 3, tag: "loss", value: 0.5)
        let record = TFRecordFrame.encode(data)
        #expect(record.count == data.count + 16)
        record.withUnsafeBytes { bytes in
            guard case .record(let range, let end) = TFRecordFrame.scan(bytes, at: 0, maximumLength: 1 << 20) else {
                Issue.record("not a record")
                return
            }
            #expect(range == 12..<(12 + data.count))
            #expect(end == record.count)
            // Every shorter prefix is incomplete, never corrupt.
            for count in 0..<record.count {
                let prefix = UnsafeRawBufferPointer(rebasing: bytes[0..<count])
                guard case .incomplete = TFRecordFrame.scan(prefix, at: 0, maximumLength: 1 << 20) else {
                    Issue.record("prefix of \(count) bytes is not incomplete")
                    return
                }
            }
        }
    }

    @Test func undecodableEventCanBeSkipped() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let good = try Self.scalarEvent(step: 1, tag: "loss", value: 1)
        let garbage: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF]  // a field tag that never ends
        let path = try Self.file([good, garbage, good], in: directory)
        var reader = TensorBoardEventReader(path: path)
        let before = try reader.poll()
        #expect(before.scalars.count == 1)
        let error = try #require(throws: TensorBoardReadError.self) { try reader.poll() }
        #expect(error.kind == .undecodableEvent)
        #expect(error.offset == Int64(good.count + 16))
        #expect(error.nextRecordOffset == Int64(good.count + 16 + garbage.count + 16))
        #expect(error.description.contains("not a TensorBoard Event protobuf"))
        let skipped = reader.skipCorruptRecord()
        #expect(skipped)
        let after = try reader.poll()
        #expect(after.scalars.count == 1)
    }

    @Test func absurdLengthIsCorrupt() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        // A length with a valid CRC but larger than the reader accepts.
        var header: [UInt8] = []
        withUnsafeBytes(of: UInt64(1 << 40).littleEndian) { header.append(contentsOf: $0) }
        let crc = header.withUnsafeBytes { CRC32C.masked(CRC32C.checksum($0)) }
        withUnsafeBytes(of: crc.littleEndian) { header.append(contentsOf: $0) }
        let path = directory.path + "/events.out.tfevents.1"
        try (header + [UInt8](repeating: 0, count: 100)).write(toFile: path)
        var reader = TensorBoardEventReader(path: path)
        let error = try #require(throws: TensorBoardReadError.self) { try reader.poll() }
        #expect(error.kind == .absurdLength)
        #expect(error.offset == 0)
        #expect(error.nextRecordOffset == nil)
    }

    @Test func recordLongerThanTheLimitIsCorrupt() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let data = try Self.scalarEvent(step: 1, tag: "a-long-tag-name", value: 1)
        let path = try Self.file([data], in: directory)
        var reader = TensorBoardEventReader(path: path, maximumRecordLength: 8)
        let error = try #require(throws: TensorBoardReadError.self) { try reader.poll() }
        #expect(error.kind == .absurdLength)
    }

    /// A record longer than the read chunk, and polls bounded by `maxBytes`.
    @Test func largeRecordsAndBoundedPolls() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var big = Tensorboard_Event()
        big.step = 1
        var value = Tensorboard_Summary.Value()
        value.tag = "big"
        var tensor = Tensorboard_TensorProto()
        tensor.dtype = .dtFloat
        tensor.floatVal = [Float](repeating: 1, count: TensorBoardEventReader.chunkSize / 2)
        tensor.tensorShape.dim = [Tensorboard_TensorShapeProto.Dim.with { $0.size = Int64(tensor.floatVal.count) }]
        value.tensor = tensor
        big.summary.value = [value]
        var records = try (1...50).map { try Self.scalarEvent(step: Int64($0), tag: "loss", value: Float($0)) }
        records.insert(try big.serializedBytes(), at: 10)
        let path = try Self.file(records, in: directory)

        for maxBytes in [1, 100, 64 << 20] {
            var reader = TensorBoardEventReader(path: path)
            var steps: [Int] = []
            var polls = 0
            while true {
                let poll = try reader.poll(maxBytes: maxBytes)
                polls += 1
                steps += poll.scalars.map(\.step)
                if poll.reachedEnd { break }
            }
            #expect(steps == Array(1...50))
            switch maxBytes {
            case 1: #expect(polls == 51)  // one record per poll
            case 100: #expect(polls > 1 && polls < 51)
            default: #expect(polls == 1)
            }
        }
    }

    @Test func missingFileAndDirectory() throws {
        var reader = TensorBoardEventReader(path: "/nonexistent/events.out.tfevents.1")
        let error = try #require(throws: TensorBoardReadError.self) { try reader.poll() }
        #expect(error.kind == .cannotOpen)
        #expect(error.description.hasPrefix("/nonexistent/events.out.tfevents.1: cannot open: "))
        #expect(throws: TensorBoardReadError.self) { try TensorBoardLogDirectory.eventFiles(in: "/nonexistent") }
        var directoryReader = TensorBoardEventReader(path: FileManager.default.temporaryDirectory.path)
        #expect(throws: TensorBoardReadError.self) { try directoryReader.poll() }
    }

    @Test func fileThatShrankIsAnError() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try Self.file([try Self.scalarEvent(step: 1, tag: "loss", value: 1)], in: directory)
        var reader = TensorBoardEventReader(path: path)
        _ = try reader.poll()
        try [UInt8]().write(toFile: path)
        let error = try #require(throws: TensorBoardReadError.self) { try reader.poll() }
        #expect(error.kind == .fileShrank)
    }

    @Test func emptyFileHasNothing() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try Self.file([], in: directory)
        var reader = TensorBoardEventReader(path: path)
        let poll = try reader.poll()
        #expect(poll.scalars.isEmpty && poll.records == 0 && poll.reachedEnd && poll.endOffset == 0)
    }
}
