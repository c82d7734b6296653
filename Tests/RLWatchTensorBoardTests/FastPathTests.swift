import Foundation
import Testing

@testable import RLWatchTensorBoard

/// The hand-written fast path and swift-protobuf agree on every record of real files, and the fast
/// path does take the common shapes.
@Suite struct FastPathTests {
    typealias Entry = EventFileFixtures.Entry

    /// Decodes every record of the file both ways; returns how many records the fast path took.
    static func compareDecoders(path: String) throws -> (fast: Int, records: Int, scalars: [TensorBoardScalar]) {
        let bytes = try [UInt8](contentsOfFile: path)
        var fastDecoder = ScalarEventDecoder()
        var slowDecoder = ScalarEventDecoder()
        var fastTaken = 0
        var records = 0
        var all: [TensorBoardScalar] = []
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                guard case .record(let range, let end) = TFRecordFrame.scan(buffer, at: offset, maximumLength: 1 << 30)
                else {
                    Issue.record("bad record at \(offset)")
                    return
                }
                let data = UnsafeRawBufferPointer(rebasing: buffer[range])
                var viaSlow: [TensorBoardScalar] = []
                #expect(slowDecoder.decodeWithSwiftProtobuf(data, into: &viaSlow) == nil)
                var viaFast: [TensorBoardScalar] = []
                if fastDecoder.decodeFast(data, into: &viaFast) {
                    fastTaken += 1
                } else {
                    #expect(viaFast.isEmpty, "a refused record must leave nothing behind")
                    #expect(fastDecoder.decodeWithSwiftProtobuf(data, into: &viaFast) == nil)
                }
                #expect(viaFast.count == viaSlow.count)
                for (fast, slow) in zip(viaFast, viaSlow) {
                    #expect(fast.tag == slow.tag && fast.step == slow.step && fast.wallTime == slow.wallTime)
                    #expect(fast.value == slow.value || (fast.value.isNaN && slow.value.isNaN))
                }
                all += viaSlow
                records += 1
                offset = end
            }
        }
        #expect(fastDecoder.pluginByTag == slowDecoder.pluginByTag)
        return (fastTaken, records, all)
    }

    @Test func simpleValues() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let entries =
            (1...20).map { Entry($0, $0 % 2 == 0 ? "train/learning_rate" : "train/loss", Double($0) / 3) }
            + [Entry(21, "train/loss", .nan), Entry(21, "train/kl", -.infinity), Entry(21, "ünïcödé/tag", 1)]
        let path = try EventFileFixtures.write(.simple, entries, extras: true, in: directory.path)
        let result = try Self.compareDecoders(path: path)
        #expect(result.scalars.count == entries.count)
        // Every scalar event is taken by the fast path; the header, text and histogram are not.
        #expect(result.fast == entries.count)
        #expect(result.records == entries.count + 3)
    }

    @Test func tensors() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let styles = ["double", "content_float", "content_double", "half", "int64", "no_metadata", "vector", "text"]
        let entries =
            (1...10).map { Entry($0, "train/loss", Double($0) / 4) }
            + styles.enumerated().map { Entry(11 + $0.offset, "t/\($0.element)", 1.5, $0.element) }
            + [Entry(30, "train/loss", 2, "no_metadata"), Entry(31, "train/loss", .nan)]
        let path = try EventFileFixtures.write(.tensors, entries, in: directory.path)
        let result = try Self.compareDecoders(path: path)
        #expect(result.scalars.count == entries.count - 2)  // not the vector nor the text
        // float_val (12), double and no_metadata (2), the vector (not a scalar, but a fast-path shape).
        #expect(result.fast == 15)
    }
}
