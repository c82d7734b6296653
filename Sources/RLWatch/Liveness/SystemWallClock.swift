import Foundation
import RLWatchCore

/// The system's wall clock as a `Clock`: what the liveness watchdog uses outside tests.
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
