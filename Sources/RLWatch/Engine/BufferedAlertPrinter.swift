import Foundation
import RLWatchCore
import Synchronization

/// How delivered alerts are printed on standard output by `replay` (and `watch --output jsonl`).
public enum AlertOutputFormat: String, Sendable, CaseIterable { case text, jsonl }

/// Prints `replay`'s delivered alerts on standard output, buffered: one `write(2)` per 64 KiB (or per
/// ``flush()``) instead of one per alert, as a replay of a million steps prints many.
///
/// Text: `step N  SEVERITY  detector`, the message and the recommendation, indented; JSONL: one JSON object per
/// alert.
public final class BufferedAlertPrinter: AlertSink {
    public let format: AlertOutputFormat
    private let bytes = Mutex<[UInt8]>([])

    public init(format: AlertOutputFormat) {
        self.format = format
    }

    public func deliver(_ alert: Alert, runID: String) {
        let text =
            switch format {
            case .jsonl: alert.json.serialized() + "\n"
            case .text:
                "step \(alert.step)  \(alert.severity.rawValue.uppercased())  \(alert.detector)\n"
                    + "  \(alert.message)\n  Recommendation: \(alert.recommendation)\n"
            }
        let full = bytes.withLock { bytes in
            bytes.append(contentsOf: text.utf8)
            return bytes.count >= 1 << 16
        }
        if full { flush() }
    }

    /// Writes what is buffered.
    public func flush() {
        bytes.withLock { bytes in
            bytes.withUnsafeBytes { buffer in
                guard let base = buffer.baseAddress else { return }
                var offset = 0
                while offset < buffer.count {
                    let written = Foundation.write(STDOUT_FILENO, base + offset, buffer.count - offset)
                    if written <= 0 { break }
                    offset += written
                }
            }
            bytes.removeAll(keepingCapacity: true)
        }
    }
}
