import RLWatchCore

/// What the first steps of a watch carried (see ``InputCoverage``, which the detectors' descriptors read).
typealias WatchCoverage = InputCoverage
