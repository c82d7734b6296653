import Foundation
import RLWatchCore
import RLWatchIngest

/// Replays labelled runs through the detectors, as `rlwatch replay` would with the run's key mapping, and
/// scores the delivered alerts against the labels.
public struct CorpusEvaluator: Sendable {
    /// The configuration every run is replayed with; each run's `keys` are added to its `metrics.keys`.
    public var config: RLWatchConfig

    public init(config: RLWatchConfig = RLWatchConfig()) {
        self.config = config
    }

    /// The steps of a run's log, read as replay reads it (or through its selection).
    public static func steps(of run: CorpusRun) throws -> [MetricStep] {
        let keyMap = MetricKeyMap(overrides: run.keys)
        var steps: [MetricStep] = []
        switch run.format {
        case .trainerState:
            try TrainerStateReader(path: run.file, keyMap: keyMap).forEachStep { steps.append($0) }
        case .jsonl where !run.selection.isRestrictive:
            try MetricsJSONLReader(path: run.file, keyMap: keyMap).forEachStep { steps.append($0) }
        case .jsonl:
            steps = try SelectedRowsReader(path: run.file, format: .jsonl, selection: run.selection, keyMap: keyMap)
                .steps()
        case .csv:
            steps = try SelectedRowsReader(path: run.file, format: .csv, selection: run.selection, keyMap: keyMap)
                .steps()
        }
        return steps
    }

    /// Replays one run and scores it.
    ///
    /// - Throws: what reading the log throws (``MetricsFileError``, ``TrainerStateError``, ``SelectedRowsError``).
    public func evaluate(_ run: CorpusRun) throws -> RunEvaluation {
        var runConfig = config
        runConfig.metrics.keys.merge(run.keys) { _, new in new }
        let analyzer = RunAnalyzer(config: runConfig)
        let steps = try Self.steps(of: run)
        var alerts: [Alert] = []
        for step in steps {
            alerts += analyzer.process(step).delivered
        }
        return RunEvaluation(run: run, steps: steps.map(\.step), alerts: alerts)
    }
}

extension CorpusEvaluator {
    /// Scores alerts raised by another monitor (rlwatch 0.5.1, a peer) on a run, instead of replaying it here.
    ///
    /// The log is still read, for its step numbers (logging interval, healthy steps).
    public static func evaluate(_ run: CorpusRun, externalAlerts: [Alert]) throws -> RunEvaluation {
        RunEvaluation(run: run, steps: try steps(of: run).map(\.step), alerts: externalAlerts)
    }

    /// Reads alerts from a JSONL file, one `{"run": ID, "step": N, "detector": NAME, "severity": "warning" |
    /// "critical"}` per line, grouped by run id.
    ///
    /// - Throws: ``ManifestError`` naming the line and key at fault.
    public static func externalAlerts(_ path: String) throws -> [String: [Alert]] {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8)
        else {
            throw ManifestError(file: path, line: 1, column: 1, key: "", message: "cannot read the alerts file")
        }
        var byRun: [String: [Alert]] = [:]
        for (index, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            if line.allSatisfy(\.isWhitespace) { continue }
            func fail(_ key: String, _ message: String, column: Int = 1) -> ManifestError {
                ManifestError(file: path, line: index + 1, column: column, key: key, message: message)
            }
            let object: JSONValue
            do throws(JSONError) {
                object = try JSONReader.parse(String(line), mode: .pythonLenient)
            } catch {
                throw fail("", "not JSON: \(error.message)", column: error.column)
            }
            guard object.members != nil else { throw fail("", "not a JSON object") }
            guard let run = object["run"]?.text else { throw fail("run", "missing or not a string") }
            guard let step = object["step"]?.integer else { throw fail("step", "missing or not an integer") }
            guard let detector = object["detector"]?.text else { throw fail("detector", "missing or not a string") }
            guard let severity = object["severity"]?.text.flatMap(Severity.init(rawValue:)) else {
                throw fail("severity", "expected \"warning\" or \"critical\"")
            }
            byRun[run, default: []].append(
                Alert(
                    step: step, detector: DetectorID(detector), severity: severity,
                    message: object["message"]?.text ?? "", metricValues: [:], recommendation: ""))
        }
        return byRun
    }
}

