import Foundation
import RLWatchTesting
import Testing

/// `rlwatch replay` reads rlwatch's own metrics export. A real run replayed into the store, exported by the
/// dashboard (`/export/metrics.jsonl` of `rlwatch serve`) and replayed again gives the same alerts, including
/// those of the detectors that read extras: `length_truncation` (`completions/clipped_ratio`) and
/// `learning_signal_dead` (`frac_reward_zero_std`), which the export writes in its `extras` object.
@Suite struct ReplayExportCLITests {
    @Test(.timeLimit(.minutes(5)))
    func replayingTheDashboardExportGivesTheLiveAlerts() async throws {
        let sandbox = try CLISandbox()
        let live = try await sandbox.run(
            ["replay", "--format", "jsonl", "--run-id", "trl", WatchCLITests.trlJSONL], timeout: .seconds(120))
        #expect(live.status == 0, "\(live)")
        let liveAlerts = try Self.alerts(live.stdout)
        #expect(liveAlerts.contains("160 length_truncation/critical"), "\(liveAlerts)")
        #expect(liveAlerts.contains("180 learning_signal_dead/critical"), "\(liveAlerts)")

        let server = try sandbox.start(["serve", "--port", "0"])
        let client = HTTPTestClient(port: try await server.servePort())
        let export = try await client.get("/export/metrics.jsonl?run=trl")
        #expect(try await server.stop().status == 0)
        #expect(export.status == 200)
        let lines = export.text.split(separator: "\n")
        #expect(lines.count == 40)
        let last = String(lines.last ?? "")
        for member in [#""extras":{"#, #""completions/clipped_ratio":1.0,"#, #""frac_reward_zero_std":1.0,"#] {
            #expect(last.contains(member), "\(last)")
        }
        try sandbox.write("rlwatch_metrics.jsonl", export.text)

        let replayed = try await sandbox.run(
            ["replay", "--format", "jsonl", "--no-store", "rlwatch_metrics.jsonl"], timeout: .seconds(120))
        #expect(replayed.status == 0, "\(replayed)")
        #expect(try Self.alerts(replayed.stdout) == liveAlerts)
    }

    /// "STEP detector/severity" of each alert line.
    static func alerts(_ stdout: String) throws -> [String] {
        let alerts = try jsonLines(stdout)
        return zip(alerts.map { $0["step"] as? Int ?? -1 }, detectorSeverities(alerts)).map { "\($0) \($1)" }
    }
}
