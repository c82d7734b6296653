import RLWatchCore

/// When to try a failed delivery again: exponential backoff with jitter, capped, a bounded number of attempts.
public struct RetryPolicy: Sendable, Hashable {
    /// Attempts per alert and channel, the first included (at least 1).
    public var maxAttempts: Int
    public var initialBackoff: Duration
    public var maxBackoff: Duration

    /// - Parameters:
    ///   - maxAttempts: attempts in all (values below 1 count as 1).
    ///   - initialBackoff: the wait before the second attempt.
    ///   - maxBackoff: the longest wait, a server's `Retry-After` included.
    public init(maxAttempts: Int, initialBackoff: Duration, maxBackoff: Duration) {
        self.maxAttempts = max(1, maxAttempts)
        self.initialBackoff = max(.zero, initialBackoff)
        self.maxBackoff = max(self.initialBackoff, maxBackoff)
    }

    /// `alerts.retry`.
    public init(_ config: AlertRetryConfig) {
        self.init(
            maxAttempts: config.maxAttempts, initialBackoff: .seconds(config.initialBackoffSeconds),
            maxBackoff: .seconds(config.maxBackoffSeconds))
    }

    /// The wait after failed attempt number `attempt` (1-based), or nil when no attempt is left.
    ///
    /// Without `retryAfter` the wait is drawn uniformly from [b/2, b] where b = initial × 2^(attempt−1), capped at
    /// `maxBackoff` (jitter keeps many monitors from retrying in step). A server's `Retry-After` is honoured as
    /// given, capped at `maxBackoff`.
    ///
    /// - Parameters:
    ///   - attempt: the attempt that just failed.
    ///   - retryAfter: the server's requested wait, if any.
    ///   - unit: a number in [0, 1) that picks the jitter (injected so tests are exact).
    public func delay(afterAttempt attempt: Int, retryAfter: Duration? = nil, unit: Double = Double.random(in: 0..<1))
        -> Duration?
    {
        guard attempt < maxAttempts else { return nil }
        if let retryAfter { return min(max(.zero, retryAfter), maxBackoff) }
        let exponent = min(max(0, attempt - 1), 40)
        let base = min(initialBackoff * Double(1 << exponent), maxBackoff)
        let jitter = min(max(unit, 0), 1)
        return base * (0.5 + 0.5 * jitter)
    }
}
