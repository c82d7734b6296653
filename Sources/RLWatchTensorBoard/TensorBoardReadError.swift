/// An event file that could not be read, or a record of it that is corrupt.
///
/// Its description reads `FILE: record at offset N: message` for a bad record and `FILE: message` for
/// a file that cannot be opened or read, for example
/// `run/events.out.tfevents.1700000000.host.1.0: record at offset 4096: data CRC mismatch (…)`.
///
/// ### Skipping a corrupt record
/// When only the data of a record is bad (its CRC does not match, or it is not an `Event`), the
/// record's length was itself checksummed, so the next record's offset is known:
/// ``nextRecordOffset`` gives it, and ``TensorBoardEventReader/skipCorruptRecord()`` continues there.
/// When the length is bad (its CRC does not match, or it is absurdly large), where the record ends is
/// unknown and ``nextRecordOffset`` is nil: nothing after it can be trusted, and the file cannot be read
/// past it.
public struct TensorBoardReadError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure, to compare with the static members (`error.kind == .dataCRCMismatch`).
    public struct Kind: Sendable, Hashable, CustomStringConvertible {
        private enum Code: Sendable, Hashable {
            case cannotOpen
            case readFailed
            case fileShrank
            case lengthCRCMismatch
            case absurdLength
            case dataCRCMismatch
            case undecodableEvent
        }

        private let code: Code

        private init(_ code: Code) { self.code = code }

        /// The file could not be opened (missing, a directory, no permission).
        public static let cannotOpen = Kind(.cannotOpen)
        /// Reading the file failed part way.
        public static let readFailed = Kind(.readFailed)
        /// The file is now shorter than the offset already read: it was truncated or replaced.
        public static let fileShrank = Kind(.fileShrank)
        /// A record's length does not match its CRC.
        public static let lengthCRCMismatch = Kind(.lengthCRCMismatch)
        /// A record's length (with a valid CRC) is larger than the reader accepts.
        public static let absurdLength = Kind(.absurdLength)
        /// A record's data does not match its CRC.
        public static let dataCRCMismatch = Kind(.dataCRCMismatch)
        /// A record's data is not a protobuf `Event`.
        public static let undecodableEvent = Kind(.undecodableEvent)

        /// Whether this kind is about one record (as opposed to the file as a whole).
        public var isCorruptRecord: Bool {
            switch code {
            case .cannotOpen, .readFailed, .fileShrank: false
            case .lengthCRCMismatch, .absurdLength, .dataCRCMismatch, .undecodableEvent: true
            }
        }

        public var description: String {
            switch code {
            case .cannotOpen: "cannotOpen"
            case .readFailed: "readFailed"
            case .fileShrank: "fileShrank"
            case .lengthCRCMismatch: "lengthCRCMismatch"
            case .absurdLength: "absurdLength"
            case .dataCRCMismatch: "dataCRCMismatch"
            case .undecodableEvent: "undecodableEvent"
            }
        }
    }

    /// What went wrong.
    public let kind: Kind
    /// The file's path, as given to the reader.
    public let file: String
    /// The byte offset of the corrupt record's first byte; nil for an error of the file as a whole.
    public let offset: Int64?
    /// The offset just past the corrupt record, when its length is trustworthy; nil otherwise.
    public let nextRecordOffset: Int64?
    /// What went wrong, without the file and offset.
    public let message: String

    private init(kind: Kind, file: String, offset: Int64?, nextRecordOffset: Int64?, message: String) {
        self.kind = kind
        self.file = file
        self.offset = offset
        self.nextRecordOffset = nextRecordOffset
        self.message = message
    }

    public var description: String {
        if let offset { return "\(file): record at offset \(offset): \(message)" }
        return "\(file): \(message)"
    }

    static func cannotOpen(_ file: String, reason: String) -> Self {
        Self(kind: .cannotOpen, file: file, offset: nil, nextRecordOffset: nil, message: "cannot open: \(reason)")
    }

    static func readFailed(_ file: String, reason: String) -> Self {
        Self(kind: .readFailed, file: file, offset: nil, nextRecordOffset: nil, message: "read failed: \(reason)")
    }

    static func fileShrank(_ file: String, size: Int64, offset: Int64) -> Self {
        Self(
            kind: .fileShrank, file: file, offset: nil, nextRecordOffset: nil,
            message: "the file is \(size) bytes, shorter than the \(offset) bytes already read: "
                + "it was truncated or replaced; read it again from offset 0")
    }

    static func corrupt(
        _ file: String, offset: Int64, nextRecordOffset: Int64?, _ corruption: TFRecordFrame.Corruption
    ) -> Self {
        let kind: Kind =
            switch corruption {
            case .lengthCRCMismatch: .lengthCRCMismatch
            case .absurdLength: .absurdLength
            case .dataCRCMismatch: .dataCRCMismatch
            }
        return Self(
            kind: kind, file: file, offset: offset, nextRecordOffset: nextRecordOffset,
            message: corruption.description)
    }

    static func undecodableEvent(_ file: String, offset: Int64, nextRecordOffset: Int64, reason: String) -> Self {
        Self(
            kind: .undecodableEvent, file: file, offset: offset, nextRecordOffset: nextRecordOffset,
            message: "not a TensorBoard Event protobuf (\(reason))")
    }
}
