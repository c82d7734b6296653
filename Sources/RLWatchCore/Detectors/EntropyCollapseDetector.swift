/// Entropy collapse: the policy stopped exploring and repeats itself.
///
/// Counts consecutive evaluated observations with entropy below `threshold`: a warning at half of
/// `consecutive_steps` (at least 1), a critical at `consecutive_steps`, once per collapse episode.
/// NaN/±∞ entropies are ignored (rlwatch 0.5.1 counted a NaN as a recovery).
public final class EntropyCollapseDetector: Detector {
    public let id = DetectorID.entropyCollapse
    private let config: EntropyCollapseConfig
    private var warmup: Warmup
    private var episode = Episode()
    private var consecutiveBelow = 0
    /// The first 20 finite observations: the "from" in "dropped from X to Y".
    private var initial = Moments()

    public init(_ config: EntropyCollapseConfig) {
        self.config = config
        warmup = Warmup(steps: config.warmupSteps)
    }

    public func observe(_ step: MetricStep) -> Alert? {
        guard let value = finite(step.entropy) else { return nil }
        if initial.count < 20 { initial.add(value) }
        guard warmup.observe() else { return nil }
        consecutiveBelow = value < config.threshold ? consecutiveBelow + 1 : 0
        let criticalAt = max(1, config.consecutiveSteps)
        let warningAt = max(1, config.consecutiveSteps / 2)
        let level: Severity? =
            consecutiveBelow >= criticalAt ? .critical : (consecutiveBelow >= warningAt ? .warning : nil)
        guard let severity = episode.update(level) else { return nil }

        let threshold = formatNumber(config.threshold)
        let message: String
        let recommendation: String
        switch severity {
        case .critical:
            message =
                "Entropy collapse: policy entropy fell from \(fixed(initial.mean, decimals: 2)) to \(f4(value)) "
                + "and has stayed below \(threshold) for \(consecutiveBelow) consecutive steps — the model has "
                + "stopped exploring."
            recommendation =
                "Cut the learning rate 5–10× (the fix most of the time), raise the KL penalty coefficient 2–3× "
                + "and/or the entropy bonus. If entropy is already very low the current policy may not recover: "
                + "roll back to the last checkpoint where entropy was healthy and resume with the lower "
                + "learning rate."
        case .warning:
            message =
                "Policy entropy is declining: \(f4(value)), below \(threshold) for \(consecutiveBelow) consecutive "
                + "steps (critical at \(criticalAt))."
            recommendation =
                "Act while it is still recoverable: lower the learning rate (about 5×) or raise the KL penalty "
                + "or entropy bonus, and watch whether entropy keeps falling."
        }
        return Alert(
            step: step.step, detector: id, severity: severity, message: message,
            metricValues: [
                "current_entropy": .double(value),
                "initial_entropy": .double(initial.mean),
                "consecutive_steps_below": .int(consecutiveBelow),
                "threshold": .double(config.threshold),
            ],
            recommendation: recommendation)
    }
}
