import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// Sends an ``EmailMessage`` over SMTP on swift-nio: STARTTLS (the default, as 0.5.1) or implicit TLS, AUTH PLAIN
/// or LOGIN only when both user and password are set (and never over an unencrypted connection), a connect timeout
/// and a timeout on every command.
///
/// 4xx replies and network failures are retryable; 5xx replies are permanent failures.
struct SMTPMailer: Sendable {
    let logger: Logger

    func send(_ message: EmailMessage, scrubber: SecretScrubber) async -> AttemptOutcome {
        do {
            try await SMTPSession.deliver(message)
            return .delivered(status: nil)
        } catch let error as SMTPFailure {
            let detail = scrubber.scrub(error.detail)
            switch error.kind {
            case .permanent: return .failed(status: error.code, detail: detail)
            case .transient: return .retryable(status: error.code, detail: detail, retryAfter: nil)
            case .configuration: return .configurationError(detail: detail)
            }
        } catch {
            return .retryable(status: nil, detail: scrubber.scrub("SMTP connection failed: \(error)"), retryAfter: nil)
        }
    }
}

/// Why an SMTP exchange stopped.
struct SMTPFailure: Error {
    enum Kind {
        case transient
        case permanent
        case configuration
    }

    var kind: Kind
    /// The reply code, when the server sent one.
    var code: Int?
    var detail: String
}

/// One reply: its code and text lines.
struct SMTPReply {
    var code: Int
    var lines: [String]

    var text: String { lines.joined(separator: " / ") }
}

/// One SMTP conversation.
private final class SMTPSession {
    let message: EmailMessage
    let channel: any Channel
    var lines: AsyncStream<String>.AsyncIterator
    let timedOut = TimeoutFlag()
    var isEncrypted: Bool

    /// Set by the command timer when it closed the connection.
    final class TimeoutFlag: Sendable {
        let value = Atomic<Bool>(false)
    }

    private init(message: EmailMessage, channel: any Channel, lines: AsyncStream<String>, encrypted: Bool) {
        self.message = message
        self.channel = channel
        self.lines = lines.makeAsyncIterator()
        self.isEncrypted = encrypted
    }

