import Prometheus
import RLWatchCore
import RLWatchDashboard

/// What `GET /metrics` reports, in Prometheus' text format.
final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let stepsIngested: Counter
    private let batchesAccepted: Counter
    private let batchesRejected: Counter
    private let batchesReplayed: Counter
    private let openRuns: Gauge
    private let connectionGauges: [(state: String, gauge: Gauge)]

    init() {
        stepsIngested = registry.makeCounter(descriptor: Self.name("rlwatch_steps_ingested_total", help: "Steps judged and stored, over all runs."))
        batchesAccepted = registry.makeCounter(descriptor: Self.name("rlwatch_batches_total", help: "Step batches by outcome."), labels: [("outcome", "accepted")])
        batchesRejected = registry.makeCounter(descriptor: Self.name("rlwatch_batches_total", help: "Step batches by outcome."), labels: [("outcome", "rejected")])
        batchesReplayed = registry.makeCounter(descriptor: Self.name("rlwatch_batches_total", help: "Step batches by outcome."), labels: [("outcome", "replayed")])
        openRuns = registry.makeGauge(descriptor: Self.name("rlwatch_open_runs", help: "Runs with live detector state on this server."))
        let connections = Self.name(
            "rlwatch_http_connections",
            help: "HTTP connections: open and busy now; refused (503 at the cap) and evicted (idle, to make room) since start.")
        let registry = registry
        connectionGauges = ["open", "busy", "refused", "evicted"].map {
            ($0, registry.makeGauge(descriptor: connections, labels: [("state", $0)]))
        }
        // Every detector and severity appears from the start, at zero, so that dashboards and rate() see them.
        for detector in DetectorID.all {
            for severity in [Severity.warning, .critical] { _ = alertCounter(detector: detector, severity: severity) }
        }
    }

    func accepted(steps: Int, alerts: [Alert]) {
        batchesAccepted.increment()
        stepsIngested.increment(by: Int64(steps))
        for alert in alerts { alertCounter(detector: alert.detector, severity: alert.severity).increment() }
    }

    func rejected() { batchesRejected.increment() }
    func replayed() { batchesReplayed.increment() }

    func setOpenRuns(_ count: Int) { openRuns.set(Double(count)) }

    func setConnections(_ connections: ConnectionRegistry) {
        let values = [
            "open": connections.open, "busy": connections.busy, "refused": connections.refused,
            "evicted": connections.evicted,
        ]
        for (state, gauge) in connectionGauges { gauge.set(Double(values[state] ?? 0)) }
    }

    /// Request latency per route (the route pattern, not the concrete path, to bound the label's values).
    func requestDuration(route: String, method: String) -> DurationHistogram {
        registry.makeDurationHistogram(
            descriptor: Self.name("rlwatch_http_request_duration_seconds", help: "HTTP request latency by route."),
            labels: [("route", route), ("method", method)],
            buckets: [.milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
                      .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5)])
    }

    private func alertCounter(detector: DetectorID, severity: Severity) -> Counter {
        registry.makeCounter(
            descriptor: Self.name("rlwatch_alerts_total", help: "Alerts raised and delivered, by detector and severity."),
            labels: [("detector", detector.rawValue), ("severity", severity.rawValue)])
    }

    private static func name(_ name: String, help: String) -> MetricNameDescriptor {
        // The name is given whole; the unit is part of it (`_total`, `_seconds`).
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    func render() -> String { registry.emitToString() }
}
