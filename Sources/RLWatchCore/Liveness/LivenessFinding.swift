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

/// A human-readable length of time that was measured: `45 s`, `12 min`, `2.5 h`.
///
/// Seconds up to two minutes, so that a silence of 100 s does not read as "2 min" next to a 90 s limit.
func describeDuration(_ seconds: Double) -> String {
    if seconds < 120 { return "\(Int(seconds.rounded())) s" }
    if seconds < 7200 { return "\(Int((seconds / 60).rounded())) min" }
    return "\(formatFixed(seconds / 3600, decimals: 1)) h"
}

/// A configured limit, exactly (to three significant digits when fractional): `90 s`, `10 min`, `2 h`, `150 s`,
/// `2.5 s`.
///
/// Limits are stated as the user set them (or as the defaults compute them); rounding a 90 s limit to
/// "2 min" made a stall message contradict the config it quoted.
func describeLimit(_ seconds: Double) -> String {
    let whole = seconds.rounded()
    if whole == seconds, whole >= 7200, whole.truncatingRemainder(dividingBy: 3600) == 0 { return "\(Int(whole / 3600)) h" }
    if whole == seconds, whole >= 120, whole.truncatingRemainder(dividingBy: 60) == 0 { return "\(Int(whole / 60)) min" }
    if whole == seconds, abs(whole) < 1e15 { return "\(Int(whole)) s" }
    var text = formatSignificant(seconds, digits: 3)
    if text.contains("."), !text.contains("e") {
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
    }
    return "\(text) s"
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
