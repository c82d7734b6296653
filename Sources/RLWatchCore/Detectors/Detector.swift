/// One failure-mode check, fed every step of a run in order.
///
/// A detector keeps its own state (windows, counters, episode) and returns at most one alert per step.
/// It never throws and never traps on any input: nil, NaN, ±∞, empty arrays and constant series are
/// all ordinary input. Detectors are reference types owned by exactly one `DetectorSuite`; they are
/// not shared between tasks.
public protocol Detector: AnyObject {
    var id: DetectorID { get }
    /// Judges one step (already `resolved()`), returning an alert when an episode starts or escalates.
    func observe(_ step: MetricStep) -> Alert?
}

/// All enabled detectors of one run.
public final class DetectorSuite {
    public let detectors: [any Detector]

    public init(config: RLWatchConfig) {
        detectors = DetectorRegistry.makeDetectors(config)
    }

    public init(detectors: [any Detector]) {
        self.detectors = detectors
    }

    /// Runs every detector on one resolved step, in registry order.
    public func observe(_ step: MetricStep) -> [Alert] {
        var alerts: [Alert] = []
        for detector in detectors {
            if let alert = detector.observe(step) { alerts.append(alert) }
        }
        return alerts
    }
}

/// The finite value of an optional metric, or nil when it is absent or NaN/±∞.
@inline(__always)
func finite(_ value: Double?) -> Double? {
    guard let value, value.isFinite else { return nil }
    return value
}

/// A non-finite value's kind as users read it: `NaN`, `+Inf` or `-Inf`.
func nonFiniteKind(_ value: Double) -> String {
    value.isNaN ? "NaN" : (value > 0 ? "+Inf" : "-Inf")
}

/// `value` with four decimals, the precision alert messages use.
@inline(__always)
func f4(_ value: Double) -> String { fixed(value, decimals: 4) }
