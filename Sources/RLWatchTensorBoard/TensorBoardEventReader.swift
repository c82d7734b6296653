#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads the scalars of one TensorBoard event file (`events.out.tfevents.*`), incrementally: each
/// ``poll(maxBytes:)`` reads the complete records added since the last one.
///
/// A file that a trainer is still writing usually ends inside a record. That is not an error: a poll
/// stops before the partial record and the next poll starts there, so every record is delivered
/// exactly once. Both CRCs of every record are checked.
///
/// A corrupt record (a CRC mismatch, an absurd length, data that is not an `Event`) is a
/// ``TensorBoardReadError`` naming the file and the record's offset. The records before it are never
/// lost: a poll that meets a corrupt record after good ones returns the good ones (``offset`` then
/// points at the corrupt record) and the next poll throws. The reader then stays at the corrupt record
/// and throws again on every poll, until the caller decides: ``skipCorruptRecord()`` when the error
/// has a ``TensorBoardReadError/nextRecordOffset``, ``seek(to:)``, or giving up on the file.
///
/// The reader is a value: it holds no open file between polls (each poll opens, reads and closes),
/// so it is cheap to keep one per file of a log directory.
public struct TensorBoardEventReader: Sendable {
    /// What one poll read.
    public struct Poll: Sendable, Hashable {
        /// The scalars of the records read, in file order.
        public var scalars: [TensorBoardScalar]
        /// How many complete records were read (including those without scalars).
        public var records: Int
        /// The offset the poll started at.
        public var startOffset: Int64
        /// The offset after the last complete record read: where the next poll starts.
        public var endOffset: Int64
        /// Bytes after ``endOffset`` that the file had when polled: the part of a record still being
        /// written, or (when ``reachedEnd`` is false) what `maxBytes` left for the next poll.
        public var unreadBytes: Int64
        /// Whether the poll read up to the end of the file, as opposed to stopping at `maxBytes` or before a
        /// corrupt record; a caller catching up on a large file polls again at once while this is false.
        public var reachedEnd: Bool
    }

    /// The largest record the reader accepts by default: 1 GiB. A scalar event is tens of bytes and
    /// even a model graph is far smaller, so a larger length (with a valid CRC) is nonsense.
    public static let defaultMaximumRecordLength = 1 << 30

    /// The file's path, as given; errors name the file by it.
    public let path: String
    /// The offset of the next record to read.
    public private(set) var offset: Int64
    /// The largest record data length accepted; a longer record is a corrupt one.
    public let maximumRecordLength: Int

    private var decoder = ScalarEventDecoder()
    /// The corrupt record the last poll stopped before, thrown by the polls that follow.
    private var pendingError: TensorBoardReadError?

    /// How much a poll reads at once.
    static let chunkSize = 1 << 20

    /// A reader of the file at `path`, starting at `offset`.
    ///
    /// - Parameters:
    ///   - path: The event file.
    ///   - offset: Where to start: 0, or an ``offset`` saved from an earlier reader of the same file.
    ///     It must be a record boundary.
    ///   - maximumRecordLength: The largest record data length accepted.
    public init(path: String, offset: Int64 = 0, maximumRecordLength: Int = defaultMaximumRecordLength) {
        self.path = path
        self.offset = max(0, offset)
        self.maximumRecordLength = max(0, maximumRecordLength)
    }

    /// Reads the complete records after ``offset`` and returns their scalars.
    ///
    /// - Parameter maxBytes: Roughly how many bytes to read at most (whole records: one longer record is
    ///   still read). It bounds the memory a poll takes when it catches up on a large file.
    /// - Returns: The scalars and how far the poll got; ``offset`` becomes ``Poll/endOffset``.
    /// - Throws: ``TensorBoardReadError``: the file cannot be opened or read, it is shorter than
    ///   ``offset``, or the record at ``offset`` is corrupt.
    public mutating func poll(maxBytes: Int = 64 << 20) throws(TensorBoardReadError) -> Poll {
        if let pendingError { throw pendingError }
        let file = try OpenFile(path: path)
        defer { file.release() }
        let size = try file.size()
        guard size >= offset else { throw .fileShrank(path, size: size, offset: offset) }

        var poll = Poll(
            scalars: [], records: 0, startOffset: offset, endOffset: offset, unreadBytes: 0, reachedEnd: true)
        // `buffer[cursor...]` holds the file's bytes from `offset` to `bufferEnd`.
        var buffer: [UInt8] = []
        var cursor = 0
        var bufferEnd = offset
        let budget = max(1, maxBytes)
        var consumed = 0
        scanning: while true {
            let wanted: Int64
            switch scanNext(buffer, cursor: cursor, into: &poll) {
            case .advanced(let end):
                consumed += end - cursor
                cursor = end
                offset = poll.endOffset
                if consumed >= budget {
                    poll.reachedEnd = offset == size
                    break scanning
                }
                continue scanning
            case .needMore(let recordEnd):
                // Stop at a record the file does not hold all of yet (one being written); otherwise read
                // at least a chunk, more for a record longer than that.
                if let recordEnd, offset + Int64(recordEnd - cursor) > size { break scanning }
                guard bufferEnd < size else { break scanning }
                wanted = min(size - bufferEnd, Int64(max(Self.chunkSize, (recordEnd ?? 0) - buffer.count)))
            case .failed(let error):
                pendingError = error
                // The good records before the corrupt one are returned first; the next poll throws.
                guard poll.records > 0 else { throw error }
                poll.reachedEnd = false
                break scanning
            }
            if cursor > 0 {
                buffer.removeSubrange(0..<cursor)
                cursor = 0
            }
            let read = try file.read(into: &buffer, count: Int(wanted), at: bufferEnd)
            guard read > 0 else { break scanning }  // the file shrank while being read: stop here
            bufferEnd += Int64(read)
        }
        poll.endOffset = offset
        poll.unreadBytes = max(0, size - offset)
        return poll
    }

