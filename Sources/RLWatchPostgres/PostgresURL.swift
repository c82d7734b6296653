import Foundation
import NIOSSL
import PostgresNIO

/// A parsed `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=...]` URL.
///
/// Query parameters understood: `sslmode` (`disable`, `allow`, `prefer` (the default, as in libpq), `require`,
/// `verify-ca`, `verify-full`), `sslrootcert` (a PEM file of trusted roots), `connect_timeout` (seconds) and
/// `pool_size` (rlwatch's own: the most connections one process opens, default 20) and `synchronous_commit` (sent to
/// the server for rlwatch's sessions: `off` makes a commit not wait for its WAL flush, like the SQLite store's
/// `synchronous=NORMAL`: nothing is lost when rlwatch dies, the last fraction of a second may be when the database
/// host does). Any other parameter is an error, so that a typo in `sslmode` cannot silently turn TLS off.
public struct PostgresURL: Sendable, Hashable, CustomStringConvertible {
    public enum SSLMode: String, Sendable, Hashable, CaseIterable {
        case disable
        case allow
        case prefer
        case require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var sslMode: SSLMode
    public var sslRootCert: String?
    public var connectTimeout: Double?
    public var poolSize: Int
    /// `synchronous_commit` for rlwatch's sessions; nil keeps the server's setting (`on` by default).
    public var synchronousCommit: String?

    /// Whether `text` names a PostgreSQL database (rather than an SQLite file).
    public static func isPostgres(_ text: String) -> Bool {
        let lower = text.lowercased()
        return lower.hasPrefix("postgres://") || lower.hasPrefix("postgresql://")
    }

    /// Parses a URL.
    ///
    /// - Throws: `PostgresStoreError.invalidURL` naming the part at fault.
    public init(_ text: String) throws {
        let shown = Self.redacting(text)
        guard Self.isPostgres(text), let components = URLComponents(string: text) else {
            throw PostgresStoreError.invalidURL(shown, problem: "not a postgres:// URL")
        }
        guard let host = components.host, !host.isEmpty else {
            throw PostgresStoreError.invalidURL(shown, problem: "no host")
        }
        self.host = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        port = components.port ?? 5432
        username = components.percentEncodedUser.flatMap { $0.removingPercentEncoding } ?? "postgres"
        if username.isEmpty { username = "postgres" }
        password = components.percentEncodedPassword.flatMap { $0.removingPercentEncoding }
        let path = (components.percentEncodedPath.removingPercentEncoding ?? components.path)
        database = path.hasPrefix("/") ? String(path.dropFirst()) : path
        if database.isEmpty { database = username }
        sslMode = .prefer
        poolSize = 20
        for item in components.queryItems ?? [] {
            let value = item.value ?? ""
            switch item.name {
            case "sslmode":
                guard let mode = SSLMode(rawValue: value) else {
                    throw PostgresStoreError.invalidURL(
                        shown,
                        problem: "sslmode must be one of \(SSLMode.allCases.map(\.rawValue).joined(separator: ", ")) "
                            + "(got \"\(value)\")")
                }
                sslMode = mode
            case "sslrootcert":
                sslRootCert = value
            case "connect_timeout":
                guard let seconds = Double(value), seconds > 0 else {
                    throw PostgresStoreError.invalidURL(shown, problem: "connect_timeout must be a positive number of seconds")
                }
                connectTimeout = seconds
            case "synchronous_commit":
                let allowed = ["on", "off", "local", "remote_write", "remote_apply"]
                guard allowed.contains(value) else {
                    throw PostgresStoreError.invalidURL(
                        shown, problem: "synchronous_commit must be one of \(allowed.joined(separator: ", "))")
                }
                synchronousCommit = value
            case "pool_size":
                guard let size = Int(value), size >= 2 else {
                    throw PostgresStoreError.invalidURL(shown, problem: "pool_size must be an integer >= 2")
                }
                poolSize = size
            default:
                throw PostgresStoreError.invalidURL(
                    shown, problem: "unknown parameter \(item.name) (known: sslmode, sslrootcert, connect_timeout, pool_size, synchronous_commit)")
            }
        }
    }

    /// The URL with its password replaced by `***`, for messages and logs.
    public var description: String {
        let hostPart = host.contains(":") ? "[\(host)]" : host
        let credentials = password == nil ? username : "\(username):***"
        return "postgres://\(credentials)@\(hostPart):\(port)/\(database)"
    }

    /// The same server with another database (the tests create one per test).
    public func with(database: String) -> PostgresURL {
        var copy = self
        copy.database = database
        return copy
    }

    /// `text` with the password of a URL-looking string masked.
    static func redacting(_ text: String) -> String {
        guard let at = text.lastIndex(of: "@"), let scheme = text.range(of: "://"), scheme.upperBound < at else {
            return text
        }
        let userInfo = text[scheme.upperBound..<at]
        guard let colon = userInfo.firstIndex(of: ":") else { return text }
        return String(text[..<colon]) + ":***" + String(text[at...])
    }

    /// TLS as `sslmode` says: nil for `disable`; else the settings, and whether TLS is required (`require` and the
    /// `verify-*` modes) or only preferred (`allow`, `prefer`).
    func tls() -> (settings: TLSConfiguration, required: Bool)? {
        var settings = TLSConfiguration.makeClientConfiguration()
        switch sslMode {
        case .disable:
            return nil
        case .allow, .prefer:
            settings.certificateVerification = .none
            return (settings, false)
        case .verifyFull:
            settings.certificateVerification = .fullVerification
        case .verifyCA:
            settings.certificateVerification = .noHostnameVerification
        case .require:
            // libpq's `require` encrypts without checking the certificate, unless a root certificate is given.
            settings.certificateVerification = sslRootCert == nil ? .none : .noHostnameVerification
        }
        if let sslRootCert { settings.trustRoots = .file(sslRootCert) }
        return (settings, true)
    }

    /// The startup parameters every rlwatch session sets.
    var startupParameters: [(String, String)] {
        // A server that died mid-transaction (not just its process: the host) must not hold a run's lock for ever.
        var parameters = [("application_name", "rlwatch"), ("idle_in_transaction_session_timeout", "60000")]
        if let synchronousCommit { parameters.append(("synchronous_commit", synchronousCommit)) }
        return parameters
    }

    /// One connection's configuration, outside any pool (``PostgresServer/probe(_:logger:)``).
    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS
        if let (settings, required) = self.tls() {
            let context = try NIOSSLContext(configuration: settings)
            tls = required ? .require(context) : .prefer(context)
        } else {
            tls = .disable
        }
        var configuration = PostgresConnection.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls)
        if let connectTimeout { configuration.options.connectTimeout = .milliseconds(Int64(connectTimeout * 1000)) }
        configuration.options.additionalStartupParameters = startupParameters
        return configuration
    }

    /// The postgres-nio client configuration: TLS as `sslmode` says, a pool of `pool_size` connections.
    func clientConfiguration() throws -> PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS
        if let (settings, required) = self.tls() {
            tls = required ? .require(settings) : .prefer(settings)
        } else {
            tls = .disable
        }
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls)
        configuration.options.maximumConnections = poolSize
        configuration.options.minimumConnections = 0
        if let connectTimeout { configuration.options.connectTimeout = .milliseconds(Int64(connectTimeout * 1000)) }
        configuration.options.additionalStartupParameters = startupParameters
        return configuration
    }
}
