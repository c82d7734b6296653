import Foundation
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
}