/// How one labelled event was caught.
public struct EventResult: Sendable, Hashable {
    public enum Outcome: String, Sendable, Hashable {
        case onTime = "on_time"
        case late
        case missed
    }

    public var event: LabelledEvent
    /// The first alert that caught it, if any.
    public var alert: Alert?
    public var outcome: Outcome
    /// Steps from the onset to the catching alert (0 for a catch at or before the onset).
    public var delaySteps: Int?
    /// That delay in logging intervals.
    public var delayIntervals: Double?
}

/// What the detectors said on one labelled run, and how it scores.
public struct RunEvaluation: Sendable {
    public let run: CorpusRun
    /// Rows replayed.
    public let rowCount: Int
    public let firstStep: Int?
    public let lastStep: Int?
    /// Training steps between log rows: the label's, or the median step gap.
    public let interval: Int
    public let alerts: [Alert]
    public let events: [EventResult]
    /// Alerts inside a healthy stretch that catch no event.
    public let falseAlarms: [Alert]
    /// Alerts on unlabelled steps, or from a detector that does not catch the event whose window they are in.
    public let unscored: [Alert]
    /// Training steps inside healthy stretches (the whole run for a healthy run without stretches).
    public let healthySteps: Int
    /// The stretches that were judged healthy.
    public let healthyStretches: [StepStretch]

    init(run: CorpusRun, steps: [Int], alerts: [Alert]) {
        self.run = run
        self.alerts = alerts
        rowCount = steps.count
        firstStep = steps.min()
        lastStep = steps.max()
        var gaps: [Int] = []
        for (previous, next) in zip(steps, steps.dropFirst()) where next > previous { gaps.append(next - previous) }
        gaps.sort()
        interval = run.interval ?? (gaps.isEmpty ? 1 : max(1, gaps[gaps.count / 2]))
        var stretches = run.healthyStretches
        if run.healthy, stretches.isEmpty, let first = firstStep, let last = lastStep {
            stretches = [StepStretch(from: first, to: last, reason: "healthy run")]
        }
        healthyStretches = stretches
        // Healthy training steps: each stretch clipped to the steps the log covers.
        var healthy = 0
        if let first = firstStep, let last = lastStep {
            for stretch in stretches {
                let low = max(stretch.from, first)
                let high = min(stretch.to, last)
                if high >= low { healthy += high - low + 1 }
            }
        }
        healthySteps = healthy
        let interval = interval
        events = run.events.map { event in
            let catching = alerts.filter { event.detectors.contains($0.detector) && event.covers($0.step) }
            guard let first = catching.min(by: { $0.step < $1.step }) else {
                return EventResult(event: event, alert: nil, outcome: .missed, delaySteps: nil, delayIntervals: nil)
            }
            let delay = max(0, stepDistance(from: event.onset, to: first.step))
            return EventResult(
                event: event, alert: first, outcome: first.step <= event.latest ? .onTime : .late, delaySteps: delay,
                delayIntervals: Double(delay) / Double(interval))
        }
        var falseAlarms: [Alert] = []
        var unscored: [Alert] = []
        for alert in alerts {
            if run.events.contains(where: { $0.detectors.contains(alert.detector) && $0.covers(alert.step) }) {
                continue
            }
            if !run.events.contains(where: { $0.covers(alert.step) }),
                stretches.contains(where: { $0.contains(alert.step) })
            {
                falseAlarms.append(alert)
            } else {
                unscored.append(alert)
            }
        }
        self.falseAlarms = falseAlarms
        self.unscored = unscored
    }
}
