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

/// What one logged row means in training steps, for a detector's counts (see ``StepClock``).
public struct StepTick: Sendable, Hashable {
    /// Training steps since the previous row (1 for the first row or after a resume, 0 for a repeated step).
    public var steps: Int
    /// Whether the step number went back: a resume from an earlier checkpoint, after which streaks restart.
    public var resumed: Bool

    public init(steps: Int, resumed: Bool) {
        self.steps = steps
        self.resumed = resumed
    }
}

/// Turns the rows a detector sees into training steps, so counts stated in steps hold at any logging interval.
///
/// TRL logs every `logging_steps` (5 or 10 is common) and the seeds state trip-wires in training steps
/// ("below the threshold for 50 steps in a row"), so warmups and streaks add up step numbers, not log rows: an
/// observation stands for the steps since the previous row, whatever that row carried. A detector ticks its
/// clock on every row, so a row whose metric is missing or NaN does not make the next observation count for two
/// steps (it is a hole in the metric, not in the log). The first row stands for one step (nothing says how
/// many came before it); a repeated step number (an evaluation row logged at the same step) for none; a step
/// number that goes back — a resume from a checkpoint — for one, and streaks start over, since the weights they
/// measured are gone. Logged every step, every row is one step, so counts in steps equal counts in rows.
public struct StepClock: Sendable, Hashable {
    /// The step number of the previous row.
    public private(set) var lastStep: Int?

    public init() {}

    /// Records one row the detector sees, with or without its metric.
    public mutating func tick(_ step: Int) -> StepTick {
        defer { lastStep = step }
        guard let lastStep else { return StepTick(steps: 1, resumed: false) }
        if step == lastStep { return StepTick(steps: 0, resumed: false) }
        guard step > lastStep else { return StepTick(steps: 1, resumed: true) }
        let (difference, overflow) = step.subtractingReportingOverflow(lastStep)
        return StepTick(steps: overflow ? Int.max : difference, resumed: false)
    }
}

/// A count of training steps that saturates instead of trapping on absurd step numbers.
@inline(__always)
func addingSteps(_ count: Int, _ steps: Int) -> Int {
    let (sum, overflow) = count.addingReportingOverflow(steps)
    return overflow ? Int.max : sum
}

/// The observations a streak needs besides its training steps: two, or one when the setting itself is 1, so a
/// single row of a sparsely logged run (every 10 steps, say) never makes a streak on its own. Logged every step,
/// a streak of `required` ≥ 2 steps already holds that many observations, so this changes nothing there.
@inline(__always)
func minimumStreakObservations(_ required: Int) -> Int { min(2, max(1, required)) }

/// Counts the training steps a detector's observations cover and says when the warmup is over.
///
/// The observation that brings the covered steps to `steps` is the first one evaluated (as in rlwatch 0.5.1,
/// which counted observations): logged every step with `warmup_steps: 20`, observations 1…19 are silent and
/// the 20th is evaluated; logged every 5 steps from step 5, the observation at step 25 is (step 5 counts as
/// one step, each later row as five: see ``StepClock``). A resume does not restart the warmup.
public struct Warmup: Sendable, Hashable {
    public let steps: Int
    public private(set) var observations = 0
    /// Training steps covered so far.
    public private(set) var coveredSteps = 0
    private var clock = StepClock()

    public init(steps: Int) { self.steps = steps }

    /// Counts one observation with the tick of its row (from the detector's ``StepClock``, which sees every
    /// row) and returns whether it is evaluated.
    public mutating func observe(_ tick: StepTick) -> Bool {
        observations += 1
        coveredSteps = addingSteps(coveredSteps, observations == 1 ? max(1, tick.steps) : tick.steps)
        return coveredSteps >= steps
    }

    /// Counts one observation at training step `step`, for a detector that shows the warmup only its
    /// observations: each counts for the steps since the previous observation.
    public mutating func observe(_ step: Int) -> Bool {
        observe(clock.tick(step))
    }
}
