import RLWatchCore

/// Feeds steps numbered 1, 2, 3… to a detector and returns (step, alert) for every alert it raised.
func feed(_ detector: any Detector, _ steps: [MetricStep]) -> [Alert] {
    steps.compactMap { detector.observe($0.resolved()) }
}

/// Steps 1…n carrying one metric.
func series(_ metric: MetricName, _ values: [Double?], from first: Int = 1) -> [MetricStep] {
    values.enumerated().map { index, value in
        var step = MetricStep(step: first + index)
        step[metric] = value
        return step
    }
}

/// `count` copies of `value`.
func constant(_ value: Double, _ count: Int) -> [Double?] { Array(repeating: value, count: count) }

/// A deterministic low-noise series around `center` (±`spread`, a 7-step sawtooth).
func sawtooth(_ center: Double, spread: Double, _ count: Int) -> [Double?] {
    (0..<count).map { center + spread * Double($0 % 7 - 3) / 3 }
}

extension Array where Element == Alert {
    var summary: [String] { map { "\($0.step):\($0.severity)" } }
}
