import Foundation
import Hummingbird
import Logging
import RLWatch
import RLWatchAlerts
import RLWatchCore
import RLWatchDashboard
import RLWatchStore
import ServiceLifecycle

/// How `rlwatch serve` listens and what it accepts.
public struct ServerSettings: Sendable, Hashable {
    public var host: String
    /// 0 picks a free port; the bound one is passed to `onListening`.
    public var port: Int
    /// The bearer token every API call must carry; required when `host` is not a loopback address.
    public var token: String?
    /// The largest request body accepted (413 above it).
    public var maxBodyBytes: Int
    /// The most per-sample rewards one step may carry (400 above it).
    public var maxRewardsPerStep: Int
    /// The most steps one batch may carry (400 above it).
    public var maxStepsPerBatch: Int
    /// A run that sent nothing for this many seconds has its detector state released from memory (it is reloaded
    /// from the store when the run sends again).
    public var idleRunTimeout: Double = 3600
    /// Timeouts and the cap on open connections.
    public var connectionLimits = ConnectionLimits()

    public init(
        host: String = "127.0.0.1", port: Int = 8765, token: String? = nil, maxBodyBytes: Int = 32 << 20,
        maxRewardsPerStep: Int = 65_536, maxStepsPerBatch: Int = 100_000
    ) {
        self.host = host
        self.port = port
        self.token = token
        self.maxBodyBytes = maxBodyBytes
        self.maxRewardsPerStep = maxRewardsPerStep
        self.maxStepsPerBatch = maxStepsPerBatch
    }

    /// True for `localhost`, `127.0.0.0/8` and `::1`: addresses only this machine can reach.
    public static func isLoopback(_ host: String) -> Bool {
        let host = host.lowercased()
        if host == "localhost" || host == "::1" || host == "[::1]" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    /// The fewest characters a token may have: a shorter one (`"a"`, `" "`) can be guessed.
    public static let minimumTokenLength = 16

    /// Why `token` may not be used, or nil.
    public static func tokenProblem(_ token: String) -> String? {
        if token.count < minimumTokenLength {
            return "the token is \(token.count) character(s) long; use at least \(minimumTokenLength) "
                + "(for example the output of `openssl rand -hex 16`)"
        }
        if token.contains(where: { $0.isWhitespace || $0.isNewline }) {
            return "the token contains whitespace; use letters, digits and punctuation only"
        }
        return nil
    }

    /// Why these settings may not be used, or nil.
    public var problem: String? {
        if !Self.isLoopback(host) && (token ?? "").isEmpty {
            return "binding to \(host) (not a loopback address) requires a token: pass --token-file, set RLWATCH_TOKEN or pass --token"
        }
        if !(0...65_535).contains(port) { return "--port must be between 0 and 65535 (got \(port))" }
        return connectionLimits.problem
    }
}

/// The monitor as an HTTP service: the JSON API, `/healthz` and `/metrics`, on Hummingbird.
///
/// Each run has its own detector state (``RunRegistry``). Shutting the service down gracefully (SIGTERM/SIGINT
/// under `rlwatch serve`) stops accepting connections and lets in-flight requests finish; every answered batch
/// was committed before its answer was sent, so nothing is left to flush.
public struct MonitorServer: Sendable {
    public let settings: ServerSettings
    let registry: RunRegistry
    let metrics = ServerMetrics()
    let logger: Logger
    /// Sends the alert outbox; nil when no channel is enabled or the store keeps no outbox.
    public let dispatcher: AlertDispatcher?
    /// The open HTTP connections, under the cap of `settings.connectionLimits`.
    public let connections: ConnectionRegistry
    /// Watches the runs for silence (`run_stalled`) and slowdowns (`throughput_drop`), and records crash reports.
    public let liveness: ServerWatchdog

