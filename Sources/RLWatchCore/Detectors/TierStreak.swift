/// Consecutive-observation streaks behind a two-tier threshold ("above the warning level for N training
/// steps in a row → warning; above the critical level for N steps in a row → critical").
///
/// Each tier keeps its own streak, so a single observation past the critical level inside a warning
/// stretch does not escalate on its own: the critical tier needs its own `required` steps in a row, which
/// keeps one noisy value from turning a warning into a critical. Streaks are measured in training steps
/// (see ``StepClock``): an observation adds the steps since the detector's previous observation, so a run
/// logged every 5 steps holds a tier after `required / 5` rows, and a run logged every step after `required`
/// rows; a streak also needs two observations (see `minimumStreakObservations`). A step number that goes back
/// (a resume) restarts both streaks. Shared by the detectors whose
/// trip-wire is a level held for a while (entropy explosion, length truncation).
struct TierStreak: Sendable, Hashable {
    /// Training steps in a row a tier must hold before it counts (at least 1).
    let required: Int
    /// Training steps of consecutive observations at or past the warning level, ending with the latest.
    private(set) var warningRun = 0
    /// Training steps of consecutive observations at or past the critical level, ending with the latest.
    private(set) var criticalRun = 0
    /// Observations in the warning and critical streaks.
    private(set) var warningObservations = 0
    private(set) var criticalObservations = 0

    init(required: Int) {
        self.required = max(1, required)
    }

    /// Counts one judged observation.
    ///
    /// - Parameters:
    ///   - warning: whether the observation is at or past the warning level.
    ///   - critical: whether it is at or past the critical level.
    ///   - tick: what the detector's ``StepClock`` made of the observation's row.
    /// - Returns: the level the streaks have reached, or nil when neither tier has held long enough.
    mutating func update(warning: Bool, critical: Bool, tick: StepTick) -> Severity? {
        if tick.resumed { self = TierStreak(required: required) }
        warningRun = warning ? addingSteps(warningRun, tick.steps) : 0
        warningObservations = warning ? warningObservations + 1 : 0
        criticalRun = critical ? addingSteps(criticalRun, tick.steps) : 0
        criticalObservations = critical ? criticalObservations + 1 : 0
        let observations = minimumStreakObservations(required)
        if criticalRun >= required, criticalObservations >= observations { return .critical }
        if warningRun >= required, warningObservations >= observations { return .warning }
        return nil
    }

    /// Counts one judged observation and returns the level to feed an episode.
    ///
    /// Inside an episode an observation past the warning level *holds* the episode even while its
    /// streak is still rebuilding after a brief dip, so the episode ends only after `Episode.rearmAfter`
    /// observations that are back to normal — not after a dip plus the first values of the next streak.
    /// Feeding `.warning` to an active episode is silent; escalation still needs the critical streak.
    mutating func level(warning: Bool, critical: Bool, tick: StepTick, episode: Episode)
        -> Severity?
    {
        update(warning: warning, critical: critical, tick: tick) ?? (warning && episode.isActive ? .warning : nil)
    }
}