    static func deliver(_ message: EmailMessage) async throws {
        let implicitTLS = message.security == .tls
        let sslContext = try makeSSLContext(message)
        let (stream, continuation) = AsyncStream.makeStream(of: String.self)
        let timeout = TimeAmount.milliseconds(Int64(message.timeout.seconds * 1000))
        let host = message.host
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if implicitTLS {
                        try channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(context: sslContext, serverHostname: Self.sniHostname(host)))
                    }
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(SMTPLineDecoder()))
                    try channel.pipeline.syncOperations.addHandler(SMTPLineForwarder(continuation: continuation))
                }
            }
            .connect(host: host, port: message.port).get()
        let session = SMTPSession(
            message: message, channel: channel, lines: stream, encrypted: implicitTLS)
        do {
            try await session.run(sslContext: sslContext)
            try? await channel.close()
        } catch {
            try? await channel.close()
            throw error
        }
    }

    private static func makeSSLContext(_ message: EmailMessage) throws -> NIOSSLContext {
        var tls = TLSConfiguration.makeClientConfiguration()
        if !message.caCertificateFile.isEmpty {
            do {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(message.caCertificateFile))
            } catch {
                throw SMTPFailure(
                    kind: .configuration, code: nil,
                    detail: "alerts.email.ca_cert_file: cannot read \(message.caCertificateFile): \(error)")
            }
        }
        return try NIOSSLContext(configuration: tls)
    }

    /// SNI takes a host name, not an IP address.
    private static func sniHostname(_ host: String) -> String? {
        host.allSatisfy({ $0.isNumber || $0 == "." || $0 == ":" }) ? nil : host
    }

    private func run(sslContext: NIOSSLContext) async throws {
        try await expect(reply(), 220, "greeting")
        var capabilities = try await ehlo()
        if message.security == .starttls {
            guard capabilities.contains(where: { $0.uppercased().hasPrefix("STARTTLS") }) else {
                throw SMTPFailure(
                    kind: .permanent, code: nil,
                    detail: "the server \(message.host):\(message.port) does not offer STARTTLS "
                        + "(set alerts.email.security to tls for port 465)")
            }
            try await expect(command("STARTTLS"), 220, "STARTTLS")
            let channel = channel
            let hostname = Self.sniHostname(message.host)
            // The TLS handler goes first in the pipeline, below the line decoder, built on the channel's event loop.
            try await channel.eventLoop.submit {
                try channel.pipeline.syncOperations.addHandler(
                    NIOSSLClientHandler(context: sslContext, serverHostname: hostname), position: .first)
            }.get()
            isEncrypted = true
            capabilities = try await ehlo()
        }
        if !message.user.isEmpty && !message.password.isEmpty {
            guard isEncrypted else {
                throw SMTPFailure(
                    kind: .configuration, code: nil,
                    detail: "refusing to send the SMTP password over an unencrypted connection (alerts.email.security: none)")
            }
            try await authenticate(capabilities)
        }
        try await expect(command("MAIL FROM:<\(message.from)>"), 250, "MAIL FROM")
        for recipient in message.to {
            let answer = try await command("RCPT TO:<\(recipient)>")
            guard answer.code == 250 || answer.code == 251 else { throw failure(answer, "RCPT TO") }
        }
        try await expect(command("DATA"), 354, "DATA")
        try await expect(command(MIMEMessage.render(message).dotStuffed + "\r\n."), 250, "message")
        _ = try? await command("QUIT")
    }

    private func ehlo() async throws -> [String] {
        let answer = try await command("EHLO rlwatch.localhost")
        guard answer.code == 250 else { throw failure(answer, "EHLO") }
        return Array(answer.lines.dropFirst())
    }

    private func authenticate(_ capabilities: [String]) async throws {
        let mechanisms = capabilities.first { $0.uppercased().hasPrefix("AUTH") }.map {
            Set($0.uppercased().split(whereSeparator: { $0 == " " || $0 == "=" }).dropFirst().map(String.init))
        } ?? []
        if mechanisms.contains("LOGIN") && !mechanisms.contains("PLAIN") {
            try await expect(command("AUTH LOGIN"), 334, "AUTH LOGIN")
            try await expect(command(Data(message.user.utf8).base64EncodedString()), 334, "AUTH LOGIN user")
            try await expect(command(Data(message.password.utf8).base64EncodedString()), 235, "AUTH LOGIN")
        } else {
            let token = Data(("\u{0}" + message.user + "\u{0}" + message.password).utf8).base64EncodedString()
            try await expect(command("AUTH PLAIN \(token)"), 235, "AUTH PLAIN")
        }
    }

    private func expect(_ answer: SMTPReply, _ code: Int, _ step: String) throws {
        guard answer.code == code else { throw failure(answer, step) }
    }

    private func failure(_ answer: SMTPReply, _ step: String) -> SMTPFailure {
        let kind: SMTPFailure.Kind = (400..<500).contains(answer.code) ? .transient : .permanent
        return SMTPFailure(kind: kind, code: answer.code, detail: "SMTP \(step) refused: \(answer.code) \(answer.text)")
    }

    private func command(_ line: String) async throws -> SMTPReply {
        try await channel.writeAndFlush(ByteBuffer(string: line + "\r\n"))
        return try await reply()
    }

    /// Reads one (possibly multi-line) reply, closing the connection when it takes longer than the timeout.
    private func reply() async throws -> SMTPReply {
        let timedOut = timedOut
        let channel = channel
        let timer = channel.eventLoop.scheduleTask(in: .milliseconds(Int64(message.timeout.seconds * 1000))) {
            timedOut.value.store(true, ordering: .relaxed)
            channel.close(promise: nil)
        }
        defer { timer.cancel() }
        var collected: [String] = []
        while let line = await lines.next() {
            guard line.count >= 3, let code = Int(line.prefix(3)) else {
                throw SMTPFailure(kind: .transient, code: nil, detail: "SMTP server sent an unreadable reply")
            }
            collected.append(String(line.dropFirst(4)))
            let separator = line.dropFirst(3).first
            if separator != "-" { return SMTPReply(code: code, lines: collected) }
        }
        throw SMTPFailure(
            kind: .transient, code: nil,
            detail: timedOut.value.load(ordering: .relaxed)
                ? "SMTP server \(message.host):\(message.port) timed out" : "SMTP server closed the connection")
    }
}

