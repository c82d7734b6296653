#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import RLWatchCore

/// Reads a metrics JSONL log (a file, or standard input) and hands each step to a closure.
///
/// The file is read with `read(2)` in large chunks into one reusable buffer and split on `\n` in place,
/// so lines are parsed straight from the buffer: no per-line allocation, no Foundation. `\r\n` endings, a
/// last line without a newline, lines spanning chunks and lines longer than a chunk (the buffer grows)
/// are all handled. Blank lines and lines whose first non-blank character is `#` are skipped; a UTF-8 byte
/// order mark at the start of the file is ignored. Line numbers are 1-based and count every line.
///
/// Steps are delivered synchronously, in file order, as soon as their line is parsed: a consumer can run
/// detectors in the closure, and when a bad line stops the read, everything before it has been delivered.
public struct MetricsJSONLReader: Sendable {
    /// What to do with a line the parser rejects.
    public enum BadLinePolicy {
        /// Stop reading and throw the line's ``MetricsFileError``.
        case stop
        /// Report the line's error (for example as a warning on standard error) and go on.
        case skip(report: (MetricsFileError) -> Void)
    }

    /// What a read went through.
    public struct Summary: Sendable, Hashable {
        /// Lines read, blank and comment lines included.
        public var lines = 0
        /// Steps delivered.
        public var steps = 0
        /// Bad lines skipped under ``BadLinePolicy/skip(report:)``.
        public var skippedLines = 0

        public init() {}
    }

    /// The path that means standard input.
    public static let standardInputPath = "-"
    /// How errors name standard input.
    public static let standardInputName = "<stdin>"
    /// The default size of one `read(2)`.
    public static let defaultChunkSize = 1 << 20

    private enum Source: Sendable {
        case path(String)
        case descriptor(Int32)
    }

    private let source: Source
    /// How errors name the input: its path, or `<stdin>`.
    public let name: String
    /// The most bytes one `read(2)` asks for; also the buffer's initial size.
    public let chunkSize: Int
    /// How logged keys become metrics: the built-in aliases plus a user's `metrics.keys`.
    public let keyMap: MetricKeyMap

    /// A reader of the file at `path`, or of standard input when `path` is `-`.
    ///
    /// - Parameters:
    ///   - path: The file to read; `-` for standard input. It is opened when a read starts, closed when it ends.
    ///   - chunkSize: The most bytes one `read(2)` asks for (at least 1); tests use tiny ones.
    ///   - keyMap: How logged keys become metrics (the built-in aliases by default).
    public init(path: String, chunkSize: Int = defaultChunkSize, keyMap: MetricKeyMap = .builtIn) {
        if path == Self.standardInputPath {
            source = .descriptor(STDIN_FILENO)
            name = Self.standardInputName
        } else {
            source = .path(path)
            name = path
        }
        self.chunkSize = max(1, chunkSize)
        self.keyMap = keyMap
    }

    /// A reader of an open file descriptor (a pipe, a socket, standard input), which it does not close.
    ///
    /// - Parameters:
    ///   - fileDescriptor: The descriptor to read until end of file.
    ///   - name: How errors name the input.
    ///   - chunkSize: The most bytes one `read(2)` asks for (at least 1).
    ///   - keyMap: How logged keys become metrics (the built-in aliases by default).
    public init(
        fileDescriptor: Int32, name: String, chunkSize: Int = defaultChunkSize, keyMap: MetricKeyMap = .builtIn
    ) {
        source = .descriptor(fileDescriptor)
        self.name = name
        self.chunkSize = max(1, chunkSize)
        self.keyMap = keyMap
    }

    /// Calls `body` with every step of the input, in order.
    ///
    /// - Parameters:
    ///   - policy: Whether a bad line stops the read (the default) or is reported and skipped.
    ///   - body: Called with each step as soon as its line is parsed; an error it throws ends the read.
    /// - Returns: How many lines were read, steps delivered and bad lines skipped.
    /// - Throws: ``MetricsFileError`` for an input that cannot be opened or read, or for the first bad line
    ///   under ``BadLinePolicy/stop``; or what `body` throws.
    @discardableResult
    public func forEachStep(
        onBadLine policy: BadLinePolicy = .stop, _ body: (MetricStep) throws -> Void
    ) throws -> Summary {
        try forEachStep(onBadLine: policy, firstLine: nil, body)
    }

    /// Calls `body` with the parse result of every line that is not blank or a comment, in order.
    ///
    /// - Parameter body: Called with the 1-based line number and the step or the line's error; an error
    ///   it throws ends the read.
    /// - Throws: ``MetricsFileError`` for an input that cannot be opened or read; or what `body` throws.
    public func forEachLine(
        _ body: (_ lineNumber: Int, _ result: Result<MetricStep, MetricsLineError>) throws -> Void
    ) throws {
        var parser = MetricsLineParser(keyMap: keyMap)
        _ = try forEachContentLine { lineNumber, line in
            try body(lineNumber, Result { () throws(MetricsLineError) in try parser.parse(line) })
        }
    }

    /// Calls `body` with the bytes of every line that is not blank or a comment, without its terminator.
    ///
    /// The bytes are only valid during the call. Internal so a file tailer can reuse the splitting.
    /// - Returns: The number of lines read.
    func forEachContentLine(
        _ body: (_ lineNumber: Int, _ line: UnsafeRawBufferPointer) throws -> Void
    ) throws -> Int {
        let descriptor: Int32
        let ownsDescriptor: Bool
        switch source {
        case .path(let path):
            descriptor = open(path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { throw MetricsFileError.cannotOpen(name, reason: errorDescription(errno)) }
            ownsDescriptor = true
        case .descriptor(let given):
            descriptor = given
            ownsDescriptor = false
        }
        defer { if ownsDescriptor { close(descriptor) } }

        var buffer = GrowableBuffer(capacity: chunkSize)
        defer { buffer.deallocate() }
        var start = 0  // the first byte of the line being assembled
        var end = 0  // the end of the bytes read so far
        var lineNumber = 0

        func deliver(upTo lineEnd: Int) throws {
            lineNumber += 1
            guard let line = ContentLine.bytes(buffer.base, from: start, to: lineEnd, atFileStart: lineNumber == 1)
            else { return }
            try body(lineNumber, line)
        }

        while true {
            if start == end {
                start = 0
                end = 0
            }
            if end == buffer.capacity {
                if start > 0 {
                    // The partial line moves to the front; the regions may overlap.
                    memmove(buffer.base, buffer.base + start, end - start)
                    end -= start
                    start = 0
                } else {
                    buffer.grow(to: buffer.capacity * 2, keeping: end)
                }
            }
            let count = read(descriptor, buffer.base + end, min(chunkSize, buffer.capacity - end))
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
                let newlineOffset = UnsafeRawPointer(newline) - UnsafeRawPointer(buffer.base)
                try deliver(upTo: newlineOffset)
                start = newlineOffset + 1
                searchFrom = start
            }
        }
        if start < end {
            try deliver(upTo: end)
        }
        return lineNumber
    }
}

/// A heap buffer that keeps its bytes when it grows.
struct GrowableBuffer {
    private(set) var base: UnsafeMutableRawPointer
    private(set) var capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        base = .allocate(byteCount: capacity, alignment: 16)
    }

    mutating func grow(to newCapacity: Int, keeping count: Int) {
        let grown = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
        grown.copyMemory(from: base, byteCount: count)
        base.deallocate()
        base = grown
        capacity = newCapacity
    }

    func deallocate() {
        base.deallocate()
    }
}

func errorDescription(_ code: Int32) -> String {
    String(cString: strerror(code))
}
