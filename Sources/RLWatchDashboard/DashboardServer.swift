import Hummingbird
import Logging
import RLWatchStore
import ServiceLifecycle

/// The dashboard on its own (`rlwatch dashboard`): the dashboard routes, `/healthz`, and the same token rule as
/// `rlwatch serve` (the caller refuses a non-loopback host without a token).
public struct DashboardServer: Sendable {
    public let host: String
    public let port: Int
    public let token: String?
    public let limits: ConnectionLimits
    /// The open connections, under the cap of `limits`.
    public let connections: ConnectionRegistry
    let routes: DashboardRoutes
    let logger: Logger

    /// - Parameters:
    ///   - host: the address to bind.
    ///   - port: the port; 0 picks a free one (passed to `onListening`).
    ///   - token: when set, every request needs it (bearer header, `?token=` once, then the cookie).
    ///   - limits: timeouts and the cap on open connections.
    ///   - routes: the dashboard over its store.
    ///   - logger: the server's logger.
    public init(
        host: String, port: Int, token: String?, limits: ConnectionLimits = ConnectionLimits(), routes: DashboardRoutes,
        logger: Logger
    ) {
        self.host = host
        self.port = port
        self.token = token.flatMap { $0.isEmpty ? nil : $0 }
        self.limits = limits
        connections = ConnectionRegistry(maxConnections: limits.effectiveMaxConnections)
        self.routes = routes
        self.logger = logger
    }

    /// The HTTP application as a service, to run in a `ServiceGroup`.
    public func service(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) -> any Service {
        let router = Router(context: BasicRequestContext.self)
        if let token { router.add(middleware: DashboardTokenMiddleware(token: token, enforce: true)) }
        router.get("/healthz") { _, _ in "ok\n" }
        routes.register(on: router)
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .warning)
        let port = port
        return Application(
            router: router,
            server: .http1(limits: limits, registry: connections, logger: quiet),
            configuration: .init(address: .hostname(host, port: port), serverName: "rlwatch-dashboard"),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? port) },
            logger: quiet)
    }
}
