/// Reward hacking: the reward distribution suddenly got strange — far more variance than before, or two
/// clusters where there was one.
///
/// **Variance check.** The current reward variance (`reward_std²`) against the top of the run's own range: the
/// 90th percentile of its last `baseline_window` non-zero variances (see ``RobustBaseline``): warning above
/// `variance_multiplier` ×, critical above twice it — and, like every ratio test here, only when the variance also stands 3 robust
/// standard deviations (1.4826 × MAD) above that median and the condition holds on three observations in a row
/// (see ``SpikeRule``). With 4–8 completions per step a healthy run's reward std jumps between 0 and 0.5 from
/// one step to the next: a test that does not know how noisy its own statistic is fires on that noise. Zero
/// variances (every sample scored the same) stay out of the baseline, so a stretch of all-zero rewards cannot
/// become a baseline that makes every later step look 20× "exploded". While reward is climbing clearly (see
/// ``RewardTrend``), a rising variance is the model starting to solve the task (a [0, 1] reward's variance
/// p(1 − p) grows as accuracy leaves 0), and the check stays quiet.
///
/// **Bimodality check.** A Hartigan dip test on the last 200 per-sample rewards, run on steps that bring
/// new samples when the variance check is quiet. It applies only when the baseline samples were
/// continuous and unimodal: discrete rewards (0/1 correctness, a few partial-credit levels) are two- or
/// few-valued by construction and the dip test would call them bimodal on every step, so a
/// distribution that was already few-valued or bimodal in the baseline is never "suddenly bimodal".
///
/// **Saturation check** (not in rlwatch 0.5.1). The textbook reward-hacking run does the opposite of
/// exploding: the proxy reward climbs to its ceiling for every sample, its std collapses to ~1e-4, and
/// KL to the reference climbs steadily as the policy walks away from it. Baselines are the medians of
/// the first 10 finite observations, or of the first 3 or more spanning 20 training steps (reward mean and
/// std together, a std baseline of zero discarded as for the variance check; KL on its own, from any step
/// that logs it). A step matches when the reward
/// std is at most `saturation_std_fraction` of its baseline, the reward mean is at least
/// `saturation_reward_rise` baseline stds (or, for a bounded reward, 25 % of its level) above its baseline mean, KL is at least the larger of
/// `saturation_kl_multiplier` × its baseline and `saturation_min_kl`, and KL is still rising (the mean
/// of its last 5 observations at least 10 % above that of the oldest 5 of its last 20; with fewer than
/// 20 kept, of a quarter of them at each end, from 8 on). Warning
/// once matching observations have covered `saturation_consecutive_steps` training steps in a row (see
/// ``TierStreak``); critical when KL is also past three times the warning level for as long.
///
/// Warmup counts the steps that carry reward data (rlwatch 0.5.1 counted every step).
public final class RewardHackingDetector: Detector {
    public let id = DetectorID.rewardHacking
    private let config: RewardHackingConfig
    private var warmup: Warmup
    /// The variance check: `reward_std²` against the top of its own recent range.
    private var varianceSpikes: SpikeTracker
    private var bimodalEpisode = Episode()
    private var samples: SampleRing
    private var baselineShape = BaselineShape.unknown
    private var scratch: [Double] = []
    private var intScratch: [Int] = []
    private var saturation: SaturationState
    private var saturationStreak: TierStreak
    private var saturationEpisode = Episode()
    private var saturationClock = StepClock()
    /// Judged over the last 3 reward means: the observations a variance episode needs.
    private var trend = RewardTrend(recentWindow: 3)

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
        saturation = SaturationState()
        saturationStreak = TierStreak(required: config.saturationConsecutiveSteps)
        varianceSpikes = SpikeTracker(
            warmupSteps: config.warmupSteps, window: max(2, config.baselineWindow), mode: .rolling,
            rule: SpikeRule(
                warningRatio: config.varianceMultiplier, criticalRatio: 2 * config.varianceMultiplier, sigma: 3,
                persistence: 3, criticalAlone: false, upperRangeFraction: 1))
    }

    public func observe(_ step: MetricStep) -> Alert? {
        saturation.observeKL(finite(step.klDivergence), step: step.step)
        trend.observe(step.rewardMean, step: step.step)
        let newSamples = step.rewards.map { samples.appendFinite($0) } ?? 0
        let variance = finite(step.rewardStd).map { $0 * $0 }
        guard variance != nil || newSamples > 0 else { return nil }
        let evaluated = warmup.observe(step.step)
        let saturationAlert = checkSaturation(step, evaluated: evaluated)

        let tick = varianceSpikes.tick(step.step)
        let judged = variance.flatMap { varianceSpikes.observe($0, step: step.step, tick: tick) }
        // The dip test's baseline shape is judged once the variance baseline has formed.
        if baselineShape == .unknown, varianceSpikes.hasBaseline, samples.count >= Self.minimumSamples {
            let (_, p, continuous) = dipTest()
            baselineShape = continuous && p >= config.dipTestSignificance ? .unimodal : .notApplicable
        }
        if let judged, let stats = judged.baseline, let value = variance, trend.isImproving != true {
            return varianceAlert(step, severity: judged.severity, variance: value, baseline: stats.median, ratio: judged.ratio)
                .withOnset(judged.onsetStep)
        }
        guard evaluated else { return saturationAlert }
        if varianceSpikes.episode.isActive { return saturationAlert }
        if let saturationAlert { return saturationAlert }
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

    /// Feeds the saturation check one reward observation; returns its alert, if one is due.
    private func checkSaturation(_ step: MetricStep, evaluated: Bool) -> Alert? {
        guard let mean = finite(step.rewardMean), let std = finite(step.rewardStd) else { return nil }
        guard let baseline = saturation.observeReward(mean: mean, std: std, step: step.step), evaluated else { return nil }
        guard let kl = finite(step.klDivergence), let klBaseline = saturation.klBaseline else {
            // No KL this step: the condition cannot be judged; neither extend nor break the streak.
            return nil
        }
        let klLevel = max(config.saturationKLMultiplier * klBaseline, config.saturationMinKL)
        let stdRatio = std / baseline.std
        let saturated =
            stdRatio <= config.saturationStdFraction
            && mean >= baseline.mean + rise(baseline)
            && saturation.klIsRising
        let warning = saturated && kl >= klLevel
        let critical = warning && kl >= 3 * klLevel
        let tick = saturationClock.tick(step.step)
        let level = saturationStreak.level(
            warning: warning, critical: critical, tick: tick, episode: saturationEpisode)
        guard let severity = saturationEpisode.update(level) else { return nil }
        let klRatio = klBaseline > 0 ? kl / klBaseline : Double.infinity
        return Alert(
            step: step.step, detector: id, severity: severity,
            message:
                "Reward saturated near its ceiling while KL climbs: reward mean \(f4(mean)) (baseline "
                + "\(f4(baseline.mean))), reward std \(formatNumber(std)) = \(fixed(100 * stdRatio, decimals: 2)) % of "
                + "its baseline \(f4(baseline.std)), KL \(f4(kl)) (\(fixed(klRatio, decimals: 1))× its baseline "
                + "\(formatNumber(klBaseline))) and rising — every sample scores the same high reward as the policy "
                + "drifts from the reference: the classic sign of a policy exploiting the reward.",
            metricValues: [
                "reward_mean": .double(mean),
                "baseline_reward_mean": .double(baseline.mean),
                "reward_std": .double(std),
                "baseline_reward_std": .double(baseline.std),
                "std_ratio": .double(stdRatio),
                "kl_divergence": .double(kl),
                "baseline_kl": .double(klBaseline),
                "kl_ratio": .double(klRatio),
            ],
            recommendation: Self.recommendation)
    }

    /// How far the reward mean must climb above its baseline: `saturation_reward_rise` baseline stds, or a quarter
    /// of the baseline's own level when that is less. A bounded reward cannot climb 2 stds: with 0/1 rewards at
    /// 50 % accuracy (mean 0.5, std 0.5) the ceiling is 1 std away, so the std rule alone never fired on the runs
    /// that hack a [0, 1] reward — the collapsed std and the climbing KL are the evidence there.
    private func rise(_ baseline: SaturationState.RewardBaseline) -> Double {
        min(config.saturationRewardRise * baseline.std, max(0.25 * abs(baseline.mean), 1e-9))
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

/// The baselines and recent KL history behind the saturation check.
///
/// Reward mean and std are recorded in pairs so both baselines describe the same early steps; KL is
/// recorded from every step that logs it, rewards or not. A baseline is the median of the first
/// ``baselineCount`` observations, or of fewer (at least ``baselineMinimum``) when they already span
/// ``baselineSteps`` training steps, so a run logged every 10 steps does not take its first 100 steps —
/// much of a steady KL rise — as "early".
private struct SaturationState {
    struct RewardBaseline {
        var mean: Double
        var std: Double
    }

    static let baselineCount = 10
    static let baselineMinimum = 3
    static let baselineSteps = 20
    /// KL observations the rising test spans, and how many at each end it averages.
    static let klHistory = 20
    static let klEnds = 5
    static let klMinimumHistory = 8
    /// How much the recent end must exceed the older end for KL to count as rising.
    static let klRise = 1.1

    private var rewardMeans: [Double] = []
    private var rewardStds: [Double] = []
    private var rewardFirstStep: Int?
    private(set) var rewardBaseline: RewardBaseline?
    private var earlyKL: [Double] = []
    private var klFirstStep: Int?
    private(set) var klBaseline: Double?
    private var recentKL: [Double] = []
    private var recentNext = 0

    /// Whether observations from `first` to `step`, `count` of them, are enough for a baseline.
    private static func isComplete(count: Int, first: Int, step: Int) -> Bool {
        count >= baselineCount || (count >= baselineMinimum && stepDistance(from: first, to: step) >= baselineSteps)
    }

    /// Records a reward observation and returns the reward baseline once it is formed.
    mutating func observeReward(mean: Double, std: Double, step: Int) -> RewardBaseline? {
        if let rewardBaseline { return rewardBaseline }
        let first = rewardFirstStep ?? step
        rewardFirstStep = first
        rewardMeans.append(mean)
        rewardStds.append(std)
        if Self.isComplete(count: rewardMeans.count, first: first, step: step) {
            let baselineStd = EarlyMedian.median(rewardStds)
            if baselineStd > 1e-12 {
                rewardBaseline = RewardBaseline(mean: EarlyMedian.median(rewardMeans), std: baselineStd)
            }
            // A zero std (constant rewards) has no scale: start over with the next observations.
            rewardMeans.removeAll()
            rewardStds.removeAll()
            rewardFirstStep = nil
        }
        // The observations that formed the baseline are not judged.
        return nil
    }

    mutating func observeKL(_ kl: Double?, step: Int) {
        guard let kl else { return }
        if klBaseline == nil {
            let first = klFirstStep ?? step
            klFirstStep = first
            earlyKL.append(kl)
            if Self.isComplete(count: earlyKL.count, first: first, step: step) {
                klBaseline = EarlyMedian.median(earlyKL)
                earlyKL = []
            }
        }
        if recentKL.count < Self.klHistory {
            recentKL.append(kl)
        } else {
            recentKL[recentNext] = kl
            recentNext = (recentNext + 1) % Self.klHistory
        }
    }

    /// Whether the last few KL observations stand clearly above the oldest few of the last ``klHistory``
    /// (a quarter of those kept at each end, at most ``klEnds``; judged from ``klMinimumHistory`` on, so a
    /// run logged every 10 steps is judged after 80 steps, not 200).
    var klIsRising: Bool {
        let count = recentKL.count
        guard count >= Self.klMinimumHistory else { return false }
        let ends = min(Self.klEnds, count / 4)
        let oldest = count < Self.klHistory ? 0 : recentNext
        var older = 0.0
        var newer = 0.0
        for offset in 0..<ends {
            older += recentKL[(oldest + offset) % count]
            newer += recentKL[(oldest + count - 1 - offset) % count]
        }
        return newer > 0 && newer >= Self.klRise * older
    }
}

extension RewardHackingDetector {
    /// The detector's entry in ``DetectorRegistry``.
    // swift-format-ignore
    public static let descriptor = DetectorDescriptor(
        id: .rewardHacking, summary: "Reward variance exploding, or per-sample rewards turning bimodal.",
        enabled: \.rewardHacking.enabled,
        fields: [
            .double("reward_hacking.variance_multiplier", \.rewardHacking.varianceMultiplier, .positive,
                    "Warning when reward variance exceeds the baseline by this factor; critical above 2x (> 0)."),
            .double("reward_hacking.dip_test_significance", \.rewardHacking.dipTestSignificance, .openUnitInterval,
                    "Dip-test p-value below which per-sample rewards count as bimodal (between 0 and 1)."),
            .int("reward_hacking.baseline_window", \.rewardHacking.baselineWindow, .window(atLeast: 0),
                 "Reward variances kept for the baseline (0-100000)."),
            .int("reward_hacking.warmup_steps", \.rewardHacking.warmupSteps, .nonNegative,
                 "Training steps to see before this detector may fire (>= 0)."),
            .double("reward_hacking.saturation_std_fraction", \.rewardHacking.saturationStdFraction, .unitFraction,
                    "Saturation: reward std at or below this fraction of its early baseline (> 0, <= 1)."),
            .double("reward_hacking.saturation_reward_rise", \.rewardHacking.saturationRewardRise, .nonNegative,
                    "Saturation: reward mean at least this many baseline stds above its baseline mean (>= 0)."),
            .double("reward_hacking.saturation_kl_multiplier", \.rewardHacking.saturationKLMultiplier, .positive,
                    "Saturation: KL at this many times its early baseline and rising; 3x that level: critical (> 0)."),
            .double("reward_hacking.saturation_min_kl", \.rewardHacking.saturationMinKL, .nonNegative,
                    "Saturation: and KL at least this absolute value (>= 0)."),
            .int("reward_hacking.saturation_consecutive_steps", \.rewardHacking.saturationConsecutiveSteps, .atLeast(1),
                 "Saturation: training steps in a row the condition must hold (>= 1)."),
        ],
        inputs: [
            DetectorInput(
                check: "reward_hacking variance check",
                name: { $0.metrics.contains(.rewardStd) ? "reward_std" : "per-sample rewards" },
                missing: { coverage in
                    guard !coverage.rewardStd else { return nil }
                    return "no reward_std and no per-sample rewards"
                        + (coverage.looksLikeVeRL ? " (veRL logs critic/score/mean, max and min, no std)" : "")
                }),
            DetectorInput(
                check: "reward_hacking bimodality check", name: { _ in "per-sample rewards" },
                missing: {
                    $0.perSampleRewards
                        ? nil : "no per-sample \"rewards\" array (trainers do not log one by default)"
                }),
            DetectorInput(
                check: "reward_hacking saturation check", name: { _ in "reward_mean, reward_std, kl_divergence" },
                missing: {
                    $0.rewardMean && $0.rewardStd && $0.metrics.contains(.klDivergence)
                        ? nil : "needs reward mean, reward std and KL together"
                }),
        ],
        chart: .metric(.rewardStd)
    ) { RewardHackingDetector($0.rewardHacking) }
}
