import Logging
import RLWatch
import RLWatchCore
import RLWatchStore
import ServiceLifecycle

extension MonitorServer {
    /// The watchdog of `serve`: what it finds is recorded through the run's monitor, under the run's lock.
    static func makeWatchdog(
        clock: AnyWallClock, config: RLWatchConfig, store: any Store, registry: RunRegistry, logger: Logger
    ) -> ServerWatchdog {
        ServerWatchdog(clock: clock, baseConfig: config, store: store, logger: logger) { [registry] runID, findings, time in
            do {
                guard let session = try await registry.session(for: runID) else { return }
                try await session.lock.run {
                    if session.isRetired { return }
                    try await session.pipeline.record(findings, at: time)
                }
            } catch {
                logger.error("could not record the liveness alerts of run \(runID): \(error)")
            }
        }
    }

    /// Checks the live runs for stalls once, now (tests call it after stepping their clock).
    public func checkLiveness() async {
        await liveness.checkAll()
    }

    /// Starts watching the runs a previous server left open (the service does this when it starts).
    public func adoptOpenRuns() async {
        await liveness.adoptOpenRuns { registry.configuration(ofStored: $0) }
    }

    /// The watchdog as a service: adopts the runs a previous server left open, then checks every
    /// `stall.check_interval_seconds` of its clock. ``run(exitWithParent:onListening:)`` runs it.
    public func livenessService() -> any Service {
        LivenessService(watchdog: liveness, registry: registry)
    }
}

extension RunRegistry {
    /// The configuration a stored run is judged with: the server's, with the run's stored detector settings.
    func configuration(ofStored run: RunRecord) -> RLWatchConfig {
        let overrides = Self.storedOverrides(configJSON: run.configJSON)
        if overrides.isEmpty { return options.baseConfig }
        return (try? options.baseConfig.applying(overrides: overrides, source: .override(label: "config")))
            ?? options.baseConfig
    }
}

/// Runs the liveness watchdog beside the HTTP server: adopts the runs a previous server left open (a run that went
/// silent while no server ran is reported once its stall time has passed), then checks on the watchdog's clock.
struct LivenessService: Service {
    let watchdog: ServerWatchdog
    let registry: RunRegistry

    func run() async throws {
        await watchdog.adoptOpenRuns { registry.configuration(ofStored: $0) }
        try? await cancelWhenGracefulShutdown {
            try await watchdog.run()
        }
    }
}
