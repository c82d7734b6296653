import Foundation
import RLWatch
import RLWatchCore
import RLWatchSQLite
import RLWatchStore
import RLWatchTesting
import Testing

@testable import RLWatchDashboard

/// What the pages say of a run (open, stalled, crashed, finished) and the charts they draw for the detector inputs.
@Suite struct DashboardRunStateTests {
    static let now = 1_800_000_000.0

    /// Registers `runID` with `configJSON` and 20 steps, one every `interval` seconds, the last `silence` seconds
    /// before ``now``.
    static func seed(
        _ store: any Store, _ runID: String, configJSON: String = "{}", silence: Double, interval: Double = 1,
        extras: [String: Double] = [:], alerts: [(Double, Alert, AlertDisposition)] = []
    ) async throws {
        let last = now - silence
        try await store.registerRun(RunRecord(runID: runID, framework: "trl", startedAt: last - 19 * interval, configJSON: configJSON))
        let rows = (0..<20).map {
            StoredStep(
                runID: runID, segment: 0, timestamp: last - Double(19 - $0) * interval,
                metrics: MetricStep(step: $0, klDivergence: 0.01, loss: 0.1, gradNorm: $0 == 10 ? 2.7e7 : 1, extras: extras))
        }
        try await store.append(
            steps: rows,
            alerts: alerts.map { AlertRecord(runID: runID, timestamp: $0.0, alert: $0.1, disposition: $0.2) })
    }

    static func alert(_ detector: DetectorID, step: Int = 19, severity: Severity = .warning) -> Alert {
        Alert(step: step, detector: detector, severity: severity, message: "m", metricValues: [:], recommendation: "r")
    }

    /// The state each run's row and page show.
    static func states(_ client: HTTPTestClient, _ ids: [String]) async throws -> [String: (list: String, page: String)] {
        let list = try await client.get("/").text
        var out: [String: (list: String, page: String)] = [:]
        for id in ids {
            let row = list.components(separatedBy: "<tr data-run=\"\(id)\"").dropFirst().first ?? ""
            let listState = row.components(separatedBy: "data-state=\"").dropFirst().first?.prefix { $0 != "\"" } ?? "?"
            let page = try await client.get("/run?id=\(id)").text
            let badge = page.components(separatedBy: "id=\"run-state\"").first?.components(separatedBy: "<span class=\"badge ").last?
                .prefix { $0 != "\"" } ?? "?"
            out[id] = (String(listState), String(badge))
        }
        return out
    }

