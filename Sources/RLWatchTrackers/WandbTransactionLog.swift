import Foundation
import RLWatchIngest

/// The framing of a W&B transaction log (`run-<id>.wandb`): what is a whole record, where each one starts.
///
/// The file starts with a 7-byte header: `:W&B`, the magic 0xBEE1 (little-endian) and a version byte (0 or 1).
/// Records follow in LevelDB's log format: 32 KiB blocks of chunks, each with a 7-byte header (CRC-32/IEEE over
/// the type byte and the payload, the payload's length as uint16 LE, the type: FULL, or FIRST / MIDDLE / LAST of
/// a record split across blocks); a block's last 1–6 bytes, too few for a chunk header, are zero padding. The
/// header counts as the first block's first bytes (offsets are the file's).
///
/// A record whose chunks are not all written yet (the run is still writing) ends a scan and is read again by the
/// next one. A chunk whose checksum fails is skipped alone when a sound chunk follows it (a flipped payload byte);
/// otherwise, and for a wrong length or type, the rest of its block is skipped (a record's start cannot be found
/// inside a block otherwise). Either is reported with its offset.
package struct WandbTransactionLog {
    package static let blockSize = 32 * 1024
    static let fileHeaderSize = 7
    package static let chunkHeaderSize = 7
    static let magic: UInt16 = 0xBEE1

    package enum ChunkType: UInt8 {
        case zero = 0, full = 1, first = 2, middle = 3, last = 4
    }

    /// What one scan found.
    struct Scan {
        /// The complete records' payloads (serialized `Record` messages), in order.
        var records: [[UInt8]] = []
        /// Where the next scan starts: after the last complete record (or the last block skipped as corrupt).
        var next: Int64
        /// The corrupt chunks skipped: file offset and what was wrong.
        var corrupt: [(offset: Int64, why: String)] = []
        /// More complete records follow (the scan stopped at `maxRecords`).
        var hasMore = false
    }

    /// Why the file is not a W&B transaction log.
    struct NotALog: Error { var message: String }

    let path: String

    /// Scans from `offset` (0: the file's start, header included) for up to `maxRecords` complete records.
    ///
    /// - Parameter stopAtCorrupt: stop before a corrupt chunk instead of skipping it (the scan's `corrupt` names it).
    /// - Throws: ``NotALog`` for a file without W&B's header; `TrackerError` when the file cannot be read.
    func scan(from offset: Int64, maxRecords: Int, stopAtCorrupt: Bool) throws -> Scan {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw TrackerError(path: path, message: "cannot open the file")
        }
        defer { try? handle.close() }
        let size = Int64((try? handle.seekToEnd()) ?? 0)
        var scan = Scan(next: offset)
        var start = offset
        if start == 0 {
            guard size >= Int64(Self.fileHeaderSize) else { return scan }  // the header is not written yet
            try handle.seek(toOffset: 0)
            let header = [UInt8](try handle.read(upToCount: Self.fileHeaderSize) ?? Data())
            guard header.count == Self.fileHeaderSize, header.starts(with: TrackerFiles.wandbMagic),
                UInt16(header[4]) | UInt16(header[5]) << 8 == Self.magic, header[6] <= 1
            else {
                throw NotALog(message: "not a W&B transaction log (no `:W&B` header with magic 0xBEE1, version 0 or 1)")
            }
            start = Int64(Self.fileHeaderSize)
            scan.next = start
        }
        var window = 8 << 20
        while true {
            try handle.seek(toOffset: UInt64(start))
            let bytes = [UInt8](try handle.read(upToCount: window) ?? Data())
            let before = scan.records.count
            let end = parse(bytes, at: start, maxRecords: maxRecords, stopAtCorrupt: stopAtCorrupt, into: &scan)
            // A record longer than the window: read it with a larger one.
            if scan.records.count == before, scan.corrupt.isEmpty, Int64(bytes.count) == Int64(window),
                start + Int64(bytes.count) < size, end
            {
                window *= 2
                continue
            }
            return scan
        }
    }

    /// Whether a whole chunk with a matching checksum starts at `position` (after a block tail's padding).
    private static func isSoundChunk(_ bytes: [UInt8], at start: Int, base: Int64) -> Bool {
        var position = start
        let left = blockSize - Int((base + Int64(position)) % Int64(blockSize))
        if left < chunkHeaderSize { position += left }
        guard position + chunkHeaderSize <= bytes.count else { return false }
        let crc = bytes[position..<position + 4].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let length = Int(bytes[position + 4]) | Int(bytes[position + 5]) << 8
        guard (1...4).contains(bytes[position + 6]), position + chunkHeaderSize + length <= bytes.count else { return false }
        return bytes.withUnsafeBytes { buffer in
            CRC32.update(0, UnsafeRawBufferPointer(rebasing: buffer[position + 6..<position + chunkHeaderSize + length]))
        } == crc
    }

    /// Parses the chunks in `bytes` (file offset `base`); returns whether it stopped at the window's end.
    private func parse(_ bytes: [UInt8], at base: Int64, maxRecords: Int, stopAtCorrupt: Bool, into scan: inout Scan)
        -> Bool
    {
        var position = 0
        var assembling: [UInt8]?
        func skipBlock(_ why: String) -> Bool {
            scan.corrupt.append((base + Int64(position), why))
            if stopAtCorrupt { return false }
            assembling = nil
            let absolute = base + Int64(position)
            let nextBlock = (absolute / Int64(Self.blockSize) + 1) * Int64(Self.blockSize)
            position = Int(nextBlock - base)
            if position <= bytes.count { scan.next = nextBlock }
            return true
        }
        while position < bytes.count {
            let absolute = base + Int64(position)
            let left = Self.blockSize - Int(absolute % Int64(Self.blockSize))
            if left < Self.chunkHeaderSize {
                guard position + left <= bytes.count else { return true }
                position += left
                if assembling == nil { scan.next = base + Int64(position) }
                continue
            }
            guard position + Self.chunkHeaderSize <= bytes.count else { return true }
            let crc = bytes[position..<position + 4].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            let length = Int(bytes[position + 4]) | Int(bytes[position + 5]) << 8
            let rawType = bytes[position + 6]
            if rawType == 0, length == 0, crc == 0 {
                // Zeros: not written yet (or preallocated); wait unless something follows in this block.
                let blockEnd = min(bytes.count, position + left)
                if bytes[position..<blockEnd].allSatisfy({ $0 == 0 }) { return true }
                guard skipBlock("zero-filled chunk header") else { return false }
                continue
            }
            guard let type = ChunkType(rawValue: rawType), type != .zero else {
                guard skipBlock("unknown chunk type \(rawType)") else { return false }
                continue
            }
            guard Self.chunkHeaderSize + length <= left else {
                guard skipBlock("chunk length \(length) runs past its block") else { return false }
                continue
            }
            let payloadStart = position + Self.chunkHeaderSize
            guard payloadStart + length <= bytes.count else { return true }
            let computed = bytes.withUnsafeBytes { buffer in
                CRC32.update(
                    CRC32.update(0, UnsafeRawBufferPointer(rebasing: buffer[position + 6..<position + 7])),
                    UnsafeRawBufferPointer(rebasing: buffer[payloadStart..<payloadStart + length]))
            }
            guard computed == crc else {
                // A flipped payload byte leaves the length right: when a sound chunk follows, only this one is lost.
                let next = payloadStart + length
                if !stopAtCorrupt, next == bytes.count || Self.isSoundChunk(bytes, at: next, base: base) {
                    scan.corrupt.append((absolute, "checksum mismatch; the chunk skipped"))
                    assembling = nil
                    position = next
                    scan.next = base + Int64(next)
                    continue
                }
                guard skipBlock("checksum mismatch; the rest of its 32 KiB block skipped") else { return false }
                continue
            }
            let payload = bytes[payloadStart..<payloadStart + length]
            position = payloadStart + length
            switch type {
            case .full:
                if assembling != nil { scan.corrupt.append((absolute, "a record's last chunk is missing")) }
                assembling = nil
                scan.records.append(Array(payload))
                scan.next = base + Int64(position)
            case .first:
                assembling = Array(payload)
            case .middle:
                if assembling == nil {
                    scan.corrupt.append((absolute, "a record's first chunk is missing"))
                    scan.next = base + Int64(position)
                } else {
                    assembling?.append(contentsOf: payload)
                }
            case .last:
                if var record = assembling {
                    record.append(contentsOf: payload)
                    scan.records.append(record)
                } else {
                    scan.corrupt.append((absolute, "a record's first chunk is missing"))
                }
                assembling = nil
                scan.next = base + Int64(position)
            case .zero:
                break
            }
            if scan.records.count >= maxRecords, assembling == nil {
                scan.hasMore = position < bytes.count
                return false
            }
        }
        return true
    }
}