    /// Moves past the corrupt record the reader stopped at, when its length is trustworthy.
    ///
    /// - Returns: Whether the reader moved: false when no poll met a corrupt record, or when the record's
    ///   length was itself corrupt (then nothing after it can be found).
    @discardableResult
    public mutating func skipCorruptRecord() -> Bool {
        guard let next = pendingError?.nextRecordOffset else { return false }
        seek(to: next)
        return true
    }

    /// Continues reading at `offset`, which must be a record boundary; forgets a corrupt record met.
    ///
    /// What the reader learned of the tags' plugins is kept.
    public mutating func seek(to offset: Int64) {
        self.offset = max(0, offset)
        pendingError = nil
    }

    private enum Step {
        /// A record was read; the buffer's next record starts at `end`.
        case advanced(end: Int)
        /// The buffer holds no complete record at the cursor; `recordEnd` is where the record ends in the
        /// buffer's coordinates, when its length is known.
        case needMore(recordEnd: Int?)
        case failed(TensorBoardReadError)
    }

    /// Reads the record at `cursor` of `buffer` (whose `cursor` is the file's ``offset``).
    private mutating func scanNext(_ buffer: [UInt8], cursor: Int, into poll: inout Poll) -> Step {
        buffer.withUnsafeBytes { bytes in
            let recordOffset = offset
            switch TFRecordFrame.scan(bytes, at: cursor, maximumLength: maximumRecordLength) {
            case .record(let data, let end):
                let next = recordOffset + Int64(end - cursor)
                if let failure = decoder.decode(UnsafeRawBufferPointer(rebasing: bytes[data]), into: &poll.scalars) {
                    return .failed(
                        .undecodableEvent(path, offset: recordOffset, nextRecordOffset: next, reason: failure.reason))
                }
                poll.records += 1
                poll.endOffset = next
                return .advanced(end: end)
            case .incomplete(let end):
                return .needMore(recordEnd: end)
            case .corrupt(let corruption, let end):
                let next = end.map { recordOffset + Int64($0 - cursor) }
                return .failed(.corrupt(path, offset: recordOffset, nextRecordOffset: next, corruption))
            }
        }
    }
}

/// A file opened for reading, closed by its owner with ``release()``.
private struct OpenFile {
    let descriptor: Int32
    let path: String

    init(path: String) throws(TensorBoardReadError) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .cannotOpen(path, reason: Self.lastError()) }
        self.descriptor = descriptor
        self.path = path
        var status = stat()
        if fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFDIR {
            release()
            throw .cannotOpen(path, reason: "is a directory")
        }
    }

    func size() throws(TensorBoardReadError) -> Int64 {
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw .readFailed(path, reason: Self.lastError()) }
        return Int64(status.st_size)
    }

    /// Appends up to `count` bytes read at `offset` to `buffer`.
    ///
    /// - Returns: The number of bytes appended: fewer than `count` only at the end of the file.
    func read(into buffer: inout [UInt8], count: Int, at offset: Int64) throws(TensorBoardReadError) -> Int {
        guard count > 0 else { return 0 }
        let start = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: count))
        var filled = 0
        var failure: String?
        buffer.withUnsafeMutableBytes { bytes in
            guard let base = bytes.baseAddress else { return }
            while filled < count {
                let result = pread(descriptor, base + start + filled, count - filled, off_t(offset) + off_t(filled))
                if result > 0 {
                    filled += result
                } else if result == 0 {
                    break
                } else if errno != EINTR {
                    failure = Self.lastError()
                    break
                }
            }
        }
        buffer.removeSubrange((start + filled)...)
        if let failure { throw .readFailed(path, reason: failure) }
        return filled
    }

    func release() {
        _ = close(descriptor)
    }

    private static func lastError() -> String {
        String(cString: strerror(errno))
    }
}
