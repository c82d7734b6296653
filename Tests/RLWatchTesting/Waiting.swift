/// A wait that did not end in time, naming what it waited for.
public struct WaitTimedOut: Error, CustomStringConvertible {
    public var what: String
    public var timeout: Duration
    public var description: String { "timed out after \(timeout) waiting for \(what)" }
}

/// Polls `condition` every `interval` until it holds; throws ``WaitTimedOut`` after `timeout`.
///
/// The bound is generous on purpose: the full suite on 2 cores can keep a waiting test off the thread pool for tens
/// of seconds. A passing wait returns as soon as the condition holds, so the bound costs nothing.
public func waitUntil(
    _ what: String, timeout: Duration = .seconds(60), interval: Duration = .milliseconds(20),
    _ condition: () async throws -> Bool
) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    while try await !condition() {
        if clock.now >= deadline { throw WaitTimedOut(what: what, timeout: timeout) }
        try await Task.sleep(for: interval)
    }
}
