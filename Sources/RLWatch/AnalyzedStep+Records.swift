import RLWatchCore
import RLWatchStore

extension AnalyzedStep {
    /// The rows this step is stored as: its metrics row and one alert row per candidate (delivered or
    /// suppressed), all stamped with `timestamp`. Shared by the live monitor and the replay engine.
    func records(runID: String, timestamp: Double) -> (step: StoredStep, alerts: [AlertRecord]) {
        (
            StoredStep(runID: runID, segment: segment, timestamp: timestamp, metrics: metrics),
            outcomes.map {
                AlertRecord(runID: runID, timestamp: timestamp, alert: $0.alert, disposition: $0.disposition)
            }
        )
    }
}
