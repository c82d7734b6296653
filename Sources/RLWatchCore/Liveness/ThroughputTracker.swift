/// `throughput_drop`: steps per minute (and tokens per second, when logged) staying below a fraction of the run's
/// own median for a sustained period — a slow node, thermal throttling, a data-loader stall.
///
/// Rates are measured on arrival over the last `window_seconds`. A rate sample is taken at most twice per window,
/// so a client that sends many small batches does not weigh more than one that sends few. The first
/// `warmup_seconds` of the run only build the baseline; afterwards a sample below `drop_fraction` × the median of
/// the healthy samples starts (or continues) a slow episode, which alerts once when it has lasted
/// `sustained_seconds` and ends when the rate is back above the fraction. Samples taken during a slow episode stay
/// out of the baseline, so a long slowdown does not become the new normal before it is reported.
///
/// Judged only when steps arrive: a run that sends nothing at all is `run_stalled`'s, not this detector's.
public struct ThroughputTracker: Sendable {
    /// One measured signal (steps per minute, or tokens per second).
    struct Signal: Sendable {
        var name: String
        var unit: String
        var baseline: [Double] = []
        var baselineHead = 0
        var slowSince: Double?
        var alerted = false
        static let capacity = 512

        init(name: String, unit: String) {
            self.name = name
            self.unit = unit
        }

        mutating func remember(_ rate: Double) {
            if baseline.count < Self.capacity {
                baseline.append(rate)
            } else {
                baseline[baselineHead] = rate
                baselineHead = (baselineHead + 1) % Self.capacity
            }
        }
    }

    private struct Arrival: Sendable {
        var time: Double
        var steps: Int
        /// Tokens processed by these steps (from a cumulative counter), when known.
        var tokens: Double?
        /// Mean logged tokens-per-second value of these steps, when the trainer logs a rate itself.
        var tokenRate: Double?
    }

    public let config: ThroughputConfig
    private var firstArrival: Double?
    private var lastSample: Double?
    private var window: [Arrival] = []
    private var lastTokenCount: Double?
    private var stepSignal = Signal(name: "steps per minute", unit: "steps/min")
    private var tokenSignal = Signal(name: "tokens per second", unit: "tokens/s")

    public init(config: ThroughputConfig) {
        self.config = config
    }

    /// Records a batch of steps arriving at `time`; returns the warning when a slow episode has lasted long enough.
    public mutating func stepsArrived(_ batch: [MetricStep], at time: Double) -> LivenessFinding? {
        guard !batch.isEmpty else { return nil }
        var tokenCount: Double?
        var rates: [Double] = []
        for step in batch {
            if let count = step.firstFiniteExtra(MetricStep.ExtraKey.numTokens) {
                if let last = lastTokenCount, count >= last {
                    tokenCount = (tokenCount ?? 0) + (count - last)
                }
                lastTokenCount = count
            }
            if let rate = step.firstFiniteExtra(MetricStep.ExtraKey.tokensPerSecond) { rates.append(rate) }
        }
        let tokenRate = rates.isEmpty ? nil : rates.reduce(0, +) / Double(rates.count)
        return arrived(steps: batch.count, tokens: tokenCount, tokenRate: tokenRate, lastStep: batch[batch.count - 1].step, at: time)
    }

    mutating func arrived(steps count: Int, tokens: Double?, tokenRate: Double?, lastStep: Int, at time: Double)
        -> LivenessFinding?
    {
        let first = firstArrival ?? time
        firstArrival = first
        window.append(Arrival(time: time, steps: count, tokens: tokens, tokenRate: tokenRate))
        let horizon = time - config.windowSeconds
        if let keep = window.firstIndex(where: { $0.time > horizon }), keep > 0 { window.removeFirst(keep) }
        // A full window of history is needed for a rate, and a sample at most twice per window.
        guard config.enabled, time - first >= config.windowSeconds else { return nil }
        if let lastSample, time - lastSample < config.windowSeconds / 2 { return nil }
        lastSample = time

        let stepRate = Double(window.reduce(0) { $0 + $1.steps }) * 60 / config.windowSeconds
        var finding = Self.judge(&stepSignal, config: config, rate: stepRate, at: time, since: first, lastStep: lastStep)
        let logged = window.compactMap(\.tokenRate)
        let counted = window.compactMap(\.tokens)
        let tokenRateNow: Double? =
            !logged.isEmpty
            ? logged.reduce(0, +) / Double(logged.count)
            : (counted.isEmpty ? nil : counted.reduce(0, +) / config.windowSeconds)
        if let tokenRateNow, let tokenFinding = Self.judge(&tokenSignal, config: config, rate: tokenRateNow, at: time, since: first, lastStep: lastStep) {
            finding = finding ?? tokenFinding
        }
        return finding
    }

    private static func median(of signal: Signal) -> Double? {
        signal.baseline.isEmpty ? nil : medianOf(signal.baseline)
    }

    private static func judge(_ signal: inout Signal, config: ThroughputConfig, rate: Double, at time: Double, since first: Double, lastStep: Int)
        -> LivenessFinding?
    {
        guard time - first >= config.warmupSeconds, let median = median(of: signal), median > 0 else {
            signal.remember(rate)
            return nil
        }
        let floor = config.dropFraction * median
        guard rate < floor else {
            signal.slowSince = nil
            signal.alerted = false
            signal.remember(rate)
            return nil
        }
        let since = signal.slowSince ?? time
        signal.slowSince = since
        guard !signal.alerted, time - since >= config.sustainedSeconds else { return nil }
        signal.alerted = true
        let percent = Int((rate / median * 100).rounded())
        return LivenessFinding(
            alert: Alert(
                step: lastStep, detector: .throughputDrop, severity: .warning,
                message: "Throughput dropped: \(formatFixed(rate, decimals: 1)) \(signal.unit) over the last "
                    + "\(describeDuration(config.windowSeconds)), \(percent)% of this run's median "
                    + "\(formatFixed(median, decimals: 1)) \(signal.unit), for \(describeDuration(time - since)).",
                metricValues: [
                    signal.unit == "steps/min" ? "steps_per_minute" : "tokens_per_second": .double((rate * 100).rounded() / 100),
                    "median": .double((median * 100).rounded() / 100),
                    "fraction_of_median": .double((rate / median * 1000).rounded() / 1000),
                    "slow_for_seconds": .double((time - since).rounded()),
                ],
                recommendation: "Find the slow part: compare per-rank step times (one slow or throttled GPU slows "
                    + "every rank in a synchronous step), check GPU clocks and temperature (nvidia-smi -q -d "
                    + "PERFORMANCE), data-loader wait time and disk/network I/O, and whether completion lengths grew "
                    + "(longer generations are slower but expected). Replace or drain a bad node and resume from "
                    + "the last checkpoint if it does not recover.",
                magnitude: rate > 0 ? median / rate : .infinity))
    }
}
