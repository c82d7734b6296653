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

/// A store that can tell a run's last stored row without reading its history (an index lookup).
public protocol RunActivityStore: Store {
    func lastActivity(runID: String) async throws -> RunActivity?
}

extension Store {
    /// The run's last stored row: through ``RunActivityStore`` when the store has it, else by reading the run's rows.
    public func lastStoredActivity(runID: String) async throws -> RunActivity? {
        if let fast = self as? any RunActivityStore { return try await fast.lastActivity(runID: runID) }
        guard let last = try await steps(runID: runID).last else { return nil }
        return RunActivity(step: last.metrics.step, timestamp: last.timestamp)
    }
}
