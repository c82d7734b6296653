/// A run's most recent stored row: its step and when it arrived.
public struct RunActivity: Sendable, Hashable {
    public var step: Int
    /// Seconds since 1970.
    public var timestamp: Double

    public init(step: Int, timestamp: Double) {
        self.step = step
        self.timestamp = timestamp
    }
}
