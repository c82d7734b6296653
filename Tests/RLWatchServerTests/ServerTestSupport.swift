import Foundation
import Logging
import RLWatchCore
import RLWatchServer
import RLWatchStore
import RLWatchTesting
import ServiceLifecycle
import Testing

/// Runs a real `MonitorServer` on 127.0.0.1 (a free port) for the duration of `body`, then shuts it down
/// gracefully, as SIGTERM would.
func withServer<T: Sendable>(
    store: any Store, config: RLWatchConfig = RLWatchConfig(), settings: ServerSettings = ServerSettings(port: 0),
    headers: [String: String] = [:], _ body: (HTTPTestClient) async throws -> T
) async throws -> T {
    try await withServer(store: store, config: config, settings: settings, headers: headers) { client, _ in
        try await body(client)
    }
}

/// ``withServer(store:config:settings:headers:_:)`` with the server itself: its liveness watchdog runs on `clock`
/// (as a service when `watchdog` is true, else checked only when the test calls `checkLiveness()`).
func withServer<T: Sendable>(
    store: any Store, config: RLWatchConfig = RLWatchConfig(), settings: ServerSettings = ServerSettings(port: 0),
    headers: [String: String] = [:], clock: ManualWallClock? = nil, watchdog: Bool = false,
    _ body: (HTTPTestClient, MonitorServer) async throws -> T
) async throws -> T {
    let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
    var logger = Logger(label: "rlwatch.serve.test")
    logger.logLevel = .warning
    let server =
        if let clock {
            MonitorServer(settings: settings, config: config, store: store, logger: logger, clock: AnyWallClock(clock))
        } else {
            MonitorServer(settings: settings, config: config, store: store, logger: logger)
        }
    var services: [any Service] = [server.service { continuation.yield($0) }]
    if watchdog { services.append(server.livenessService()) }
    let group = ServiceGroup(configuration: .init(services: services, logger: logger))
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw CancellationError() }
        do {
            let result = try await body(HTTPTestClient(port: port, headers: headers), server)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return result
        } catch {
            await group.triggerGracefulShutdown()
            try? await tasks.waitForAll()
            throw error
        }
    }
}

/// Runs `body` with a new empty directory that is removed afterwards.
func withTemporaryDirectory<T>(_ body: (URL) async throws -> T) async throws -> T {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("rlwatch-server-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    return try await body(directory)
}

/// A step as a client sends it (the replay format); non-finite values as strings.
func stepJSON(_ step: MetricStep) -> [String: Any] {
    func number(_ value: Double) -> Any {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "Infinity" : "-Infinity" }
        return value
    }
    var object: [String: Any] = ["step": step.step]
    for name in MetricName.allCases {
        if let value = step[name] { object[name.rawValue] = number(value) }
    }
    if let rewards = step.rewards { object["rewards"] = rewards.map(number) }
    for (key, value) in step.extras { object[key] = number(value) }
    return object
}

/// (step, detector, severity) of the alerts in an API answer.
func alertKeys(_ alerts: Any?) -> [String] {
    ((alerts as? [[String: Any]]) ?? []).map {
        "\($0["step"] as? Int ?? -1) \($0["detector"] as? String ?? "?") \($0["severity"] as? String ?? "?")"
    }
}

/// The alerts a single uninterrupted pass of the analyzer delivers, keyed like ``alertKeys(_:)``.
func offlineAlertKeys(_ steps: [MetricStep], config: RLWatchConfig) -> [String] {
    let analyzer = RunAnalyzer(config: config)
    return steps.flatMap { analyzer.process($0).delivered.map { "\($0.step) \($0.detector.rawValue) \($0.severity.rawValue)" } }
}