    /// - Parameters:
    ///   - settings: where to listen and what to accept.
    ///   - config: the base configuration of every run; its `alerts` section also decides where alerts are sent.
    ///   - store: where runs, steps and alerts go.
    ///   - sinks: where delivered alerts are printed.
    ///   - deliverAlerts: queue alerts for the enabled channels and run an ``AlertDispatcher`` in ``run(exitWithParent:onListening:)``
    ///     (needs at least one enabled channel).
    ///   - logger: the server's logger.
    ///   - clock: the wall clock of the liveness watchdog (arrival times, stall checks); tests pass one they step.
    public init(
        settings: ServerSettings, config: RLWatchConfig, store: any Store, sinks: [any AlertSink] = [],
        deliverAlerts: Bool = true, logger: Logger = .current,
        clock: AnyWallClock = .system
    ) {
        self.settings = settings
        self.logger = logger
        connections = ConnectionRegistry(maxConnections: settings.connectionLimits.effectiveMaxConnections)
        dispatcher = deliverAlerts ? AlertDispatcher.configured(for: config, store: store, logger: logger, clock: clock) : nil
        registry = RunRegistry(
            options: .init(
                baseConfig: config, store: store, sinks: sinks, queueDeliveries: dispatcher != nil, logger: logger,
                idleTimeout: settings.idleRunTimeout, clock: clock))
        liveness = Self.makeWatchdog(clock: clock, config: config, store: store, registry: registry, logger: logger)
    }

    /// The HTTP application as a service, to run in a `ServiceGroup`.
    ///
    /// - Parameter onListening: called once with the bound port when the server accepts connections.
    public func service(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) -> any Service {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: LatencyMiddleware(metrics: metrics))
        if let token = settings.token, !token.isEmpty {
            router.add(middleware: DashboardTokenMiddleware<BasicRequestContext>(token: token, enforce: false))
            router.add(middleware: BearerTokenMiddleware(token: token))
        }
        DashboardRoutes(store: registry.options.store, logger: logger).register(on: router)
        APIRoutes(
            registry: registry, metrics: metrics,
            decoder: StepBatchDecoder(
                maxRewardsPerStep: settings.maxRewardsPerStep, maxStepsPerBatch: settings.maxStepsPerBatch),
            maxBodyBytes: settings.maxBodyBytes, logger: logger, liveness: liveness, connections: connections
        ).register(on: router)
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .warning)
        return Application(
            router: router,
            server: .http1(limits: settings.connectionLimits, registry: connections, logger: quiet),
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "rlwatch"),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? settings.port) },
            logger: quiet)
    }

    /// Runs until SIGTERM or SIGINT (or until process `parent` ends, when given), then shuts down gracefully.
    ///
    /// - Parameter retention: prunes old metric rows beside the server (`storage.retention_days`), in the same group.
    public func run(
        exitWithParent parent: Int32? = nil, retention: RetentionService? = nil,
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws {
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: service(onListening: onListening))]
        if let dispatcher {
            services.append(.init(service: dispatcher))
        }
        if let retention {
            services.append(.init(service: retention))
        }
        services.append(.init(service: livenessService()))
        if let parent {
            services.append(.init(service: ParentWatch(pid: parent, logger: logger), successTerminationBehavior: .gracefullyShutdownGroup))
        }
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

/// Returns when a process ends (checked every second), so that a server started by a training job does not outlive
/// it when the job is killed without a chance to stop it (SIGKILL, an OOM kill).
struct ParentWatch: Service {
    let pid: Int32
    let logger: Logger

    func run() async throws {
        while !Task.isCancelled {
            if kill(pid, 0) != 0 && errno == ESRCH {
                logger.info("process \(pid) has ended; shutting down")
                return
            }
            try await gracefulShutdown(for: .seconds(1))
        }
    }

    /// Sleeps, returning early (by throwing) when the group shuts down.
    private func gracefulShutdown(for duration: Duration) async throws {
        try await cancelWhenGracefulShutdown { try await Task.sleep(for: duration) }
    }
}
