import Foundation
import PostgresNIO
import RLWatchCore
import RLWatchPostgres
import RLWatchStore
import Testing

/// `sslmode` against a real TLS-enabled PostgreSQL server: `.ci/run` starts the test cluster with `ssl=on` and a
/// certificate (SAN `localhost`, `127.0.0.1`) signed by a throwaway CA whose PEM is `RLWATCH_TEST_DATABASE_CA`.
/// The server also accepts plain connections, so `sslmode=disable` can be checked on it too.
/// Outside CI, without `RLWATCH_TEST_DATABASE_CA` the suite is left out; in CI (`CI` set) it runs and fails.
@Suite("PostgreSQL over TLS (sslmode)", .enabled(if: TLSTestServer.isAvailable))
struct PostgresTLSTests {
    static let caVariable = TLSTestServer.caVariable

    struct MissingCA: Error, CustomStringConvertible {
        var description: String {
            "\(PostgresTLSTests.caVariable) is not set; CI must start the test server with TLS and name its CA's PEM file"
        }
    }

    /// The test server's URL with these query parameters instead of its own.
    static func url(_ parameters: String, host: String = "127.0.0.1") throws -> PostgresURL {
        let server = try TestPostgres.server()
        let password = server.password.map { ":" + $0 } ?? ""
        return try PostgresURL(
            "postgres://\(server.username)\(password)@\(host):\(server.port)/\(server.database)?\(parameters)")
    }

    static func caPath() throws -> String {
        guard let path = ProcessInfo.processInfo.environment[caVariable], !path.isEmpty else { throw MissingCA() }
        return path
    }

    /// Whether the session `url` opens is encrypted, and with which protocol, as the server sees it.
    static func session(_ url: PostgresURL) async throws -> (ssl: Bool, version: String?) {
        try await PostgresServer.withConnection(to: url) { connection in
            let rows = try await connection.query(
                "SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()", logger: .init(label: "test"))
            for try await (ssl, version) in rows.decode((Bool, String?).self) { return (ssl, version) }
            throw PostgresStoreError.server(database: url.description, message: "no pg_stat_ssl row")
        }
    }

    @Test func verifyFullWithTheServersCAIsEncryptedAndCarriesAWholeStore() async throws {
        let ca = try Self.caPath()
        for host in ["127.0.0.1", "localhost"] {
            let url = try Self.url("sslmode=verify-full&sslrootcert=\(ca)", host: host)
            let session = try await Self.session(url)
            #expect(session.ssl, "host \(host)")
            #expect(session.version?.hasPrefix("TLS") == true, "host \(host): \(String(describing: session.version))")
        }
        // The store itself over verify-full: migrate, write, read back.
        try await TestPostgres.withDatabase { plain in
            var url = plain
            url.sslMode = .verifyFull
            url.sslRootCert = ca
            try await PostgresStore.withStore(url: url, migrate: true) { store in
                try await store.registerRun(RunRecord(runID: "tls", framework: "trl", startedAt: 1, configJSON: "{}"))
                try await store.append(steps: ordinarySteps(runID: "tls", steps: 1...5), alerts: [])
                #expect(try await store.stepCount(runID: "tls") == 5)
            }
        }
    }

    @Test func requireEncryptsAndDisableDoesNot() async throws {
        _ = try Self.caPath()
        #expect(try await Self.session(Self.url("sslmode=require")).ssl)
        #expect(try await Self.session(Self.url("sslmode=prefer")).ssl)
        #expect(try await Self.session(Self.url("sslmode=disable")).ssl == false)
    }

    @Test func verifyFullRefusesAServerSignedByAnotherCA() async throws {
        _ = try Self.caPath()
        try await withTemporaryDirectory { directory in
            let other = directory.appendingPathComponent("other-ca.pem").path
            let openssl = Process()
            openssl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            openssl.arguments = [
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=not-the-server-ca",
                "-keyout", directory.appendingPathComponent("other-ca.key").path, "-out", other,
            ]
            openssl.standardError = FileHandle.nullDevice
            try openssl.run()
            openssl.waitUntilExit()
            #expect(openssl.terminationStatus == 0, "openssl could not make a CA")

            for mode in ["verify-full", "verify-ca", "require"] {
                let url = try Self.url("sslmode=\(mode)&sslrootcert=\(other)&connect_timeout=10")
                let error = await #expect(throws: PostgresStoreError.self, "sslmode=\(mode)") {
                    try await Self.session(url)
                }
                let text = error.map { String(describing: $0) } ?? ""
                #expect(text.contains("127.0.0.1:"), "the error names the server: \(text)")
                #expect(text.lowercased().contains("certificate") || text.lowercased().contains("tls"), "\(text)")
            }
        }
    }
}

enum TLSTestServer {
    static let caVariable = "RLWATCH_TEST_DATABASE_CA"

    static let isAvailable: Bool = {
        let environment = ProcessInfo.processInfo.environment
        guard TestPostgres.isAvailable else { return false }
        return environment["CI"] != nil || !(environment[caVariable] ?? "").isEmpty
    }()
}
