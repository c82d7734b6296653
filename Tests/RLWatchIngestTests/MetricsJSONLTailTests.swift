import Foundation
import RLWatchCore
import Testing

@testable import RLWatchIngest

/// Reading what was appended to a metrics log since the last read.
@Suite struct MetricsJSONLTailTests {
    /// Reads `text` (written to a temporary file) from `position`.
    static func read(
        _ text: String, from position: MetricsJSONLTail.Position = .init(), maxLines: Int = .max, atEnd: Bool = false,
        chunkSize: Int = 7
    ) throws -> MetricsJSONLTail.Chunk {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tail-\(UUID().uuidString).jsonl")
        try Data(text.utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let descriptor = open(url.path, O_RDONLY)
        defer { close(descriptor) }
        var tail = MetricsJSONLTail(name: url.path, chunkSize: chunkSize)
        return try tail.read(descriptor: descriptor, from: position, maxLines: maxLines, atEnd: atEnd, keysForLines: 1)
    }

    static func steps(_ chunk: MetricsJSONLTail.Chunk) -> [Int] {
        chunk.lines.compactMap { try? $0.result.get().step }
    }

    @Test func completeLinesAreReadAndAPartialOneIsLeft() throws {
        let text = "\u{FEFF}{\"step\": 1, \"loss\": 1}\r\n\n# note\n{\"step\": 2}\n{\"step\": 3"
        let chunk = try Self.read(text)
        #expect(Self.steps(chunk) == [1, 2])
        #expect(chunk.lines.map(\.number) == [1, 4])
        #expect(chunk.position.line == 4)
        #expect(chunk.position.offset == Int64(text.utf8.count - "{\"step\": 3".utf8.count))
        #expect(chunk.pendingBytes == "{\"step\": 3".utf8.count)
        #expect(chunk.lines.first?.keys == ["loss"])
    }

    @Test func readingOnFromAPositionGivesTheRest() throws {
        let text = "{\"step\": 1}\n{\"step\": 2}\n{\"step\": 3}\n"
        let first = try Self.read(text, maxLines: 2)
        #expect(Self.steps(first) == [1, 2])
        #expect(first.hasMore)
        let rest = try Self.read(text, from: first.position)
        #expect(Self.steps(rest) == [3])
        #expect(rest.lines.map(\.number) == [3])
        #expect(!rest.hasMore)
    }

    @Test func atTheEndAnUnterminatedLineIsReadAndItsRestSkippedLater() throws {
        let text = "{\"step\": 1}\n{\"step\": 2}"
        let chunk = try Self.read(text, atEnd: true)
        #expect(Self.steps(chunk) == [1, 2])
        #expect(chunk.position.unterminated)
        let grown = text + "\n{\"step\": 3}\n"
        let rest = try Self.read(grown, from: chunk.position)
        #expect(Self.steps(rest) == [3])
        #expect(rest.lines.map(\.number) == [3])
    }

    @Test func atTheEndAnIncompleteLineIsLeftUnread() throws {
        let chunk = try Self.read("{\"step\": 1}\n{\"step\": ", atEnd: true)
        #expect(Self.steps(chunk) == [1])
        #expect(chunk.pendingBytes > 0)
        #expect(!chunk.position.unterminated)
    }

    @Test func aBadLineIsReportedWithItsNumberAndThePositionAfterIt() throws {
        let chunk = try Self.read("{\"step\": 1}\n{\"step\": x}\n{\"step\": 3}\n")
        #expect(chunk.lines.count == 3)
        guard case .failure = chunk.lines[1].result else {
            Issue.record("line 2 should fail")
            return
        }
        #expect(chunk.lines[1].number == 2)
        #expect(chunk.lines[0].positionAfter.offset == 12)
    }
}
