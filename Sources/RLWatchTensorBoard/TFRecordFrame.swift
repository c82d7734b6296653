/// The framing of one TFRecord, as found at an offset of a buffer.
///
/// A record is `uint64 length` (little-endian), `uint32` masked CRC-32C of those 8 bytes, `length`
/// bytes of data, and `uint32` masked CRC-32C of the data: 16 bytes of framing around the data.
enum TFRecordFrame {
    /// Bytes before the data: the length and its CRC.
    static let headerSize = 12
    /// Bytes of framing in all: the header and the data's CRC.
    static let overhead = 16

    /// What is at an offset of a buffer.
    enum Scan {
        /// A complete record whose checksums match.
        case record(data: Range<Int>, end: Int)
        /// The buffer ends inside the record (or before its header ends); `end` is where the record
        /// ends when its length is known, so a reader can tell how much more to read.
        case incomplete(end: Int?)
        /// A record whose framing is wrong; `end` is where it ends when its length is trustworthy
        /// (the length's CRC matched), nil when the length itself is bad.
        case corrupt(Corruption, end: Int?)
    }

    /// What is wrong with a record's framing.
    enum Corruption: Sendable, Hashable {
        case lengthCRCMismatch(stored: UInt32, computed: UInt32)
        case absurdLength(UInt64, limit: Int)
        case dataCRCMismatch(stored: UInt32, computed: UInt32)
    }

    /// Reads the framing of the record at `offset`, checking both CRCs.
    ///
    /// - Parameters:
    ///   - buffer: The bytes read so far.
    ///   - offset: Where the record starts in `buffer`.
    ///   - maximumLength: The largest data length accepted; a larger one (with a valid CRC) is corrupt.
    /// - Returns: The record's data range, or why there is none yet.
    @inline(__always)
    static func scan(_ buffer: UnsafeRawBufferPointer, at offset: Int, maximumLength: Int) -> Scan {
        let available = buffer.count &- offset
        guard available >= headerSize else { return .incomplete(end: nil) }
        let lengthBytes = UnsafeRawBufferPointer(rebasing: buffer[offset..<offset &+ 8])
        let length = UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
        let storedLengthCRC = UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: offset &+ 8, as: UInt32.self))
        let lengthCRC = CRC32C.masked(CRC32C.checksum(lengthBytes))
        guard lengthCRC == storedLengthCRC else {
            return .corrupt(.lengthCRCMismatch(stored: storedLengthCRC, computed: lengthCRC), end: nil)
        }
        guard length <= UInt64(maximumLength) else {
            return .corrupt(.absurdLength(length, limit: maximumLength), end: nil)
        }
        let dataStart = offset &+ headerSize
        let dataEnd = dataStart &+ Int(length)
        let end = dataEnd &+ 4
        guard end <= buffer.count else { return .incomplete(end: end) }
        let storedDataCRC = UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: dataEnd, as: UInt32.self))
        let dataCRC = CRC32C.masked(CRC32C.checksum(UnsafeRawBufferPointer(rebasing: buffer[dataStart..<dataEnd])))
        guard dataCRC == storedDataCRC else {
            return .corrupt(.dataCRCMismatch(stored: storedDataCRC, computed: dataCRC), end: end)
        }
        return .record(data: dataStart..<dataEnd, end: end)
    }

    /// The framing of a record holding `data`: what a TFRecord writer puts in a file.
    ///
    /// rlwatch only reads event files; this is here so tests and benchmarks can make records without
    /// a Python writer.
    static func encode(_ data: [UInt8]) -> [UInt8] {
        var record: [UInt8] = []
        record.reserveCapacity(data.count + overhead)
        let length = UInt64(data.count)
        withUnsafeBytes(of: length.littleEndian) { record.append(contentsOf: $0) }
        let lengthCRC = record.withUnsafeBytes { CRC32C.masked(CRC32C.checksum($0)) }
        withUnsafeBytes(of: lengthCRC.littleEndian) { record.append(contentsOf: $0) }
        record.append(contentsOf: data)
        withUnsafeBytes(of: CRC32C.masked(CRC32C.checksum(data)).littleEndian) { record.append(contentsOf: $0) }
        return record
    }
}

extension TFRecordFrame.Corruption: CustomStringConvertible {
    var description: String {
        switch self {
        case .lengthCRCMismatch(let stored, let computed):
            "length CRC mismatch (stored \(hex(stored)), computed \(hex(computed))): the length field is damaged"
        case .absurdLength(let length, let limit):
            "length \(length) exceeds the limit of \(limit) bytes"
        case .dataCRCMismatch(let stored, let computed):
            "data CRC mismatch (stored \(hex(stored)), computed \(hex(computed)))"
        }
    }
}

/// `0x` and eight hex digits.
func hex(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
}
