/// A point in wall-clock time, in seconds since 1970.
///
/// The liveness detectors compare arrival times with each other and with the timestamps stored with every row
/// (so that a restarted monitor can tell how long a run has been silent), so their clock counts wall time, not
/// the monotonic time of `ContinuousClock`.
public struct WallInstant: InstantProtocol, Sendable, Hashable, Comparable {
    public var secondsSince1970: Double

    public init(secondsSince1970: Double) {
        self.secondsSince1970 = secondsSince1970
    }

    public func advanced(by duration: Duration) -> WallInstant {
        WallInstant(secondsSince1970: secondsSince1970 + duration.seconds)
    }

    public func duration(to other: WallInstant) -> Duration {
        .seconds(other.secondsSince1970 - secondsSince1970)
    }

    public static func < (lhs: WallInstant, rhs: WallInstant) -> Bool {
        lhs.secondsSince1970 < rhs.secondsSince1970
    }
}

extension Duration {
    /// The duration in seconds, as a Double.
    public var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) * 1e-18
    }
}

/// Any wall clock, type-erased: lets a non-generic owner (the server) hold the system clock or a test clock.
public struct AnyWallClock: Clock, Sendable {
    public typealias Instant = WallInstant

    private let nowBody: @Sendable () -> WallInstant
    private let sleepBody: @Sendable (WallInstant, Duration?) async throws -> Void
    public let minimumResolution: Duration

    public init<C: Clock & Sendable>(_ clock: C) where C.Instant == WallInstant {
        nowBody = { clock.now }
        sleepBody = { try await clock.sleep(until: $0, tolerance: $1) }
        minimumResolution = clock.minimumResolution
    }

    public var now: WallInstant { nowBody() }

    public func sleep(until deadline: WallInstant, tolerance: Duration?) async throws {
        try await sleepBody(deadline, tolerance)
    }
}
