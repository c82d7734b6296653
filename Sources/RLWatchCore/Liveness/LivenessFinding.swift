/// What a liveness tracker found: an alert for the alert policy, or a note that an episode ended.
public struct LivenessFinding: Sendable, Hashable {
    public var alert: Alert
    /// A note (a stalled run resumed): stored with the run's alerts as `resolved`, never delivered.
    public var isNote: Bool

    public init(alert: Alert, isNote: Bool = false) {
        self.alert = alert
        self.isNote = isNote
    }
}

/// A human-readable length of time: `45 s`, `12 min`, `2.5 h`.
func describeDuration(_ seconds: Double) -> String {
    if seconds < 90 { return "\(Int(seconds.rounded())) s" }
    if seconds < 5400 { return "\(Int((seconds / 60).rounded())) min" }
    return "\(formatFixed(seconds / 3600, decimals: 1)) h"
}

func formatFixed(_ value: Double, decimals: Int) -> String {
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let rounded = (value * scale).rounded() / scale
    var text = "\(rounded)"
    if decimals == 0, text.hasSuffix(".0") { text.removeLast(2) }
    return text
}

/// The median of a non-empty array (the mean of the middle two for an even count).
func medianOf(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}
