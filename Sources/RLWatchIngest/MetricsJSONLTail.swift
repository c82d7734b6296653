#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import RLWatchCore

/// Reads what a trainer has appended to a metrics JSONL log since the last read: the complete lines from a
/// byte offset on, parsed as ``MetricsJSONLReader`` parses them (same line rules, same parser).
///
/// A last line without its newline is being written: it is left for the next read, and the position stays
/// at its start, unless the caller says the log is finished (`atEnd`). Keep one tail per file: its parser
/// learns the log's keys and its buffer is reused.
public struct MetricsJSONLTail {
    /// Where the next read starts.
    public struct Position: Sendable, Hashable, Codable {
        /// The byte offset just after the last line consumed.
        public var offset: Int64
        /// The number of the last line consumed (1-based; 0 before the first).
        public var line: Int
        /// Whether the last line consumed had no newline (read at the end of a finished log): the bytes up to
        /// the next newline, if the file grows, are the rest of that line and are skipped.
        public var unterminated: Bool

        public init(offset: Int64 = 0, line: Int = 0, unterminated: Bool = false) {
            self.offset = offset
            self.line = line
            self.unterminated = unterminated
        }
    }

    /// One line that is not blank or a comment.
    public struct Line {
        /// The 1-based line number.
        public var number: Int
        /// The step, or what is wrong with the line.
        public var result: Result<MetricStep, MetricsLineError>
        /// The line's logged keys, when the read was asked for them (see `keysForLines`).
        public var keys: [String]?
        /// Where a read starts that skips this line: the position just after it.
        public var positionAfter: Position
    }

    /// What one read found.
    public struct Chunk {
        /// The lines read, in order.
        public var lines: [Line] = []
        /// Where the next read starts.
        public var position: Position
        /// Whether the read stopped at `maxLines` with more complete lines after it.
        public var hasMore = false
        /// Bytes of a last line without its newline that were left unread.
        public var pendingBytes = 0
    }

    /// How errors name the file: its path.
    public let name: String
    private var parser: MetricsLineParser
    private var buffer: GrowableBuffer?
    private let chunkSize: Int

    /// A tail of the file that errors call `name`.
    ///
    /// - Parameters:
    ///   - name: How errors name the file.
    ///   - keyMap: How logged keys become metrics.
    ///   - chunkSize: The most bytes one `pread(2)` asks for (at least 1); tests use tiny ones.
    public init(name: String, keyMap: MetricKeyMap = .builtIn, chunkSize: Int = 1 << 20) {
        self.name = name
        parser = MetricsLineParser(keyMap: keyMap)
        self.chunkSize = max(1, chunkSize)
    }

    /// Reads complete lines of the open file `descriptor` from `position` on.
    ///
    /// - Parameters:
    ///   - descriptor: The file, open for reading; it is read with `pread`, its offset is not used.
    ///   - position: Where the previous read stopped (`Position()` for the start of the file).
    ///   - maxLines: The most content lines to return; the position then stops after the last of them.
    ///   - atEnd: The log is finished: a last line without a newline is read too, if it parses.
    ///   - keysForLines: For this many first content lines of the read, also return their logged keys.
    /// - Returns: The lines and the position after them.
    /// - Throws: ``MetricsFileError`` when reading fails.
    public mutating func read(
        descriptor: Int32, from position: Position, maxLines: Int = .max, atEnd: Bool = false, keysForLines: Int = 0
    ) throws(MetricsFileError) -> Chunk {
        var buffer = self.buffer ?? GrowableBuffer(capacity: min(chunkSize, 1 << 16))
        defer { self.buffer = buffer }
        var chunk = Chunk(position: position)
        var base = position.offset  // the file offset of buffer[0]
        var start = 0  // the first byte of the line being assembled
        var end = 0  // the end of the bytes read so far
        var skipping = position.unterminated  // the rest of a line already read
        var keysLeft = keysForLines

        func consume(upTo lineEnd: Int, newline: Bool) {
            chunk.position.offset = base + Int64(lineEnd + (newline ? 1 : 0))
            chunk.position.unterminated = !newline
            start = lineEnd + (newline ? 1 : 0)
        }

        /// Parses one line; false when it is a final unterminated line that does not parse (left unread).
        func deliver(upTo lineEnd: Int, newline: Bool) -> Bool {
            let number = chunk.position.line + 1
            let atFileStart = base + Int64(start) == 0
            guard let bytes = ContentLine.bytes(buffer.base, from: start, to: lineEnd, atFileStart: atFileStart)
            else {
                chunk.position.line = number
                consume(upTo: lineEnd, newline: newline)
                return true
            }
            let result = Result { () throws(MetricsLineError) in try parser.parse(bytes) }
            if !newline, case .failure = result { return false }
            var keys: [String]?
            if keysLeft > 0, case .success = result {
                keysLeft -= 1
                keys = (try? parser.parseRaw(bytes)).map { Array($0.values.keys) + ($0.rewards == nil ? [] : ["rewards"]) }
            }
            chunk.position.line = number
            consume(upTo: lineEnd, newline: newline)
            chunk.lines.append(Line(number: number, result: result, keys: keys, positionAfter: chunk.position))
            return true
        }

        while true {
            if start == end {
                base += Int64(start)
                start = 0
                end = 0
            }
            if end == buffer.capacity {
                if start > 0 {
                    memmove(buffer.base, buffer.base + start, end - start)
                    base += Int64(start)
                    end -= start
                    start = 0
                } else {
                    buffer.grow(to: buffer.capacity * 2, keeping: end)
                }
            }
            let count = pread(descriptor, buffer.base + end, min(chunkSize, buffer.capacity - end), off_t(base) + off_t(end))
            if count < 0 {
                let code = errno
                if code == EINTR { continue }
                throw MetricsFileError.readFailed(name, reason: errorDescription(code))
            }
            if count == 0 { break }
            var searchFrom = end
            end += count
            while searchFrom < end,
                let newline = memchr(buffer.base + searchFrom, Int32(UInt8(ascii: "\n")), end - searchFrom)
            {
                let lineEnd = UnsafeRawPointer(newline) - UnsafeRawPointer(buffer.base)
                if skipping {
                    skipping = false
                    consume(upTo: lineEnd, newline: true)
                } else {
                    _ = deliver(upTo: lineEnd, newline: true)
                }
                searchFrom = start
                if chunk.lines.count >= maxLines {
                    // More lines may follow; the caller reads them next.
                    chunk.hasMore = true
                    return chunk
                }
            }
        }
        if start < end, !skipping {
            if atEnd, deliver(upTo: end, newline: false) {
                return chunk
            }
            chunk.pendingBytes = end - start
        }
        return chunk
    }
}
