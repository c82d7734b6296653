import RLWatchCore

/// Steps 1…n carrying one extra (a framework key kept in `MetricStep.extras`); nil leaves it out.
func extraSeries(_ key: String, _ values: [Double?], from first: Int = 1) -> [MetricStep] {
    values.enumerated().map { index, value in
        var step = MetricStep(step: first + index)
        if let value { step.extras[key] = value }
        return step
    }
}
