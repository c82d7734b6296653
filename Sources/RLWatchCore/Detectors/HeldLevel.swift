/// Warmup, step clock, tier streaks and episode of a detector whose trip-wire is a level held for a number of
/// training steps (clip saturation, rollout mismatch, importance ratio, value divergence): the detector decides
/// per observation whether it is at the warning and the critical level; this decides when that becomes an alert.
struct HeldLevel: Sendable {
    private var warmup: Warmup
    private var clock = StepClock()
    private(set) var streak: TierStreak
    private(set) var episode = Episode()
    private var streakStart: Int?

    init(warmupSteps: Int, consecutiveSteps: Int) {
        warmup = Warmup(steps: warmupSteps)
        streak = TierStreak(required: consecutiveSteps)
    }

    /// Records a row the detector sees, with or without its metric (see ``StepClock``).
    mutating func tick(_ step: Int) -> StepTick { clock.tick(step) }

    /// Counts an observation towards the warmup; false while it is not over (the observation is not judged).
    mutating func warmedUp(_ tick: StepTick) -> Bool { warmup.observe(tick) }

    /// Judges one observation after the warmup.
    ///
    /// - Returns: the severity to alert at, the step the streak began and the training steps it has held, or nil
    ///   when this observation must stay silent.
    mutating func judge(warning: Bool, critical: Bool, step: Int, tick: StepTick)
        -> (severity: Severity, onset: Int, steps: Int)?
    {
        let warning = warning || critical
        if !warning { streakStart = nil } else if streakStart == nil { streakStart = step }
        let level = streak.level(warning: warning, critical: critical, tick: tick, episode: episode)
        guard let severity = episode.update(level) else { return nil }
        let steps = severity == .critical ? streak.criticalRun : streak.warningRun
        return (severity, streakStart ?? step, steps)
    }
}
