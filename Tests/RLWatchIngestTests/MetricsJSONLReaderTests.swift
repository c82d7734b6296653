import Foundation
import RLWatchCore
import Testing

@testable import RLWatchIngest

/// A temporary file holding `contents`, removed when the test's `body` returns.
func withTemporaryFile<T>(_ contents: String, _ body: (String) throws -> T) throws -> T {
    try withTemporaryFile(Data(contents.utf8), body)
}

func withTemporaryFile<T>(_ contents: Data, _ body: (String) throws -> T) throws -> T {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("rlwatch-ingest-\(UUID().uuidString).jsonl")
    try contents.write(to: url)
    defer { try? FileManager.default.removeItem(at: url) }
    return try body(url.path)
}

/// Every `(line number, step or error)` the reader hands over.
func readAll(_ reader: MetricsJSONLReader) throws -> [(line: Int, result: Result<MetricStep, MetricsLineError>)] {
    var results: [(line: Int, result: Result<MetricStep, MetricsLineError>)] = []
    try reader.forEachLine { results.append((line: $0, result: $1)) }
    return results
}

func steps(_ contents: String, chunkSize: Int = MetricsJSONLReader.defaultChunkSize) throws -> [MetricStep] {
    try withTemporaryFile(contents) { path in
        var steps: [MetricStep] = []
        try MetricsJSONLReader(path: path, chunkSize: chunkSize).forEachStep { steps.append($0) }
        return steps
    }
}

@Suite struct MetricsJSONLReaderTests {
    static let threeLines = """
        {"step": 1, "loss": 1.5}
        {"step": 2, "metrics": {"loss": 2.5, "custom": 7}}
        {"step": 3, "data": {"actor/kl_loss": 0.25}, "rewards": [1, 0]}

        """

    static let threeSteps = [
        MetricStep(step: 1, loss: 1.5),
        MetricStep(step: 2, loss: 2.5, extras: ["custom": 7]),
        MetricStep(step: 3, klDivergence: 0.25, rewards: [1, 0]),
    ]

    @Test func readsStepsInOrder() throws {
        #expect(try steps(Self.threeLines) == Self.threeSteps)
    }

    /// Every chunk size from one byte up splits lines (and their `\r\n`) at every possible place.
    @Test(arguments: [1, 2, 3, 5, 7, 8, 13, 31, 64, 4096])
    func chunkBoundaries(chunkSize: Int) throws {
        #expect(try steps(Self.threeLines, chunkSize: chunkSize) == Self.threeSteps)
        let crlf = Self.threeLines.replacingOccurrences(of: "\n", with: "\r\n")
        #expect(try steps(crlf, chunkSize: chunkSize) == Self.threeSteps)
        let noFinalNewline = String(Self.threeLines.dropLast())
        #expect(try steps(noFinalNewline, chunkSize: chunkSize) == Self.threeSteps)
    }

