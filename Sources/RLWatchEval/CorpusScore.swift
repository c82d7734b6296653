import RLWatchCore

/// The scores of a set of evaluated runs: catches, misses, false alarms, delays and one summary score.
///
/// The summary score follows the Numenta Anomaly Benchmark's idea (reward early detection inside a window,
/// penalise false positives and misses) with its low-false-positive weights:
/// - a required or optional event caught on time scores 1 at its onset, falling linearly to 0.5 at `latest`;
/// - caught late (after `latest`, up to `end`) scores at most 0.25, falling to 0 at `end`;
/// - a required event missed scores −1 (an optional one 0);
/// - each false alarm scores −0.22.
/// The raw sum is normalised to 100 for a perfect monitor (every event caught at its onset, no false alarm)
/// and 0 for one that never speaks; it can go below 0.
public struct CorpusScore: Sendable {
    public static let falseAlarmWeight = 0.22

    public var runs = 0
    public var healthyRuns = 0
    public var requiredEvents = 0
    public var requiredOnTime = 0
    public var requiredLate = 0
    public var requiredMissed = 0
    public var optionalEvents = 0
    public var optionalCaught = 0
    public var falseAlarms = 0
    /// False alarms on runs labelled healthy as a whole.
    public var falseAlarmsOnHealthyRuns = 0
    /// Healthy runs with at least one false alarm.
    public var healthyRunsWithFalseAlarms = 0
    public var healthySteps = 0
    public var unscoredAlerts = 0
    public var delaysSteps: [Int] = []
    public var delaysIntervals: [Double] = []
    public var raw = 0.0
    public var perfect = 0.0
    public var null = 0.0

    public init() {}

    public init(_ evaluations: [RunEvaluation]) {
        for evaluation in evaluations { add(evaluation) }
    }

    /// The score one event contributes.
    public static func points(_ result: EventResult) -> Double {
        let event = result.event
        switch result.outcome {
        case .missed:
            return event.required ? -1 : 0
        case .onTime:
            let delay = Double(result.delaySteps ?? 0)
            let span = Double(max(1, stepDistance(from: event.onset, to: event.latest)))
            return 1 - 0.5 * min(1, delay / span)
        case .late:
            let step = Double(result.alert?.step ?? event.end)
            let span = max(1, Double(stepDistance(from: event.latest, to: event.end)) + 1)
            return 0.25 * max(0, 1 - (step - Double(event.latest)) / span)
        }
    }

    public mutating func add(_ evaluation: RunEvaluation) {
        runs += 1
        if evaluation.run.healthy {
            healthyRuns += 1
            falseAlarmsOnHealthyRuns += evaluation.falseAlarms.count
            if !evaluation.falseAlarms.isEmpty { healthyRunsWithFalseAlarms += 1 }
        }
        for result in evaluation.events {
            let event = result.event
            perfect += 1
            if event.required {
                requiredEvents += 1
                null -= 1
                switch result.outcome {
                case .onTime: requiredOnTime += 1
                case .late: requiredLate += 1
                case .missed: requiredMissed += 1
                }
                if result.outcome == .onTime, let delay = result.delaySteps, let intervals = result.delayIntervals {
                    delaysSteps.append(delay)
                    delaysIntervals.append(intervals)
                }
            } else {
                optionalEvents += 1
                if result.outcome != .missed { optionalCaught += 1 }
            }
            raw += Self.points(result)
        }
        falseAlarms += evaluation.falseAlarms.count
        raw -= Self.falseAlarmWeight * Double(evaluation.falseAlarms.count)
        healthySteps += evaluation.healthySteps
        unscoredAlerts += evaluation.unscored.count
    }

    /// The normalised score: 100 for a perfect monitor, 0 for a silent one.
    public var score: Double {
        guard perfect > null else { return falseAlarms == 0 ? 100 : -Self.falseAlarmWeight * Double(falseAlarms) }
        return 100 * (raw - null) / (perfect - null)
    }

    /// The share of required events caught on time.
    public var onTimeRate: Double { requiredEvents == 0 ? 1 : Double(requiredOnTime) / Double(requiredEvents) }
    /// False alarms on healthy runs per 10 healthy runs.
    public var falseAlarmsPer10HealthyRuns: Double {
        healthyRuns == 0 ? 0 : 10 * Double(falseAlarmsOnHealthyRuns) / Double(healthyRuns)
    }
    /// False alarms per 1,000 healthy training steps.
    public var falseAlarmsPer1000HealthySteps: Double {
        healthySteps == 0 ? 0 : 1000 * Double(falseAlarms) / Double(healthySteps)
    }
    /// The median detection delay of on-time required catches, in logging intervals.
    public var medianDelayIntervals: Double? { Self.median(delaysIntervals) }
    public var medianDelaySteps: Double? { Self.median(delaysSteps.map(Double.init)) }

    static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    /// The targets a landing is measured against (see the README's "Detection quality").
    public struct Targets: Sendable {
        public var onTimeRate = 0.9
        public var medianDelayIntervals = 1.0
        public var falseAlarmsPer10HealthyRuns = 1.0
        public var falseAlarmsPer1000HealthySteps = 0.2

        public init() {}
    }

    /// Each target with whether it is met.
    public func targets(_ targets: Targets = Targets()) -> [(name: String, value: String, met: Bool)] {
        [
            (
                "required failures caught on time ≥ \(fixed(targets.onTimeRate * 100, decimals: 0)) %",
                "\(fixed(onTimeRate * 100, decimals: 1)) %", onTimeRate >= targets.onTimeRate
            ),
            (
                "median delay ≤ \(formatNumber(targets.medianDelayIntervals)) logging interval",
                medianDelayIntervals.map { fixed($0, decimals: 2) } ?? "n/a",
                (medianDelayIntervals ?? 0) <= targets.medianDelayIntervals
            ),
            (
                "false alarms per 10 healthy runs ≤ \(formatNumber(targets.falseAlarmsPer10HealthyRuns))",
                fixed(falseAlarmsPer10HealthyRuns, decimals: 2),
                falseAlarmsPer10HealthyRuns <= targets.falseAlarmsPer10HealthyRuns
            ),
            (
                "false alarms per 1,000 healthy steps ≤ \(formatNumber(targets.falseAlarmsPer1000HealthySteps))",
                fixed(falseAlarmsPer1000HealthySteps, decimals: 3),
                falseAlarmsPer1000HealthySteps <= targets.falseAlarmsPer1000HealthySteps
            ),
        ]
    }
}
