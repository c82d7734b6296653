import Foundation
import RLWatchAlerts
import RLWatchCore

enum Fixtures {
    static let runID = "run-1"
    /// 2023-11-14T22:13:20.5Z.
    static let now = Date(timeIntervalSince1970: 1_700_000_000.5)

    static let critical = Alert(
        step: 42, detector: .entropyCollapse, severity: .critical, message: "Entropy fell to 0.1000.",
        metricValues: ["current_entropy": .double(0.1), "baseline": .null, "steps": .int(50)],
        recommendation: "Lower the LR.")

    static var warning: Alert {
        var alert = critical
        alert.severity = .warning
        return alert
    }

    /// Fast retries for tests.
    static let quickRetry = RetryPolicy(maxAttempts: 3, initialBackoff: .milliseconds(20), maxBackoff: .milliseconds(100))
}
