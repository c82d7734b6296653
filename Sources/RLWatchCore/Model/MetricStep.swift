/// The canonical metric names rlwatch knows, in storage and display order.
public enum MetricName: String, Sendable, Hashable, CaseIterable, Codable {
    case entropy
    case klDivergence = "kl_divergence"
    case rewardMean = "reward_mean"
    case rewardStd = "reward_std"
    case advantageStd = "advantage_std"
    case loss
    case gradNorm = "grad_norm"
    case learningRate = "learning_rate"
    case clipFraction = "clip_fraction"
}

/// The metrics of one training step, as a trainer logged them.
///
/// Every metric is optional: `nil` means "not logged this step" and is invisible to the detectors.
/// Non-finite values are kept (they are what the loss-NaN and gradient detectors look for).
public struct MetricStep: Sendable, Hashable {
    public var step: Int
    public var entropy: Double?
    public var klDivergence: Double?
    public var rewardMean: Double?
    public var rewardStd: Double?
    /// Per-sample rewards of the step's rollouts (for example one per completion in a GRPO group).
    public var rewards: [Double]?
    public var advantageStd: Double?
    public var loss: Double?
    public var gradNorm: Double?
    public var learningRate: Double?
    public var clipFraction: Double?
    /// Any other scalar the trainer logged (for example `completions/clipped_ratio`), by its key.
    public var extras: [String: Double]

    public init(
        step: Int, entropy: Double? = nil, klDivergence: Double? = nil, rewardMean: Double? = nil,
        rewardStd: Double? = nil, rewards: [Double]? = nil, advantageStd: Double? = nil, loss: Double? = nil,
        gradNorm: Double? = nil, learningRate: Double? = nil, clipFraction: Double? = nil,
        extras: [String: Double] = [:]
    ) {
        self.step = step
        self.entropy = entropy
        self.klDivergence = klDivergence
        self.rewardMean = rewardMean
        self.rewardStd = rewardStd
        self.rewards = rewards
        self.advantageStd = advantageStd
        self.loss = loss
        self.gradNorm = gradNorm
        self.learningRate = learningRate
        self.clipFraction = clipFraction
        self.extras = extras
    }

    /// The value of a canonical metric.
    public subscript(metric: MetricName) -> Double? {
        get {
            switch metric {
            case .entropy: entropy
            case .klDivergence: klDivergence
            case .rewardMean: rewardMean
            case .rewardStd: rewardStd
            case .advantageStd: advantageStd
            case .loss: loss
            case .gradNorm: gradNorm
            case .learningRate: learningRate
            case .clipFraction: clipFraction
            }
        }
        set {
            switch metric {
            case .entropy: entropy = newValue
            case .klDivergence: klDivergence = newValue
            case .rewardMean: rewardMean = newValue
            case .rewardStd: rewardStd = newValue
            case .advantageStd: advantageStd = newValue
            case .loss: loss = newValue
            case .gradNorm: gradNorm = newValue
            case .learningRate: learningRate = newValue
            case .clipFraction: clipFraction = newValue
            }
        }
    }

    /// The smallest and largest finite per-sample reward, if any.
    public var rewardRange: (min: Double, max: Double)? {
        guard let rewards else { return nil }
        var low = Double.infinity
        var high = -Double.infinity
        for value in rewards where value.isFinite {
            if value < low { low = value }
            if value > high { high = value }
        }
        return low <= high ? (low, high) : nil
    }

    /// This step with `reward_mean` / `reward_std` derived from `rewards` where they were not given.
    ///
    /// The mean and the population standard deviation are taken over the finite samples only, so one
    /// NaN reward does not turn the step's statistics into NaN (rlwatch 0.5.1 propagates it). An
    /// explicit value always wins over the derived one. A step whose samples are all non-finite gets NaN.
    public func resolved() -> MetricStep {
        guard let rewards, rewardMean == nil || rewardStd == nil else { return self }
        var copy = self
        let moments = Moments(finiteValuesOf: rewards)
        if copy.rewardMean == nil { copy.rewardMean = moments.count > 0 ? moments.mean : .nan }
        if copy.rewardStd == nil { copy.rewardStd = moments.count > 0 ? moments.populationStd : .nan }
        return copy
    }
}

extension MetricStep {
    /// A 64-bit fingerprint of everything the step carries: the step number, each metric's presence and bits, the
    /// per-sample rewards and the extras in key order (every NaN counts as the same value: stores do not keep NaN
    /// payloads). Each 64-bit word is scrambled (splitmix64's finaliser) and folded in FNV style, a few ns a word.
    /// Equal steps have equal fingerprints; a run uses it to recognise a step sent twice.
    public var fingerprint: UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ word: UInt64) {
            var z = word &+ 0x9e37_79b9_7f4a_7c15
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            hash = (hash ^ (z ^ (z >> 31))) &* 0x0000_0100_0000_01b3
        }
        func mix(_ value: Double?) {
            guard let value else { return mix(UInt64(0)) }
            mix(UInt64(1))
            mix(value.isNaN ? Double.nan.bitPattern : value.bitPattern)
        }
        mix(UInt64(bitPattern: Int64(step)))
        for name in MetricName.allCases { mix(self[name]) }
        if let rewards {
            mix(UInt64(rewards.count) + 1)
            for value in rewards { mix(value.isNaN ? Double.nan.bitPattern : value.bitPattern) }
        } else {
            mix(UInt64(0))
        }
        mix(UInt64(extras.count))
        for key in extras.keys.sorted() {
            var word: UInt64 = 0
            var filled = 0
            for byte in key.utf8 {
                word = word << 8 | UInt64(byte)
                filled += 1
                if filled == 8 {
                    mix(word)
                    word = 0
                    filled = 0
                }
            }
            mix(word << 8 | 0xff)  // the key's tail and its end
            mix(extras[key])
        }
        return hash
    }
}
