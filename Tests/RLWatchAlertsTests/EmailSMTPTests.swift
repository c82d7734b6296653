import Foundation
import RLWatchAlerts
import RLWatchCore
import Testing

/// Email against a real SMTP server on loopback: aiosmtpd (`pip install aiosmtpd`), plain and with STARTTLS on a
/// throwaway self-signed certificate made by `openssl` for the test. `.ci/run` installs both; without them these
/// tests fail (they are never skipped).
@Suite struct EmailSMTPTests {
    @Test func theRealSMTPServerIsInstalled() {
        #expect(SMTPTestServer.isAvailable, "needs python3 with aiosmtpd (python3 -m pip install aiosmtpd) and openssl")
    }

    func config(port: Int, security: String, directory: URL) -> EmailConfig {
        var config = EmailConfig()
        config.smtpHost = "localhost"
        config.smtpPort = port
        config.fromAddr = "rlwatch@example.com"
        config.toAddrs = ["oncall@example.com", "ml@example.com"]
        config.security = security
        config.caCertFile = directory.appendingPathComponent("cert.pem").path
        return config
    }

    func deliver(_ alert: Alert, _ config: EmailConfig) async throws -> [AttemptReport] {
        let policy = RetryPolicy(maxAttempts: 1, initialBackoff: .milliseconds(10), maxBackoff: .milliseconds(10))
        return try await withTransport { transport in
            await AlertDeliverer(transport: transport, policy: policy, clock: ContinuousClock())
                .deliver(alert, runID: "run-<1>", via: EmailChannel(config: config, timeout: .seconds(60)), now: Fixtures.now)
        }
    }

    @Test func starttlsWithAuthDeliversMultipartMessage() async throws {
        try await SMTPTestServer.with(mode: "starttls") { server in
            var config = config(port: server.port, security: "starttls", directory: server.directory)
            config.smtpUser = "user"
            config.smtpPassword = "pass-s3cret"
            var alert = Fixtures.critical
            alert.message = "Entropy <collapsed> & stayed low"
            let reports = try await deliver(alert, config)
            #expect(reports.map(\.outcome) == [.delivered(status: nil)])
            let received = try server.messages()
            try #require(received.count == 1)
            let message = received[0]
            #expect(message.from == "rlwatch@example.com")
            #expect(message.to == ["oncall@example.com", "ml@example.com"])
            #expect(message.authenticated)
            #expect(message.tls)
            #expect(message.subject == "[rlwatch CRITICAL] entropy_collapse — Run run-<1> Step 42")
            #expect(message.contentType.hasPrefix("multipart/alternative"))
            #expect(message.plain.contains("Entropy <collapsed> & stayed low"))
            #expect(message.html.contains("Entropy &lt;collapsed&gt; &amp; stayed low"))
            #expect(message.html.contains("<code>run-&lt;1&gt;</code>"))
        }
    }

    @Test func wrongPasswordIsAPermanentFailureWithoutThePassword() async throws {
        try await SMTPTestServer.with(mode: "starttls") { server in
            var config = config(port: server.port, security: "starttls", directory: server.directory)
            config.smtpUser = "user"
            config.smtpPassword = "wrong-password"
            let reports = try await deliver(Fixtures.critical, config)
            #expect(reports.first?.outcome.code == "failed", "\(reports)")
            #expect(reports.first?.outcome.status == 535)
            #expect(reports.first?.outcome.detail.contains("wrong-password") == false)
            #expect(try server.messages().isEmpty)
        }
    }

    @Test func plainServerWithoutStarttlsIsRefusedUnlessSecurityIsNone() async throws {
        try await SMTPTestServer.with(mode: "plain") { server in
            let refused = try await deliver(Fixtures.warning, config(port: server.port, security: "starttls", directory: server.directory))
            #expect(refused.first?.outcome.code == "failed")
            #expect(refused.first?.outcome.detail.contains("does not offer STARTTLS") == true)

            var plain = config(port: server.port, security: "none", directory: server.directory)
            let delivered = try await deliver(Fixtures.warning, plain)
            #expect(delivered.map(\.outcome) == [.delivered(status: nil)])
            #expect(try server.messages().first?.subject == "[rlwatch WARNING] entropy_collapse — Run run-<1> Step 42")

            plain.smtpUser = "user"
            plain.smtpPassword = "pass-s3cret"
            let noPassword = try await deliver(Fixtures.warning, plain)
            #expect(noPassword.first?.outcome.code == "config_error")
        }
    }

