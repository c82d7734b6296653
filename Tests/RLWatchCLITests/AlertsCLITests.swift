import Foundation
import RLWatchTesting
import Testing

/// `rlwatch test-alert` and `rlwatch alerts` end to end; secrets never printed.
@Suite struct AlertsCLITests {
    @Test func testAlertReportsEachChannelWithoutPrintingSecrets() async throws {
        let sandbox = try CLISandbox()
        // Nothing listens on port 1: both channels fail at once, and the command exits 1.
        try sandbox.write(
            "rlwatch.yaml",
            """
            alerts:
              pagerduty: {url: "http://127.0.0.1:1/v2/enqueue"}
              retry: {max_attempts: 1}
            """)
        let result = try await sandbox.run(
            ["test-alert"],
            environment: [
                "RLWATCH_WEBHOOK_URL": "http://127.0.0.1:1/hooks/SECRETPATH",
                "RLWATCH_PAGERDUTY_ROUTING_KEY": "PDKEYSECRET",
            ])
        #expect(result.status == 1, "\(result)")
        #expect(result.stdout.contains("webhook: FAILED (retryable, 1 attempt)"), "\(result)")
        #expect(result.stdout.contains("pagerduty: FAILED (retryable, 1 attempt)"), "\(result)")
        #expect(!(result.stdout + result.stderr).contains("SECRETPATH"))
        #expect(!(result.stdout + result.stderr).contains("PDKEYSECRET"))

        let show = try await sandbox.run(["config", "show"], environment: ["RLWATCH_PAGERDUTY_ROUTING_KEY": "PDKEYSECRET"])
        #expect(show.status == 0)
        #expect(!show.stdout.contains("PDKEYSECRET"))
        #expect(show.stdout.contains("routing_key: \"***\""), "\(show)")
    }

    @Test func testAlertWithoutChannelsSaysHowToEnableOne() async throws {
        let sandbox = try CLISandbox()
        let result = try await sandbox.run(["test-alert"])
        #expect(result.status == 1)
        #expect(result.stdout.contains("No alert channel is enabled"))
        let unknown = try await sandbox.run(["test-alert", "--channel", "pager"])
        #expect(unknown.status == 2)
    }

    @Test func alertsListsNothingForARunWithoutChannels() async throws {
        let sandbox = try CLISandbox()
        #expect(try await sandbox.run(["demo", "--steps", "300", "--log-dir", "logs"]).status == 0)
        let result = try await sandbox.run(["alerts", "--log-dir", "logs"])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("No alert deliveries recorded."))
        #expect(try await sandbox.run(["alerts", "--pending", "--failed", "--log-dir", "logs"]).status == 2)
    }

    @Test func serveQueuesAlertsAndAlertsShowsTheFailedDeliveryRedacted() async throws {
        let sandbox = try CLISandbox()
        try sandbox.write("rlwatch.yaml", "alerts:\n  retry: {max_attempts: 1}\n")
        let server = try sandbox.start(
            ["serve", "--port", "0", "--log-dir", "logs"],
            environment: ["RLWATCH_WEBHOOK_URL": "http://127.0.0.1:1/hooks/SECRETPATH"])
        let port = try await server.servePort()
        let client = HTTPTestClient(port: port)
        #expect(try await client.post("/api/v1/runs", json: ["run_id": "served"]).status == 201)
        var steps: [[String: Any]] = (1...30).map { ["step": $0, "loss": 0.3] }
        steps.append(["step": 31, "loss": "NaN"])
        #expect(try await client.post("/api/v1/runs/served/steps", json: steps).status == 200)
        // The dispatcher tries once (nothing listens on port 1) and gives up; bounded wait for that.
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .seconds(20))
        var failed = try await sandbox.run(["alerts", "--failed", "--log-dir", "logs"])
        while clock.now < deadline && !failed.stdout.contains("webhook") {
            try await Task.sleep(for: .milliseconds(100))
            failed = try await sandbox.run(["alerts", "--failed", "--log-dir", "logs"])
        }
        let stopped = try await server.stop(signal: SIGTERM)
        #expect(stopped.exited && stopped.status == 0, "\(server.stderr)")
        #expect(failed.stdout.contains("loss_nan"), "\(failed)")
        #expect(failed.stdout.contains("failed"), "\(failed)")
        #expect(!(failed.stdout + server.stderr).contains("SECRETPATH"))
        let all = try await sandbox.run(["alerts", "--run-id", "served", "--attempts", "--log-dir", "logs"])
        #expect(all.stdout.contains("webhook #1"), "\(all)")
        #expect(try await sandbox.run(["alerts", "--pending", "--log-dir", "logs"]).stdout.contains("No pending deliveries."))
    }

    @Test func watchQueuesAlertsForTheChannelsAndTriesThemBeforeExiting() async throws {
        let sandbox = try CLISandbox()
        try sandbox.write("rlwatch.yaml", "alerts:\n  retry: {max_attempts: 1}\n")
        var lines = (1...30).map { "{\"step\": \($0), \"loss\": 0.3}" }
        lines.append("{\"step\": 31, \"loss\": NaN}")
        try sandbox.write("metrics.jsonl", lines.joined(separator: "\n") + "\n")
        let watch = try await sandbox.run(
            ["watch", "metrics.jsonl", "--no-follow", "--run-id", "watched", "--log-dir", "logs"],
            environment: ["RLWATCH_WEBHOOK_URL": "http://127.0.0.1:1/hooks/SECRETPATH"])
        #expect(watch.status == 0, "\(watch)")
        #expect(!(watch.stdout + watch.stderr).contains("SECRETPATH"))
        // The watch gave the dispatcher its one attempt (nothing listens on port 1) before it exited.
        let failed = try await sandbox.run(["alerts", "--failed", "--run-id", "watched", "--log-dir", "logs"])
        #expect(failed.stdout.contains("loss_nan") && failed.stdout.contains("webhook"), "\(failed)")
        #expect(try await sandbox.run(["alerts", "--pending", "--log-dir", "logs"]).stdout.contains("No pending deliveries."))
    }
}
