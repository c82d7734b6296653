import RLWatchCore

/// A deterministic noisy series at real scales: `center` × (1 ± `relative` noise), from a fixed-seed LCG.
func noisy(_ center: Double, relative: Double, _ count: Int, seed: UInt64 = 7) -> [Double] {
    var state = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
    return (0..<count).map { _ in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        let unit = Double(state >> 11) / Double(1 << 53)  // [0, 1)
        return center * (1 + relative * (2 * unit - 1))
    }
}

/// Steps logged every `interval` steps from `interval`, each carrying the given extras.
func loggedEvery(_ interval: Int, _ rows: [[String: Double]]) -> [MetricStep] {
    rows.enumerated().map { index, extras in MetricStep(step: (index + 1) * interval, extras: extras) }
}
