/// The once-per-episode state machine every detector shares.
///
/// An episode is a stretch of observations during which the detector's condition holds. The first
/// observation of an episode emits an alert at its severity; a later observation at a higher severity
/// emits once more (escalation from warning to critical); nothing else inside the episode emits. The
/// episode ends, and the detector re-arms, only after `rearmAfter` consecutive evaluated observations
/// on which the condition does not hold, so a value hovering at the threshold cannot produce a
/// stream of alerts.
///
/// ```
///  armed ──level──▶ firing(highest) ──higher level──▶ firing(higher)   (emits)
///    ▲                 │  ▲                                            
///    │    quiet × rearmAfter      └── same/lower level or quiet < rearmAfter (silent)
///    └─────────────────┘
/// ```
public struct Episode: Sendable, Hashable {
    private enum State: Hashable {
        case armed
        case firing(highest: Severity, quietObservations: Int, emittedMagnitude: Double?)
    }

    /// Consecutive normal observations needed to end an episode.
    public static let defaultRearmAfter = 3

    private var state = State.armed
    public let rearmAfter: Int

    public init(rearmAfter: Int = Episode.defaultRearmAfter) {
        self.rearmAfter = max(1, rearmAfter)
    }

    /// Whether an episode is in progress.
    public var isActive: Bool { state != .armed }

    /// Feeds one evaluated observation: the severity its condition reached, or nil when it did not hold.
    ///
    /// - Returns: the severity to alert at, or nil when this observation must stay silent.
    /// - Parameter magnitude: how far outside normal the observation is (see `Alert.magnitude`). Inside an
    ///   episode, an observation `Alert.extremeFactor` times further out than the one that last emitted
    ///   emits again at its level: a one-step extreme transient is news even in an ongoing episode.
    public mutating func update(_ level: Severity?, magnitude: Double? = nil) -> Severity? {
        switch (state, level) {
        case (.armed, nil):
            return nil
        case (.armed, let level?):
            state = .firing(highest: level, quietObservations: 0, emittedMagnitude: magnitude)
            return level
        case (.firing(let highest, let quiet, let emitted), nil):
            state =
                quiet + 1 >= rearmAfter
                ? .armed : .firing(highest: highest, quietObservations: quiet + 1, emittedMagnitude: emitted)
            return nil
        case (.firing(let highest, _, let emitted), let level?):
            if level > highest || Alert.isFarMoreSevere(magnitude, than: emitted) {
                state = .firing(highest: max(level, highest), quietObservations: 0, emittedMagnitude: magnitude)
                return level
            }
            state = .firing(highest: highest, quietObservations: 0, emittedMagnitude: emitted)
            return nil
        }
    }
}

/// Counts a detector's observations and says when the warmup is over.
///
/// Observation number `steps` is the first one evaluated (as in rlwatch 0.5.1): with `warmup_steps: 20`
/// observations 1…19 are silent and the 20th is evaluated.
public struct Warmup: Sendable, Hashable {
    public let steps: Int
    public private(set) var observations = 0

    public init(steps: Int) { self.steps = steps }

    /// Counts one observation and returns whether it is evaluated.
    public mutating func observe() -> Bool {
        observations += 1
        return observations >= steps
    }
}
