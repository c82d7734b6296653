import Foundation
import RLWatchCore

/// Writes each delivered alert as one JSON object on a line of standard output, at once (a live watch
/// cannot buffer): the `--format jsonl` output of `rlwatch watch`, the same objects as `replay`'s.
public struct JSONLAlertSink: AlertSink {
    public init() {}

    /// Writes the alert's JSON object and a newline to standard output.
    public func deliver(_ alert: Alert, runID: String) {
        FileHandle.standardOutput.write(Data((alert.json.serialized() + "\n").utf8))
    }
}
