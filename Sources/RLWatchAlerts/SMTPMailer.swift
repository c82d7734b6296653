import Logging

/// Sends an ``EmailMessage`` over SMTP.
///
/// Not implemented yet: every attempt is reported as a configuration error, so an email outbox entry fails
/// visibly instead of being retried forever. (STARTTLS / implicit TLS on swift-nio-ssl is the next increment.)
struct SMTPMailer: Sendable {
    let logger: Logger

    func send(_ message: EmailMessage, scrubber: SecretScrubber) async -> AttemptOutcome {
        .configurationError(detail: "email delivery over SMTP is not implemented in this build")
    }
}
