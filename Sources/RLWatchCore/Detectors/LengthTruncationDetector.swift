/// Length truncation: most completions are cut at the maximum completion length (the "filibuster").
///
/// Reads the clipped ratio the trainer logs — `completions/clipped_ratio` (TRL) or
/// `response_length/clip_ratio` (veRL) — see ``MetricStep/ExtraKey``. A warning after `consecutive_steps`
/// training steps at or above `warning_ratio`, a critical after as many at or above `critical_ratio`, once
/// per episode (see `TierStreak`; steps are step numbers, whatever the logging interval).
///
/// The defaults (0.5 and 0.9) are levels where truncation is the failure itself, not a side effect of
/// healthy length growth. In the real runs the ratio reaches 0.95–1.0 when a run falls apart (the TRL run
/// from step 150), while a veRL run whose responses were still growing sat at 1–15 % for 60 steps and
/// reached 37 % only as it diverged — a truncated minority is common on reasoning runs near their length
/// budget, and that run's divergence is the KL and grad-norm detectors' to report. Three observations in
/// a row — 15 training steps on that run, logged every 5 — keep a two-row transient quiet (the TRL run's
/// 0.68 → 0.98 → 0.28 at steps 40–50).
/// NaN/±∞ ratios are ignored and do not break a streak.
///
/// **Rising truncation.** A share below `warning_ratio` also counts towards the warning when it is at least
/// `rising_ratio` (0.2) and ``risingFactor`` times the run's early level (the median of its first 10 ratios,
/// floored at 0.02), while reward is not improving (see ``RewardTrend``): truncation growing from 1 % to 20–36 %
/// on a flat score is the filibuster starting, while a run whose answers lengthen as its reward climbs is
/// learning to reason at length.
public final class LengthTruncationDetector: Detector {
    public let id = DetectorID.lengthTruncation
    private let config: LengthTruncationConfig
    private var warmup: Warmup
    private var episode = Episode()
    private var streak: TierStreak
    private var clock = StepClock()
    private var early = EarlyMedian(window: 10)
    private var trend = RewardTrend()
    private var streakStart: Int?

    /// How many times its early level a rising share must be.
    public static let risingFactor = 4.0
    /// The early level is floored at this, so a run that started with no truncation at all still needs 8 %.
    static let earlyFloor = 0.02

    public init(_ config: LengthTruncationConfig) {
        self.config = config
        warmup = Warmup(steps: config.warmupSteps)
        streak = TierStreak(required: config.consecutiveSteps)
    }

    public func observe(_ step: MetricStep) -> Alert? {
        let tick = clock.tick(step.step)
        trend.observe(step.rewardMean, step: step.step)
        guard let ratio = step.clippedRatio else { return nil }
        let earlyLevel = early.value
        if earlyLevel == nil { early.add(max(ratio, Self.earlyFloor)) }
        guard warmup.observe(tick) else { return nil }
        var warning = ratio >= config.warningRatio
        if !warning, config.risingRatio > 0, ratio >= config.risingRatio, let earlyLevel,
            ratio >= Self.risingFactor * max(earlyLevel, Self.earlyFloor), trend.isImproving != true
        {
            warning = true
        }
        if !warning { streakStart = nil } else if streakStart == nil { streakStart = step.step }
        let level = streak.level(
            warning: warning, critical: ratio >= config.criticalRatio, tick: tick, episode: episode)
        guard let severity = episode.update(level) else { return nil }

        let run = severity == .critical ? streak.criticalRun : streak.warningRun
        let observations = severity == .critical ? streak.criticalObservations : streak.warningObservations
        let percent = "\(fixed(ratio * 100, decimals: 0)) %"
        let length = step.meanCompletionLength
        let lengthNote = length.map { " Mean completion length: \(fixed($0, decimals: 1)) tokens." } ?? ""
        let message: String
        var recommendation =
            "Read a few truncated completions first: rambling, repetition, or an answer that never emits its "
            + "end-of-sequence/stop token (a chat-template or tokenizer mismatch, a stop string that never "
            + "appears) are the usual causes. Make truncation cost reward with an end-of-sequence or overlong "
            + "length penalty (a multiplicative penalty on runaway completions keeps reward diversity; a hard "
            + "reward cap flattens it). If the answers are legitimately long, raise the max completion length."
        switch severity {
        case .critical:
            message =
                "Length truncation: \(percent) of completions are cut at the maximum length, at or above "
                + "\(formatNumber(config.criticalRatio)) for \(run) consecutive steps — the model runs on "
                + "instead of ending its answers.\(lengthNote)"
            recommendation +=
                " Truncated completions usually score 0, so reward and the learning signal collapse next; if "
                + "entropy is rising too, revert to a checkpoint from before the rise."
        case .warning where ratio < config.warningRatio:
            message =
                "Truncation is rising: \(percent) of completions hit the maximum length, up from "
                + "\(fixed((early.value ?? 0) * 100, decimals: 0)) % early in the run, for \(run) consecutive steps "
                + "while reward is not improving.\(lengthNote)"
        case .warning:
            message =
                "\(percent) of completions hit the maximum length, at or above "
                + "\(formatNumber(config.warningRatio)) for \(run) consecutive steps.\(lengthNote)"
        }
        return Alert(
            step: step.step, detector: id, severity: severity, message: message,
            metricValues: [
                "clipped_ratio": .double(ratio),
                "mean_completion_length": length.map(MetricValue.double) ?? .null,
                "consecutive_steps": .int(run),
                "consecutive_observations": .int(observations),
            ],
            recommendation: recommendation
        ).withOnset(streakStart ?? step.step)
    }
}

extension LengthTruncationDetector {
    /// The detector's entry in ``DetectorRegistry``.
    // swift-format-ignore
    public static let descriptor = DetectorDescriptor(
        id: .lengthTruncation, summary: "Completions cut at the maximum completion length (clipped ratio near 1).",
        enabled: \.lengthTruncation.enabled,
        fields: [
            .double("length_truncation.warning_ratio", \.lengthTruncation.warningRatio, .unitFraction,
                    "Warning when at least this fraction of completions hits the max length (> 0, <= 1)."),
            .double("length_truncation.critical_ratio", \.lengthTruncation.criticalRatio, .unitFraction,
                    "Critical when at least this fraction of completions hits the max length (> 0, <= 1)."),
            .double("length_truncation.rising_ratio", \.lengthTruncation.risingRatio, .nonNegative,
                    "Warning also at this fraction when it is 4x the early level and reward is flat (0: off; >= 0)."),
            .int("length_truncation.consecutive_steps", \.lengthTruncation.consecutiveSteps, .atLeast(1),
                 "Training steps in a row each level must hold before it alerts (>= 1)."),
            .int("length_truncation.warmup_steps", \.lengthTruncation.warmupSteps, .nonNegative,
                 "Training steps to see before this detector may fire (>= 0)."),
        ],
        inputs: [
            DetectorInput(
                name: { _ in "clipped ratio" },
                missing: {
                    $0.hasExtra(MetricStep.ExtraKey.clippedRatio)
                        ? nil : "no completions/clipped_ratio or response_length/clip_ratio logged"
                })
        ],
        chart: .input(
            id: "clipped_ratio", title: "Completions cut at max length (clipped ratio)", fallback: .rewardMean,
            value: { $0.clippedRatio })
    ) { LengthTruncationDetector($0.lengthTruncation) }
}
