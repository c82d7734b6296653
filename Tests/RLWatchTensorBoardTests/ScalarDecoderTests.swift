import Foundation
import Testing

@testable import RLWatchTensorBoard

/// `ScalarEventDecoder` reads every record of files tensorboardX wrote: each scalar once, with its step, tag and
/// value (NaN and infinities included), and nothing from the header, text, histograms or non-scalar tensors.
@Suite struct ScalarDecoderTests {
    typealias Entry = EventFileFixtures.Entry

    /// Decodes every record of the file; returns the number of records and the scalars in file order.
    static func decodeAll(path: String) throws -> (records: Int, scalars: [TensorBoardScalar]) {
        let bytes = try [UInt8](contentsOfFile: path)
        var decoder = ScalarEventDecoder()
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
                #expect(decoder.decode(UnsafeRawBufferPointer(rebasing: buffer[range]), into: &all) == nil)
                records += 1
                offset = end
            }
        }
        return (records, all)
    }

    /// Whether the scalars are the entries, in order (NaN equal to NaN; values were written as 32-bit floats
    /// unless the entry's style says double, and truncated to an integer as int64).
    static func expectScalars(_ scalars: [TensorBoardScalar], are entries: [Entry]) {
        #expect(scalars.count == entries.count)
        for (scalar, entry) in zip(scalars, entries) {
            #expect(scalar.step == entry.step && scalar.tag == entry.tag)
            let expected =
                entry.style == "int64"
                ? entry.value.rounded(.towardZero)
                : entry.style?.contains("double") == true ? entry.value : Double(Float(entry.value))
            #expect(scalar.value == expected || (scalar.value.isNaN && expected.isNaN), "\(entry.tag) at \(entry.step)")
        }
    }

    @Test func simpleValues() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let entries =
            (1...20).map { Entry($0, $0 % 2 == 0 ? "train/learning_rate" : "train/loss", Double($0) / 3) }
            + [Entry(21, "train/loss", .nan), Entry(21, "train/kl", -.infinity), Entry(21, "ünïcödé/tag", 1)]
        let path = try EventFileFixtures.write(.simple, entries, extras: true, in: directory.path)
        let result = try Self.decodeAll(path: path)
        // The header, a text summary and a histogram besides the scalars.
        #expect(result.records == entries.count + 3)
        Self.expectScalars(result.scalars, are: entries)
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
        let result = try Self.decodeAll(path: path)
        // Not the vector nor the text: neither is a scalar.
        Self.expectScalars(result.scalars, are: entries.filter { $0.style != "vector" && $0.style != "text" })
    }
}
