extension MetricStep {
    /// The framework keys of the extras that detectors read, in one place.
    ///
    /// These metrics have no canonical column: ingest keeps any unmapped numeric key in
    /// ``MetricStep/extras`` under its original name, so detectors look them up by the names the
    /// frameworks really log. Where frameworks disagree the list is in priority order (the first finite
    /// value wins), TRL's current name first.
    public enum ExtraKey {
        /// TRL GRPO: the fraction of prompt groups whose completions all got the same reward
        /// (zero advantage, so nothing to learn from that group).
        public static let fracRewardZeroStd = ["frac_reward_zero_std"]
        /// The fraction of completions cut at the maximum completion length: TRL ≥ 0.16, veRL.
        public static let clippedRatio = ["completions/clipped_ratio", "response_length/clip_ratio"]
        /// The mean completion length in tokens: TRL ≥ 0.16, veRL, TRL < 0.16.
        public static let meanCompletionLength = [
            "completions/mean_length", "response_length/mean", "completion_length",
        ]
        /// The number of tokens processed so far (cumulative): TRL's `num_tokens`.
        public static let numTokens = ["num_tokens"]
        /// Tokens per second, as the trainer measures it: veRL's `perf/throughput`.
        public static let tokensPerSecond = ["perf/throughput"]
    }

    /// The first finite value among `keys` in the extras, or nil.
    public func firstFiniteExtra(_ keys: [String]) -> Double? {
        for key in keys {
            if let value = extras[key], value.isFinite { return value }
        }
        return nil
    }

    /// The fraction of prompt groups with zero reward variance, when the trainer logs it.
    public var fracRewardZeroStd: Double? { firstFiniteExtra(ExtraKey.fracRewardZeroStd) }
    /// The fraction of completions truncated at the maximum length, when the trainer logs it.
    public var clippedRatio: Double? { firstFiniteExtra(ExtraKey.clippedRatio) }
    /// The mean completion length in tokens, when the trainer logs it.
    public var meanCompletionLength: Double? { firstFiniteExtra(ExtraKey.meanCompletionLength) }
}
