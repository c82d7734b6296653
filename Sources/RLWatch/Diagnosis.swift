import Foundation
import RLWatchCore
import RLWatchStore

/// The post-hoc health report of one run: what `rlwatch diagnose` prints.
public struct Diagnosis: Sendable {
    public enum Health: String, Sendable { case healthy, warning, critical }

    /// Summary of one metric over the run (finite values only; non-finite ones are counted).
    public struct MetricSummary: Sendable {
        public var metric: MetricName
        public var count: Int
        public var nonFinite: Int
        public var min, max, mean, std, first, last: Double
        public var trend: String
    }

    /// Alerts of different detectors that fired close together, with what to make of the combination.
    public struct CoFiring: Sendable {
        public var fromStep: Int
        public var toStep: Int
        public var detectors: [DetectorID]
        public var advice: String?
    }

    public var run: RunRecord
    public var totalSteps: Int
    public var alerts: [AlertRecord]
    public var summaries: [MetricSummary]
    public var health: Health
    public var assessment: String
    /// The last logged step before the trouble that led to the first critical: where to roll back to.
    public var lastHealthyStep: Int?
    public var firstCriticalStep: Int?
    public var coFiring: [CoFiring]
    /// The checkpoints the trainer saved, by step.
    public var checkpoints: [TrainingCheckpoint] = []
    /// The newest checkpoint saved before the trouble that led to the first critical began: where to resume.
    public var resumeFrom: TrainingCheckpoint?
    /// What was done about the run's alerts (training stopped, commands run), oldest first.
    public var actions: [AlertActionRecord] = []

    /// Alerts closer than this many steps count as firing together.
    public static let coFiringWindow = 20

    public var delivered: [AlertRecord] { alerts.filter { $0.disposition.isDelivered } }

    /// Builds the report from a store.
    public static func load(from store: any Store, runID: String) async throws -> Diagnosis? {
        guard let run = try await store.run(id: runID) else { return nil }
        let steps = try await store.steps(runID: runID)
        let alerts = try await store.alerts(runID: runID)
        let checkpoints = try await store.trainingCheckpoints(runID: runID)
        let actions = try await store.alertActions(runID: runID)
        return Diagnosis(run: run, steps: steps.map(\.metrics), alerts: alerts, checkpoints: checkpoints, actions: actions)
    }

    public init(
        run: RunRecord, steps: [MetricStep], alerts: [AlertRecord], checkpoints: [TrainingCheckpoint] = [],
        actions: [AlertActionRecord] = []
    ) {
        self.checkpoints = checkpoints
        self.actions = actions
        self.run = run
        totalSteps = steps.count
        self.alerts = alerts
        summaries = MetricName.allCases.compactMap { metric in Diagnosis.summarize(metric, steps) }

        health = Diagnosis.health(of: alerts)
        switch health {
        case .healthy:
            assessment = "No instabilities detected during this run."
        case .critical:
            let criticals = alerts.filter { $0.alert.severity == .critical }
            assessment = "Critical instabilities detected: \(Diagnosis.detectorList(criticals))."
        case .warning:
            assessment = "Warning-level issues detected: \(Diagnosis.detectorList(alerts))."
        }

        let ordered = alerts.sorted { ($0.alert.step, $0.id ?? 0) < ($1.alert.step, $1.id ?? 0) }
        firstCriticalStep = ordered.first { $0.alert.severity == .critical }?.alert.step
        if let critical = ordered.first(where: { $0.alert.severity == .critical }) {
            // The last healthy step is the one before the earliest onset of the trouble that led to the first critical.
            let troubleStart = TroubleOnset.start(of: critical.alert, among: ordered.map(\.alert))
            lastHealthyStep = steps.last { $0.step < troubleStart }?.step
            resumeFrom = TrainingCheckpoint.resumePoint(checkpoints, before: troubleStart)
        }
        coFiring = Diagnosis.groupCoFiring(ordered)
    }

    /// A run's health from its alerts, delivered or suppressed: a suppressed critical is still critical.
    public static func health(of alerts: [AlertRecord]) -> Health {
        if alerts.contains(where: { $0.alert.severity == .critical }) { return .critical }
        return alerts.isEmpty ? .healthy : .warning
    }

    private static func detectorList(_ records: [AlertRecord]) -> String {
        Array(Set(records.map(\.alert.detector))).sorted().map(\.rawValue).joined(separator: ", ")
    }

    private static func summarize(_ metric: MetricName, _ steps: [MetricStep]) -> MetricSummary? {
        var moments = Moments()
        var low = Double.infinity, high = -Double.infinity
        var first: Double?, last: Double?
        var nonFinite = 0
        var count = 0
        for step in steps {
            guard let value = step[metric] else { continue }
            count += 1
            guard value.isFinite else { nonFinite += 1; continue }
            moments.add(value)
            low = min(low, value)
            high = max(high, value)
            if first == nil { first = value }
            last = value
        }
        guard count > 0 else { return nil }
        let firstValue = first ?? .nan, lastValue = last ?? .nan
        let trend = lastValue < firstValue ? "decreasing" : (lastValue > firstValue ? "increasing" : "flat")
        return MetricSummary(
            metric: metric, count: count, nonFinite: nonFinite, min: moments.count > 0 ? low : .nan,
            max: moments.count > 0 ? high : .nan, mean: moments.count > 0 ? moments.mean : .nan,
            std: moments.populationStd, first: firstValue, last: lastValue, trend: trend)
    }

    private static func groupCoFiring(_ ordered: [AlertRecord]) -> [CoFiring] {
        var groups: [CoFiring] = []
        var current: [AlertRecord] = []
        func close() {
            let detectors = Array(Set(current.map(\.alert.detector))).sorted()
            if detectors.count >= 2, let first = current.first, let last = current.last {
                groups.append(
                    CoFiring(
                        fromStep: first.alert.step, toStep: last.alert.step, detectors: detectors,
                        advice: advice(for: Set(detectors))))
            }
            current = []
        }
        for record in ordered {
            if let last = current.last, stepDistance(from: last.alert.step, to: record.alert.step) > coFiringWindow { close() }
            current.append(record)
        }
        close()
        return groups
    }

    /// The playbook's reading of detectors that fire together.
    static func advice(for detectors: Set<DetectorID>) -> String? {
        var notes: [String] = []
        if detectors.contains(.gradientNormSpike) && detectors.contains(.lossNaN) {
            notes.append("gradient spike + loss NaN: the spike caused the NaN — add or tighten gradient clipping")
        }
        if detectors.contains(.entropyCollapse) && detectors.contains(.klExplosion) {
            notes.append("entropy collapse + KL explosion: a compounding problem — fix entropy first, then KL")
        }
        if detectors.contains(.advantageVariance)
            && (detectors.contains(.gradientNormSpike) || detectors.contains(.entropyCollapse))
        {
            notes.append("advantage variance spike ahead of instability: normalise advantages")
        }
        if detectors.contains(.rewardHacking) && detectors.contains(.klExplosion) {
            notes.append("reward hacking + KL explosion: the policy found an exploit — inspect completions")
        }
        return notes.isEmpty ? nil : notes.joined(separator: "; ")
    }
}
