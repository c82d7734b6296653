import ArgumentParser
import Foundation
import RLWatch
import RLWatchAlerts
import RLWatchCore

extension RLWatchCommand {
    struct TestAlert: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "test-alert",
            abstract: "Send a clearly labelled test alert through the configured channels and print each outcome.",
            discussion: """
                Uses the same configuration as a monitored run (rlwatch.yaml, RLWATCH_* variables). Nothing is \
                stored. Exits 1 when any channel fails. A critical test alert also pages PagerDuty, when enabled.
                """)

        @OptionGroup var options: StoreOptions

        @Option(
            name: .customLong("channel"),
            help: "Only this channel (slack, email, discord, webhook, pagerduty); repeatable. Default: every enabled one.")
        var channels: [String] = []

        @Option(help: "Severity of the test alert: critical or warning.")
        var severity: String = "critical"

        func validate() throws {
            guard Severity(rawValue: severity) != nil else {
                throw ValidationError("--severity must be critical or warning (got \(severity.debugDescription))")
            }
            for name in channels where AlertChannelName(rawValue: name) == nil {
                throw ValidationError(
                    "unknown --channel \(name.debugDescription); expected one of "
                        + AlertChannelName.allCases.map(\.rawValue).joined(separator: ", "))
            }
        }

        func run() async throws {
            let context = try CommandContext(options)
            let alerts = context.config.alerts
            let names = channels.isEmpty ? alerts.activeChannels : channels.compactMap(AlertChannelName.init(rawValue:))
            guard !names.isEmpty else {
                print("No alert channel is enabled. Set alerts.slack.webhook_url (or RLWATCH_SLACK_WEBHOOK_URL), ")
                print("alerts.discord.webhook_url, alerts.webhook.url, alerts.email.to_addrs or alerts.pagerduty.routing_key.")
                throw ExitStatus.failure
            }
            let alert = Alert(
                step: 0, detector: DetectorID("rlwatch_test_alert"), severity: Severity(rawValue: severity) ?? .critical,
                message: "[TEST] This is a test alert sent by `rlwatch test-alert`. No training run is affected.",
                metricValues: ["test_value": .double(1.0)],
                recommendation: "Nothing to do: this alert checks that rlwatch can reach this channel.")
            // A test should answer in seconds, not wait out a production backoff.
            let policy = RetryPolicy(
                maxAttempts: min(alerts.retry.maxAttempts, 3), initialBackoff: .milliseconds(500),
                maxBackoff: .seconds(min(alerts.retry.maxBackoffSeconds, 5)))
            let runID = "rlwatch-test-alert"
            var failures = 0
            try await withAlertTransport { transport in
                let deliverer = AlertDeliverer(transport: transport, policy: policy, clock: ContinuousClock())
                for name in names {
                    let channel = AlertChannels.channel(name, config: alerts)
                    let reports = await deliverer.deliver(alert, runID: runID, via: channel, now: AnyWallClock.system.date)
                    guard let last = reports.last else { continue }
                    let attempts = "\(reports.count) attempt\(reports.count == 1 ? "" : "s")"
                    switch last.outcome {
                    case .delivered:
                        print("\(name): delivered (\(last.outcome.detail), \(attempts))")
                    case .skipped(let detail):
                        print("\(name): skipped (\(detail))")
                    default:
                        failures += 1
                        print("\(name): FAILED (\(last.outcome.code), \(attempts)): \(last.outcome.detail)")
                    }
                }
            }
            if failures > 0 { throw ExitStatus.failure }
        }
    }
}
