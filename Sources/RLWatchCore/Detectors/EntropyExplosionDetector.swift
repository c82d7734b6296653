/// Entropy explosion: the policy's entropy rose far above the run's own early level, so it is sampling
/// close to noise.
///
/// Real GRPO runs fail this way as often as they collapse: token entropy goes from ≈0.1 to 4–8 while
/// completions run to the length cap and reward falls to 0. Absolute thresholds do not transfer between
/// models (healthy LLM entropies range from 0.03 to 0.3 and more), so the trip-wire is a ratio to a
/// baseline the run sets itself: the **median** of its first `baseline_window` finite entropy
/// observations. The median, not the mean, so that a transient excursion inside the baseline window
/// (the real TRL run climbs to 1.7 around steps 40–50, inside its first ten log rows) does not inflate
/// the baseline. The baseline observations are not judged. A baseline that is (almost) zero has no
/// scale; it is discarded and collected again from the next observations.
///
/// After that, each tier counts consecutive observations above its ratio (see `TierStreak`): a warning
/// after `consecutive_steps` observations above `warning_ratio` × baseline, a critical after as many
/// above `critical_ratio` × baseline, once per episode. NaN/±∞ entropies are ignored and do not break a
/// streak.
public final class EntropyExplosionDetector: Detector {
    public let id = DetectorID.entropyExplosion
    private let config: EntropyExplosionConfig
    private var warmup: Warmup
    private var episode = Episode()
    private var streak: TierStreak
    private var baselineSamples: [Double] = []
    private var baseline: Double?

    /// A baseline median at or below this is treated as "no scale" and collected again.
    static let minimumBaseline = 1e-9

    public init(_ config: EntropyExplosionConfig) {
        self.config = config
        warmup = Warmup(steps: config.warmupSteps)
        streak = TierStreak(required: config.consecutiveSteps)
        baselineSamples.reserveCapacity(max(1, config.baselineWindow))
    }

    public func observe(_ step: MetricStep) -> Alert? {
        guard let value = finite(step.entropy) else { return nil }
        let evaluated = warmup.observe()
        guard let baseline else {
            collectBaseline(value)
            return nil
        }
        guard evaluated else { return nil }
        let ratio = value / baseline
        let level = streak.level(
            warning: ratio > config.warningRatio, critical: ratio > config.criticalRatio, episode: episode)
        guard let severity = episode.update(level) else { return nil }
        return alert(step, severity: severity, value: value, baseline: baseline, ratio: ratio)
    }

    /// Adds a baseline observation; fixes the baseline once the window is full and has a scale.
    private func collectBaseline(_ value: Double) {
        baselineSamples.append(value)
        guard baselineSamples.count >= max(1, config.baselineWindow) else { return }
        let median = Self.median(baselineSamples)
        baselineSamples.removeAll(keepingCapacity: true)
        if median > Self.minimumBaseline { baseline = median }
    }

    /// The median of a non-empty array (the mean of the middle two for an even count).
    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    private func alert(_ step: MetricStep, severity: Severity, value: Double, baseline: Double, ratio: Double)
        -> Alert
    {
        let run = severity == .critical ? streak.criticalRun : streak.warningRun
        let times = "\(fixed(ratio, decimals: 1))×"
        var context = ""
        if let clipped = step.clippedRatio {
            context = " \(fixed(clipped * 100, decimals: 0)) % of completions hit the maximum length."
        }
        let message: String
        let recommendation: String
        switch severity {
        case .critical:
            message =
                "Entropy explosion: policy entropy is \(f4(value)), \(times) its early baseline \(f4(baseline)), "
                + "and has stayed above \(formatNumber(config.criticalRatio))× for \(run) consecutive observations "
                + "— the policy is sampling close to noise.\(context)"
            recommendation =
                "Revert to the last checkpoint saved before entropy began to rise: a policy this random rarely "
                + "recovers by itself. Resume with the learning rate cut 2–5×. Check the sampling temperature (above "
                + "1.0 inflates entropy) and the max completion length: completions running to the cap while reward "
                + "falls are the same breakdown seen from the length side. If you train with an entropy bonus, "
                + "lower or remove it."
        case .warning:
            message =
                "Policy entropy is rising far above its baseline: \(f4(value)), \(times) the early baseline "
                + "\(f4(baseline)), above \(formatNumber(config.warningRatio))× for \(run) consecutive observations "
                + "(critical at \(formatNumber(config.criticalRatio))×).\(context)"
            recommendation =
                "Cut the learning rate 2–5× and keep a checkpoint from before the rise at hand. Check the sampling "
                + "temperature and the max completion length, and read a few recent completions for rambling or "
                + "repetition. If entropy keeps climbing, revert to that checkpoint."
        }
        var values: MetricValues = [
            "current_entropy": .double(value),
            "baseline_entropy": .double(baseline),
            "ratio": .double(ratio),
            "consecutive_observations": .int(run),
        ]
        if let length = step.meanCompletionLength { values["mean_completion_length"] = .double(length) }
        if let clipped = step.clippedRatio { values["clipped_ratio"] = .double(clipped) }
        return Alert(
            step: step.step, detector: id, severity: severity, message: message, metricValues: values,
            recommendation: recommendation)
    }
}