    @Test func crlfAndLastLineWithoutNewline() throws {
        #expect(try steps("{\"step\": 1, \"loss\": 1}\r\n{\"step\": 2}\r\n{\"step\": 3, \"loss\": 3}") == [
            MetricStep(step: 1, loss: 1), MetricStep(step: 2), MetricStep(step: 3, loss: 3),
        ])
        #expect(try steps("{\"step\": 1}\r") == [MetricStep(step: 1)])
        #expect(try steps("{\"step\": 1}\r\n\r\n  \r\n# c\r\n{\"step\": 2}\r\n", chunkSize: 3) == [
            MetricStep(step: 1), MetricStep(step: 2),
        ])
    }

    @Test(arguments: [16, 1024, MetricsJSONLReader.defaultChunkSize])
    func lineLongerThanTheChunk(chunkSize: Int) throws {
        let rewards = (0..<50_000).map { Double($0 % 7) / 4 }
        let longLine = "{\"step\": 2, \"rewards\": [\(rewards.map { "\($0)" }.joined(separator: ", "))]}"
        let contents = "{\"step\": 1}\n\(longLine)\n{\"step\": 3}\n\(longLine)"
        let read = try steps(contents, chunkSize: chunkSize)
        #expect(read.map(\.step) == [1, 2, 3, 2])
        #expect(read[1].rewards == rewards)
        #expect(read[3].rewards == rewards)
    }

    @Test func skipsBlankAndCommentLinesButCountsThem() throws {
        let contents = """
            # a header comment
            {"step": 1}

               \t
              # indented comment
            \t{"step": 2}
            #{"step": 99}
            {"step": 3, "loss": "x"}

            """
        let results = try withTemporaryFile(contents) { try readAll(MetricsJSONLReader(path: $0, chunkSize: 4)) }
        #expect(results.map(\.line) == [2, 6, 8])
        #expect(try results[0].result.get() == MetricStep(step: 1))
        #expect(try results[1].result.get() == MetricStep(step: 2))
        guard case .failure(let error) = results[2].result else {
            Issue.record("line 8 should fail")
            return
        }
        #expect(error.message == #"expected a number for "loss", got a string"#)
    }

    @Test func emptyFileAndOnlyComments() throws {
        #expect(try steps("") == [])
        #expect(try steps("\n\n# nothing\n   \n") == [])
    }

    @Test func byteOrderMarkIsIgnored() throws {
        #expect(try steps("\u{FEFF}{\"step\": 1}\n{\"step\": 2}") == [MetricStep(step: 1), MetricStep(step: 2)])
    }

    @Test func strictModeStopsAtTheFirstBadLineAfterDeliveringTheRest() throws {
        let contents = "{\"step\": 1}\n\n{\"step\": 2, \"loss\": 2}\n{\"step\": 3, \"loss\": true}\n{\"step\": 4}\n"
        try withTemporaryFile(contents) { path in
            var delivered: [Int] = []
            let error = try #require(throws: MetricsFileError.self) {
                try MetricsJSONLReader(path: path, chunkSize: 3).forEachStep { delivered.append($0.step) }
            }
            #expect(delivered == [1, 2])
            #expect(error.file == path)
            #expect(error.line == 4)
            #expect(error.lineError?.kind == .typeMismatch)
            #expect(error.lineError?.column == 21)
            #expect(error.message == #"expected a number for "loss", got a boolean (column 21)"#)
            #expect(error.description == #"\#(path):4: expected a number for "loss", got a boolean (column 21)"#)
        }
    }

    @Test func skipModeReportsEveryBadLineAndGoesOn() throws {
        let contents = "not json\n{\"step\": 1}\n{\"loss\": 1}\n{\"step\": 2}\n{\"step\": 3.5}"
        try withTemporaryFile(contents) { path in
            var delivered: [Int] = []
            var reported: [MetricsFileError] = []
            let summary = try MetricsJSONLReader(path: path).forEachStep(onBadLine: .skip { reported.append($0) }) {
                delivered.append($0.step)
            }
            #expect(delivered == [1, 2])
            #expect(reported.map(\.line) == [1, 3, 5])
            #expect(reported.map { $0.lineError?.kind } == [.syntax, .missingStep, .invalidStep])
            #expect(reported[1].description == #"\#(path):3: missing "step" (column 1)"#)
            #expect(summary.lines == 5)
            #expect(summary.steps == 2)
            #expect(summary.skippedLines == 3)
        }
    }

    @Test func anErrorFromTheConsumerEndsTheRead() throws {
        struct Stop: Error {}
        try withTemporaryFile(Self.threeLines) { path in
            var delivered: [Int] = []
            #expect(throws: Stop.self) {
                try MetricsJSONLReader(path: path).forEachStep { step in
                    delivered.append(step.step)
                    if step.step == 2 { throw Stop() }
                }
            }
            #expect(delivered == [1, 2])
        }
    }

    @Test func missingFile() throws {
        let reader = MetricsJSONLReader(path: "/nonexistent/rlwatch/metrics.jsonl")
        let error = try #require(throws: MetricsFileError.self) { try reader.forEachStep { _ in } }
        #expect(error.isCannotOpen)
        #expect(error.line == nil)
        #expect(error.description == "/nonexistent/rlwatch/metrics.jsonl: cannot open: No such file or directory")
    }

    @Test func directoryIsAReadError() throws {
        let reader = MetricsJSONLReader(path: FileManager.default.temporaryDirectory.path)
        let error = try #require(throws: MetricsFileError.self) { try reader.forEachStep { _ in } }
        #expect(!error.isCannotOpen)
        #expect(error.message.hasPrefix("read failed: "))
    }

    @Test func dashMeansStandardInput() {
        let reader = MetricsJSONLReader(path: "-")
        #expect(reader.name == "<stdin>")
    }

    @Test(arguments: [1, 5, MetricsJSONLReader.defaultChunkSize])
    func readsAPipe(chunkSize: Int) throws {
        // The three lines fit in the pipe's buffer, so they can be written before the read starts.
        let pipe = Pipe()
        pipe.fileHandleForWriting.write(Data(Self.threeLines.utf8))
        try pipe.fileHandleForWriting.close()
        var read: [MetricStep] = []
        let reader = MetricsJSONLReader(
            fileDescriptor: pipe.fileHandleForReading.fileDescriptor, name: "<stdin>", chunkSize: chunkSize)
        try reader.forEachStep { read.append($0) }
        #expect(read == Self.threeSteps)
        // The reader does not close a descriptor it was given.
        #expect(fcntl(pipe.fileHandleForReading.fileDescriptor, F_GETFD) != -1)
        try pipe.fileHandleForReading.close()
    }

    @Test func errorsNameStandardInput() throws {
        let pipe = Pipe()
        pipe.fileHandleForWriting.write(Data("{\"step\": 1}\n{\"step\": \"x\"}\n".utf8))
        try pipe.fileHandleForWriting.close()
        let reader = MetricsJSONLReader(fileDescriptor: pipe.fileHandleForReading.fileDescriptor, name: "<stdin>")
        let error = try #require(throws: MetricsFileError.self) { try reader.forEachStep { _ in } }
        #expect(error.description == #"<stdin>:2: "step" must be an integer, got a string (column 10)"#)
        try pipe.fileHandleForReading.close()
    }
}