/// Splits the byte stream into CRLF (or LF) terminated lines.
private struct SMTPLineDecoder: ByteToMessageDecoder {
    typealias InboundOut = String

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else {
            if buffer.readableBytes > 64 * 1024 { throw SMTPFailure(kind: .transient, code: nil, detail: "SMTP line too long") }
            return .needMoreData
        }
        let length = newline - buffer.readerIndex + 1
        guard var line = buffer.readString(length: length) else { return .needMoreData }
        while line.last == "\n" || line.last == "\r" { line.removeLast() }
        context.fireChannelRead(Self.wrapInboundOut(line))
        return .continue
    }
}

/// Hands decoded lines to the session; finishes the stream when the connection ends.
private final class SMTPLineForwarder: ChannelInboundHandler, Sendable {
    typealias InboundIn = String
    let continuation: AsyncStream<String>.Continuation

    init(continuation: AsyncStream<String>.Continuation) { self.continuation = continuation }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        continuation.yield(Self.unwrapInboundIn(data))
    }

    func channelInactive(context: ChannelHandlerContext) {
        continuation.finish()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        continuation.finish()
        context.close(promise: nil)
    }
}

/// The message text: headers and a `multipart/alternative` body (plain text, then HTML), base64 parts.
enum MIMEMessage {
    static func render(_ message: EmailMessage, boundary: String = "rlwatch-\(UUID().uuidString)")
        -> String
    {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        var lines = [
            "From: \(message.from)",
            "To: \(message.to.joined(separator: ", "))",
            "Subject: \(encodedWord(message.subject))",
            "Date: \(formatter.string(from: message.date))",
            "Message-ID: <\(UUID().uuidString)@rlwatch>",
            "MIME-Version: 1.0",
            "Content-Type: multipart/alternative; boundary=\"\(boundary)\"",
            "",
        ]
        for (type, text) in [("text/plain", message.plainText), ("text/html", message.html)] {
            lines += [
                "--\(boundary)", "Content-Type: \(type); charset=utf-8", "Content-Transfer-Encoding: base64", "",
            ]
            lines += wrapped(Data(text.utf8).base64EncodedString())
        }
        lines.append("--\(boundary)--")
        return lines.joined(separator: "\r\n")
    }

    /// RFC 2047 encoded words (UTF-8, base64), split so that none is longer than 75 characters.
    static func encodedWord(_ text: String) -> String {
        if text.allSatisfy({ $0.isASCII && $0 != "\r" && $0 != "\n" }) && text.count <= 900 { return text }
        var words: [String] = []
        var chunk = ""
        for character in text where character != "\r" && character != "\n" {
            if (chunk + String(character)).utf8.count > 45 {
                words.append(chunk)
                chunk = ""
            }
            chunk.append(character)
        }
        if !chunk.isEmpty { words.append(chunk) }
        return words.map { "=?UTF-8?B?\(Data($0.utf8).base64EncodedString())?=" }.joined(separator: "\r\n ")
    }

    private static func wrapped(_ base64: String) -> [String] {
        var lines: [String] = []
        var rest = Substring(base64)
        while !rest.isEmpty {
            lines.append(String(rest.prefix(76)))
            rest = rest.dropFirst(76)
        }
        return lines
    }
}

extension String {
    /// SMTP transparency (RFC 5321 §4.5.2): a line starting with "." gets another.
    var dotStuffed: String {
        split(separator: "\r\n", omittingEmptySubsequences: false)
            .map { $0.hasPrefix(".") ? "." + $0 : String($0) }
            .joined(separator: "\r\n")
    }
}
