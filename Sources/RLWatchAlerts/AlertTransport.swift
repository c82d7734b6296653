import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import RLWatchCore

/// Sends what a channel built and reports the outcome of that one attempt. Never throws: every failure is an
/// ``AttemptOutcome`` whose text has been scrubbed of the channel's secrets.
public protocol AlertTransport: Sendable {
    /// One attempt.
    func send(_ request: ChannelRequest, via channel: any AlertChannel) async -> AttemptOutcome
}

/// The real transport: HTTP(S) through one shared AsyncHTTPClient (certificates verified, redirects not followed
/// so that a webhook URL's secret path is never replayed to another host), email through ``SMTPMailer``.
public struct NetworkAlertTransport: AlertTransport {
    /// The HTTP client; owned by whoever created it (see ``withAlertTransport(logger:_:)``).
    public let client: HTTPClient
    public let logger: Logger

    /// - Parameters:
    ///   - client: the HTTP client to send with.
    ///   - logger: for the transport's own debug messages.
    public init(client: HTTPClient, logger: Logger = .current) {
        self.client = client
        self.logger = logger
    }

    /// The client configuration rlwatch uses: TLS verification on (the default), no redirects, a 10 s connect
    /// timeout, and no silent reconnecting inside one attempt (a refused connection is reported at once and retried
    /// by the ``RetryPolicy``, where it is logged).
    public static var clientConfiguration: HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow, timeout: .init(connect: .seconds(10)))
        configuration.connectionPool.retryConnectionEstablishment = false
        // The dispatcher keeps up to 16 sends in flight, often to one host (a webhook): AsyncHTTPClient's default
        // of 8 connections per host would queue half of them behind slow answers.
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 16
        return configuration
    }

    /// The most of a response body read for the delivery log.
    static let maxBodyBytes = 4096

    public func send(_ request: ChannelRequest, via channel: any AlertChannel) async -> AttemptOutcome {
        let scrubber = SecretScrubber(channel.secrets)
        switch request {
        case .http(let http):
            return await sendHTTP(http, channel: channel, scrubber: scrubber)
        case .email(let message):
            return await SMTPMailer(logger: logger).send(message, scrubber: scrubber)
        }
    }

    private func sendHTTP(_ http: HTTPChannelRequest, channel: any AlertChannel, scrubber: SecretScrubber) async
        -> AttemptOutcome
    {
        var request = HTTPClientRequest(url: http.url)
        request.method = HTTPMethod(rawValue: http.method)
        for header in http.headers { request.headers.add(name: header.name, value: header.value) }
        request.headers.replaceOrAdd(name: "User-Agent", value: "rlwatch")
        request.body = .bytes(ByteBuffer(string: http.body))
        let timeout = TimeAmount.nanoseconds(
            Int64(http.timeout.components.seconds) * 1_000_000_000 + http.timeout.components.attoseconds / 1_000_000_000)
        do {
            let response = try await client.execute(request, timeout: timeout)
            var body = ByteBuffer()
            for try await chunk in response.body {
                var chunk = chunk
                body.writeBuffer(&chunk)
                if body.readableBytes >= Self.maxBodyBytes { break }
            }
            let text = String(decoding: body.readableBytesView.prefix(Self.maxBodyBytes), as: UTF8.self)
            let answer = ChannelResponse(
                status: Int(response.status.code), retryAfter: response.headers.first(name: "Retry-After"),
                bodyExcerpt: scrubber.scrub(text), date: response.headers.first(name: "Date"))
            return channel.classify(answer)
        } catch {
            return .retryable(status: nil, detail: scrubber.scrub(Self.describe(error)), retryAfter: nil)
        }
    }

    /// A short, actionable text for a transport error.
    static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .writeTimeout: return "timed out"
            case .connectTimeout: return "connect timed out"
            default: return "HTTP client error: \(error)"
            }
        }
        return "connection failed: \(error)"
    }
}

/// Runs `body` with a transport whose HTTP client lives exactly as long as the call.
///
/// - Parameters:
///   - logger: passed to the transport.
///   - body: the work that sends alerts.
/// - Returns: what `body` returns.
/// - Throws: what `body` throws.
public func withAlertTransport<Result: Sendable>(
    logger: Logger = .current,
    _ body: (NetworkAlertTransport) async throws -> Result
) async throws -> Result {
    let client = HTTPClient(
        eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: NetworkAlertTransport.clientConfiguration)
    let result: Result
    do {
        result = try await body(NetworkAlertTransport(client: client, logger: logger))
    } catch {
        try? await client.shutdown()
        throw error
    }
    try await client.shutdown()
    return result
}