    /// A run whose watchdog raised `run_stalled` (and nothing since) or `run_crashed` is not shown as a green open
    /// run, even while its last row is recent; steps after a stall make it open again; the stall limit is the
    /// run's own (`stall.after_seconds: 30` marks a 60 s silence, which the 600 s default would not).
    @Test func openStallsAndCrashesAndTheRunsOwnStallLimitDecideTheBadge() async throws {
        try await withSQLiteStore { store, _ in
            let now = Self.now
            try await Self.seed(store, "healthy", silence: 60)
            try await Self.seed(store, "stall-raised", silence: 60, alerts: [(now - 10, Self.alert(.runStalled), .delivered)])
            try await Self.seed(
                store, "crashed", silence: 60, alerts: [(now - 30, Self.alert(.runCrashed, severity: .critical), .delivered)])
            try await store.finishRun(id: "crashed", at: now - 30)
            try await Self.seed(
                store, "resumed", silence: 60,
                alerts: [(now - 200, Self.alert(.runStalled, step: 5), .delivered), (now - 60, Self.alert(.runStalled), .suppressed(.resolved))])
            try await Self.seed(store, "own-limit", configJSON: #"{"stall":{"after_seconds":30}}"#, silence: 60)
            try await Self.seed(store, "disabled", configJSON: #"{"stall":{"enabled":false}}"#, silence: 100_000)
            try await Self.seed(store, "finished", silence: 100_000)
            try await store.finishRun(id: "finished", at: now - 100_000)
            try await withDashboard(store: store, now: { now }) { client in
                let states = try await Self.states(
                    client, ["healthy", "stall-raised", "crashed", "resumed", "own-limit", "disabled", "finished"])
                #expect(states["healthy"]?.list == "open" && states["healthy"]?.page == "open")
                #expect(states["stall-raised"]?.list == "stalled" && states["stall-raised"]?.page == "stalled")
                #expect(states["crashed"]?.list == "crashed" && states["crashed"]?.page == "crashed")
                #expect(states["resumed"]?.list == "open" && states["resumed"]?.page == "open")
                #expect(states["own-limit"]?.list == "stalled" && states["own-limit"]?.page == "stalled")
                #expect(states["disabled"]?.list == "open")
                #expect(states["finished"]?.list == "finished" && states["finished"]?.page == "finished")
            }
        }
    }

    /// The stall limit from a run's stored config, as the watchdog computes its warning time.
    @Test func theStallLimitFollowsTheRunsConfig() {
        #expect(RunState.stallLimit(configJSON: "{}", meanInterval: nil) == 600)
        #expect(RunState.stallLimit(configJSON: "{}", meanInterval: 300) == 3000)
        #expect(RunState.stallLimit(configJSON: #"{"stall":{"after_seconds":90,"min_after_seconds":600}}"#, meanInterval: 300) == 90)
        #expect(RunState.stallLimit(configJSON: #"{"stall":{"min_after_seconds":120,"interval_multiplier":4}}"#, meanInterval: 10) == 120)
        #expect(RunState.stallLimit(configJSON: #"{"stall":{"min_after_seconds":120,"interval_multiplier":4}}"#, meanInterval: 60) == 240)
        #expect(RunState.stallLimit(configJSON: #"{"stall":{"enabled":false}}"#, meanInterval: 1) == nil)
    }

    /// The run page charts the inputs that alerts quote (`frac_reward_zero_std`, clipped ratio, mean length) and
    /// offers a log scale for KL, loss and grad norm; a `learning_signal_dead` alert of a run that never logged
    /// `frac_reward_zero_std` is marked on the reward std it was judged on.
    @Test func detectorInputsAreChartedAndSpikyChartsOfferALogScale() async throws {
        try await withSQLiteStore { store, _ in
            let extras = ["frac_reward_zero_std": 0.25, "completions/clipped_ratio": 0.125, "completions/mean_length": 812]
            try await Self.seed(store, "inputs", silence: 5, extras: extras, alerts: [(Self.now - 5, Self.alert(.learningSignalDead), .delivered)])
            try await Self.seed(store, "plain", silence: 5, alerts: [(Self.now - 5, Self.alert(.learningSignalDead), .delivered)])
            try await withDashboard(store: store, now: { Self.now }) { client in
                let page = try await client.get("/run?id=inputs").text
                for id in ["frac_reward_zero_std", "clipped_ratio", "mean_completion_length"] {
                    #expect(page.contains("id=\"chart-\(id)\""), "\(id)")
                }
                for id in ["kl_divergence", "loss", "grad_norm"] {
                    #expect(page.contains("class=\"log-toggle\" data-chart=\"\(id)\""), "\(id)")
                }
                #expect(occurrences(of: "class=\"log-toggle\"", in: page) == 3)
                let data = try Self.pageData(page)
                let charts = try #require(data["charts"] as? [[String: Any]])
                func values(_ id: String) -> [Double] {
                    let chart = charts.first { $0["id"] as? String == id }
                    let series = (chart?["series"] as? [[String: Any]])?.first
                    return (series?["v"] as? [Any])?.compactMap { ($0 as? NSNumber)?.doubleValue } ?? []
                }
                #expect(values("frac_reward_zero_std").count == 20 && values("frac_reward_zero_std").allSatisfy { $0 == 0.25 })
                #expect(values("clipped_ratio").first == 0.125)
                #expect(values("mean_completion_length").first == 812)
                #expect(values("grad_norm").contains(2.7e7))
                let columns = try #require((data["live"] as? [String: Any])?["columns"] as? [String])
                // The detector inputs in registry order (later detectors' charts between them); the mean length is
                // length_hacking's chart, so the charts of the detectors registered after it follow it.
                #expect(
                    columns.filter { ["frac_reward_zero_std", "clipped_ratio", "mean_completion_length"].contains($0) }
                        == ["frac_reward_zero_std", "clipped_ratio", "mean_completion_length"])
                #expect(columns.suffix(2) == ["reward_component_max", "trajectory_staleness"])
                #expect((try Self.pageData(page)["alerts"] as? [[String: Any]])?.first?["chart"] as? String == "frac_reward_zero_std")
                let plain = try Self.pageData(try await client.get("/run?id=plain").text)
                #expect((plain["alerts"] as? [[String: Any]])?.first?["chart"] as? String == "reward_std")
            }
        }
    }

    static func pageData(_ page: String) throws -> [String: Any] {
        let start = try #require(page.range(of: "<script type=\"application/json\" id=\"rlw-data\">"))
        let end = try #require(page.range(of: "</script>", range: start.upperBound..<page.endIndex))
        return try #require(try JSONSerialization.jsonObject(with: Data(page[start.upperBound..<end.lowerBound].utf8)) as? [String: Any])
    }
}
