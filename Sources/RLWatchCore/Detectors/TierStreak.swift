/// Consecutive-observation counts behind a two-tier threshold ("above the warning level for N
/// observations in a row → warning; above the critical level for N in a row → critical").
///
/// Each tier keeps its own count, so a single observation past the critical level inside a warning
/// stretch does not escalate on its own: the critical tier needs its own `required` observations in a
/// row, which keeps one noisy value from turning a warning into a critical. Shared by the detectors
/// whose trip-wire is a level held for a few observations (entropy explosion, length truncation).
struct TierStreak: Sendable, Hashable {
    /// Observations in a row a tier must hold before it counts (at least 1).
    let required: Int
    /// Consecutive observations at or past the warning level, ending with the latest.
    private(set) var warningRun = 0
    /// Consecutive observations at or past the critical level, ending with the latest.
    private(set) var criticalRun = 0

    init(required: Int) {
        self.required = max(1, required)
    }

    /// Counts one judged observation.
    ///
    /// - Parameters:
    ///   - warning: whether the observation is at or past the warning level.
    ///   - critical: whether it is at or past the critical level.
    /// - Returns: the level the streaks have reached, or nil when neither tier has held long enough.
    mutating func update(warning: Bool, critical: Bool) -> Severity? {
        warningRun = warning ? warningRun + 1 : 0
        criticalRun = critical ? criticalRun + 1 : 0
        if criticalRun >= required { return .critical }
        if warningRun >= required { return .warning }
        return nil
    }

    /// Counts one judged observation and returns the level to feed an episode.
    ///
    /// Inside an episode an observation past the warning level *holds* the episode even while its
    /// streak is still rebuilding after a brief dip, so the episode ends only after `Episode.rearmAfter`
    /// observations that are back to normal — not after a dip plus the first values of the next streak.
    /// Feeding `.warning` to an active episode is silent; escalation still needs the critical streak.
    mutating func level(warning: Bool, critical: Bool, episode: Episode) -> Severity? {
        update(warning: warning, critical: critical) ?? (warning && episode.isActive ? .warning : nil)
    }
}
