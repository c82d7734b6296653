/// Reward hacking: the reward distribution suddenly got strange — far more variance than before, or two
/// clusters where there was one.
///
/// **Variance check.** The current reward variance (`reward_std²`) against a frozen baseline, the mean
/// of the first 20 finite variances (or `baseline_window`, if smaller): warning above
/// `variance_multiplier`, critical above twice it. A baseline that is (near) zero — constant rewards —
/// has no scale; it is discarded and the next 20 observations are used instead, so a sparse-reward run
/// does not turn its first non-zero reward into a critical.
///
/// **Bimodality check.** A Hartigan dip test on the last 200 per-sample rewards, run on steps that bring
/// new samples when the variance check is quiet. It applies only when the baseline samples were
/// continuous and unimodal: discrete rewards (0/1 correctness, a few partial-credit levels) are two- or
/// few-valued by construction and the dip test would call them bimodal on every step, so a
/// distribution that was already few-valued or bimodal in the baseline is never "suddenly bimodal".
///
/// Warmup counts the steps that carry reward data (rlwatch 0.5.1 counted every step).
public final class RewardHackingDetector: Detector {
    public let id = DetectorID.rewardHacking
    private let config: RewardHackingConfig
    private var warmup: Warmup
    private var baselineCollector = Moments()
    private var baselineVariance: Double?
    private var varianceEpisode = Episode()
    private var bimodalEpisode = Episode()
    private var samples: SampleRing
    private var baselineShape = BaselineShape.unknown
    private var scratch: [Double] = []
    private var intScratch: [Int] = []

    private enum BaselineShape {
        case unknown
        /// Continuous and unimodal: emerging bimodality is news.
        case unimodal
        /// Discrete or already bimodal: the dip test does not apply to this run.
        case notApplicable
    }

    /// Per-sample rewards kept for the dip test.
    public static let sampleBufferSize = 200
    /// Fewest samples the dip test runs on.
    public static let minimumSamples = 50

    public init(_ config: RewardHackingConfig) {
        self.config = config
        warmup = Warmup(steps: config.warmupSteps)
        samples = SampleRing(capacity: Self.sampleBufferSize)
    }

    public func observe(_ step: MetricStep) -> Alert? {
        let variance = finite(step.rewardStd).map { $0 * $0 }
        let newSamples = step.rewards.map { samples.appendFinite($0) } ?? 0
        guard variance != nil || newSamples > 0 else { return nil }
        let evaluated = warmup.observe()

        if let variance, baselineVariance == nil {
            baselineCollector.add(variance)
            if baselineCollector.count >= max(1, min(20, config.baselineWindow)) {
                if baselineCollector.mean > 1e-12 {
                    baselineVariance = baselineCollector.mean
                } else {
                    baselineCollector = Moments()
                }
            }
        }
        if baselineShape == .unknown, baselineVariance != nil, samples.count >= Self.minimumSamples {
            let (_, p, continuous) = dipTest()
            baselineShape = continuous && p >= config.dipTestSignificance ? .unimodal : .notApplicable
        }
        guard evaluated, let baseline = baselineVariance else { return nil }

        if let variance {
            let ratio = variance / baseline
            let level: Severity? =
                ratio > 2 * config.varianceMultiplier
                ? .critical : (ratio > config.varianceMultiplier ? .warning : nil)
            if let severity = varianceEpisode.update(level, magnitude: ratio) {
                return varianceAlert(step, severity: severity, variance: variance, baseline: baseline, ratio: ratio)
            }
            if level != nil { return nil }
        }
        guard newSamples > 0, baselineShape == .unimodal, samples.count >= Self.minimumSamples else { return nil }
        let (dip, p, continuous) = dipTest()
        let bimodal = continuous && p < config.dipTestSignificance
        guard bimodalEpisode.update(bimodal ? .warning : nil) != nil else { return nil }
        return Alert(
            step: step.step, detector: id, severity: .warning,
            message:
                "Per-sample rewards became bimodal: Hartigan dip test p = \(f4(p)) < "
                + "\(formatNumber(config.dipTestSignificance)) (dip \(f4(dip)) over \(samples.count) samples) after a "
                + "unimodal baseline — one cluster of completions may be exploiting the reward.",
            metricValues: [
                "dip_statistic": .double(dip),
                "dip_p_value": .double(p),
                "reward_mean": step.rewardMean.map(MetricValue.double) ?? .null,
                "n_samples": .int(samples.count),
            ],
            recommendation: Self.recommendation)
    }

    private static let recommendation =
        "Inspect the completions at this step first: look for repeated tokens, format gaming, length "
        + "exploitation or keyword stuffing. Then cap rewards to a sane range (e.g. [-2, 2]), regularise the "
        + "reward model, or ensemble 2–3 reward models and take the minimum. Lowering the learning rate does "
        + "not fix reward hacking — the policy just reaches the exploit more slowly."

    private func varianceAlert(
        _ step: MetricStep, severity: Severity, variance: Double, baseline: Double, ratio: Double
    ) -> Alert {
        Alert(
            step: step.step, detector: id, severity: severity,
            message:
                "Reward variance exploded \(fixed(ratio, decimals: 1))× above its baseline (\(f4(variance)) vs "
                + "\(f4(baseline))) — some samples may have found an exploit that others have not.",
            metricValues: [
                "current_variance": .double(variance),
                "baseline_variance": .double(baseline),
                "variance_ratio": .double(ratio),
                "reward_mean": step.rewardMean.map(MetricValue.double) ?? .null,
                "reward_std": step.rewardStd.map(MetricValue.double) ?? .null,
            ],
            recommendation: Self.recommendation, magnitude: ratio)
    }

    /// The dip test on the sample buffer, and whether the samples look continuous (many distinct values).
    private func dipTest() -> (dip: Double, p: Double, continuous: Bool) {
        samples.copy(into: &scratch)
        scratch.sort()
        var distinct = scratch.isEmpty ? 0 : 1
        for i in scratch.indices.dropFirst() where scratch[i] != scratch[i - 1] { distinct += 1 }
        let continuous = distinct >= max(10, scratch.count / 4)
        if intScratch.count < DipTest.scratchCount(forSampleCount: scratch.count) {
            intScratch = Array(repeating: 0, count: DipTest.scratchCount(forSampleCount: scratch.count))
        }
        let dip = scratch.withUnsafeBufferPointer { sorted in
            intScratch.withUnsafeMutableBufferPointer { DipTest.statistic(sorted: sorted, scratch: $0) }
        }
        return (dip, DipTest.pValue(dip: dip, n: scratch.count), continuous)
    }
}