    @Test func unreachableServerIsRetryable() async throws {
        var config = EmailConfig()
        config.smtpHost = "127.0.0.1"
        config.smtpPort = 1
        config.fromAddr = "a@example.com"
        config.toAddrs = ["b@example.com"]
        let reports = try await deliver(Fixtures.critical, config)
        #expect(reports.first?.outcome.code == "retryable")
    }
}

/// A message as the test server stored it (parsed by Python's email package).
struct ReceivedMail: Decodable {
    var from: String
    var to: [String]
    var subject: String
    var contentType: String
    var plain: String
    var html: String
    var authenticated: Bool
    var tls: Bool
}

/// aiosmtpd on 127.0.0.1, started as a child process for one test.
final class SMTPTestServer: Sendable {
    let port: Int
    let directory: URL
    private let process: Process

    static var isAvailable: Bool {
        run(["python3", "-c", "import aiosmtpd"]) == 0 && run(["openssl", "version"]) == 0
    }

    private static func run(_ arguments: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }

    private init(port: Int, directory: URL, process: Process) {
        self.port = port
        self.directory = directory
        self.process = process
    }

    static func with(mode: String, _ body: (SMTPTestServer) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rlwatch-smtp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("mail"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let status = run([
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout", directory.appendingPathComponent("key.pem").path,
            "-out", directory.appendingPathComponent("cert.pem").path,
        ])
        try #require(status == 0, "openssl could not make a test certificate")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, directory.path, mode]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        let input = Pipe()
        process.standardInput = input
        try process.run()
        defer {
            // Closing stdin makes the script exit at once; SIGTERM is the fallback.
            try? input.fileHandleForWriting.close()
            process.terminate()
            process.waitUntilExit()
        }
        // The script prints its port once it accepts connections (bounded: it exits on its own after 60 s).
        var text = ""
        while !text.contains("\n") {
            let data = output.fileHandleForReading.availableData
            if data.isEmpty { break }
            text += String(decoding: data, as: UTF8.self)
        }
        let port = try #require(Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), "SMTP test server did not start")
        try await body(SMTPTestServer(port: port, directory: directory, process: process))
    }

    func messages() throws -> [ReceivedMail] {
        let folder = directory.appendingPathComponent("mail")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".json") }.sorted()
        return try names.map { try JSONDecoder().decode(ReceivedMail.self, from: Data(contentsOf: folder.appendingPathComponent($0))) }
    }

    private static let script = #"""
        import asyncio, json, os, socket, ssl, sys, threading, email
        from email import policy
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        folder, mode = sys.argv[1], sys.argv[2]

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                message = email.message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
                parts = {p.get_content_type(): p.get_content() for p in message.iter_parts()} if message.is_multipart() else {}
                record = {
                    "from": envelope.mail_from, "to": envelope.rcpt_tos, "subject": str(message["subject"]),
                    "contentType": message.get_content_type() + "; " + str(message.get_param("boundary") is not None),
                    "plain": parts.get("text/plain", ""), "html": parts.get("text/html", ""),
                    "authenticated": bool(session.authenticated), "tls": session.ssl is not None,
                }
                n = len(os.listdir(os.path.join(folder, "mail")))
                path = os.path.join(folder, "mail", "%03d.json" % n)
                with open(path + ".tmp", "w") as f:
                    json.dump(record, f)
                os.rename(path + ".tmp", path)
                return "250 OK"

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = auth_data.login == b"user" and auth_data.password == b"pass-s3cret"
            return AuthResult(success=ok, handled=False)

        sock = socket.socket(); sock.bind(("127.0.0.1", 0)); port = sock.getsockname()[1]; sock.close()
        kwargs = {}
        if mode == "starttls":
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem"))
            kwargs = dict(tls_context=context, require_starttls=True, authenticator=authenticator, auth_require_tls=True)
        else:
            kwargs = dict(authenticator=authenticator, auth_require_tls=False)
        controller = Controller(Handler(), hostname="127.0.0.1", port=port, server_hostname="rlwatch-test", **kwargs)
        controller.start()
        print(port, flush=True)
        timer = threading.Timer(60, lambda: os._exit(0))
        timer.daemon = True
        timer.start()
        sys.stdin.read()  # returns when the test closes our stdin
        os._exit(0)
        """#
}
