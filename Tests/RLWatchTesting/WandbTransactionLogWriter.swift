import Foundation
import RLWatchTrackers
import SwiftProtobuf

/// Writes a W&B transaction log in the framing ``WandbLog`` reads (header, 32 KiB blocks, chunks split across
/// blocks): for the benchmarks' 100k-step input and the framing tests, where W&B's own writer would take minutes
/// or cannot be made to split records where a test needs it. The tests of what W&B really writes use W&B itself.
/// Part of the test kit: it uses RLWatchTrackers' package-visible framing and generated messages.
public struct WandbTransactionLogWriter {
    public private(set) var bytes: [UInt8]

    /// A log with its header (version 0).
    public init() {
        bytes = TrackerFilesHeader.wandb
    }

    /// Appends a history row: `values` under their keys (non-finite values as W&B writes them), `_step` and
    /// `_timestamp` items, and the step.
    public mutating func appendHistory(step: Int, values: [(String, Double)], timestamp: Double = 0, padding: Int = 0) {
        var history = WandbInternal_HistoryRecord()
        history.step.num = Int64(step)
        history.item = values.map { key, value in
            var item = WandbInternal_HistoryItem()
            item.key = key
            item.valueJson = value.isNaN ? "NaN" : value.isInfinite ? (value > 0 ? "Infinity" : "-Infinity") : "\(value)"
            return item
        }
        var stepItem = WandbInternal_HistoryItem()
        stepItem.key = "_step"
        stepItem.valueJson = "\(step)"
        var time = WandbInternal_HistoryItem()
        time.key = "_timestamp"
        time.valueJson = "\(timestamp)"
        history.item += [stepItem, time]
        if padding > 0 {
            var text = WandbInternal_HistoryItem()
            text.key = "caption"
            text.valueJson = "\"" + String(repeating: "x", count: padding) + "\""
            history.item.append(text)
        }
        var record = WandbInternal_Record()
        record.history = history
        append(record)
    }

    /// Appends the exit record.
    public mutating func appendExit(code: Int) {
        var record = WandbInternal_Record()
        record.exit.exitCode = Int32(code)
        append(record)
    }

    /// Appends raw bytes (a test's garbage, or a chunk cut short).
    public mutating func appendRaw(_ raw: [UInt8]) {
        bytes += raw
    }

    private mutating func append(_ record: WandbInternal_Record) {
        guard let payload: [UInt8] = try? record.serializedBytes() else { return }
        var rest = payload[...]
        var first = true
        repeat {
            let left = WandbTransactionLog.blockSize - bytes.count % WandbTransactionLog.blockSize
            if left < WandbTransactionLog.chunkHeaderSize {
                bytes += [UInt8](repeating: 0, count: left)
                continue
            }
            let room = left - WandbTransactionLog.chunkHeaderSize
            let piece = rest.prefix(room)
            rest = rest.dropFirst(piece.count)
            let type: WandbTransactionLog.ChunkType =
                first && rest.isEmpty ? .full : first ? .first : rest.isEmpty ? .last : .middle
            first = false
            let crc = CRC32.checksum([type.rawValue] + piece)
            bytes += withUnsafeBytes(of: crc.littleEndian, Array.init)
            bytes += [UInt8(piece.count & 0xFF), UInt8(piece.count >> 8), type.rawValue]
            bytes += piece
        } while !rest.isEmpty
    }
}

/// The 7-byte header of a W&B transaction log: `:W&B`, 0xBEE1 little-endian, version 0.
enum TrackerFilesHeader {
    static let wandb: [UInt8] = Array(":W&B".utf8) + [0xE1, 0xBE, 0x00]
}
