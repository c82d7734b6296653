import Foundation

/// The system's wall clock as a `Clock`: the one clock of rlwatch outside tests.
///
/// Everything that stamps, waits or measures wall time (the monitor's row timestamps, the liveness detectors, the
/// alert dispatcher's schedule, retention) takes an ``AnyWallClock``; tests pass one they step instead.
public struct SystemWallClock: Clock, Sendable {
    public typealias Instant = WallInstant

    public init() {}

    public var now: WallInstant { WallInstant(secondsSince1970: Date().timeIntervalSince1970) }

    public var minimumResolution: Duration { .microseconds(1) }

    public func sleep(until deadline: WallInstant, tolerance: Duration?) async throws {
        let wait = now.duration(to: deadline)
        if wait > .zero { try await Task.sleep(for: wait) }
    }
}

extension AnyWallClock {
    /// The system's wall clock.
    public static var system: AnyWallClock { AnyWallClock(SystemWallClock()) }

    /// Now, as a `Date`.
    public var date: Date { Date(timeIntervalSince1970: now.secondsSince1970) }
}
