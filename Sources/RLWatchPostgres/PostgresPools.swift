import Foundation
import Logging
import PostgresNIO
import Synchronization

/// The store's connection pool, and a fresh one in its place when postgres-nio's own would keep a client waiting for
/// a server that is down, or keep failing after it came back.
///
/// Why: while postgres-nio's pool cannot connect it keeps every lease request waiting, for 60 s before its circuit
/// breaker trips (a setting `PostgresClient.Configuration` does not expose); then it fails every lease at once with
/// `connectionCreationCircuitBreakerTripped` until one of its backed-off attempts, up to a minute apart, succeeds. A
/// batch from a training job waited 68 s for an answer, and after the server was back 15–20 s of batches still failed.
///
/// Here a lease that brings no connection within ``leaseWait``, or that the pool fails, asks the server itself (one
/// connection outside the pool, ``PostgresServer/probe(_:logger:)``):
/// - it refuses (or answers with an error): the request fails at once with "cannot connect", and so does every later one (with one probe per
///   ``probeInterval``, no pool involved) until a probe gets through;
/// - it answers: the stuck pool is retired and a fresh one takes over, so the first request after the server is back
///   already succeeds. The request is tried once more on the fresh pool, which is safe: its body never started;
/// - it gives no answer within its time: the server is slow rather than down, and the request keeps waiting for
///   the pool.
///
/// A lease that got its connection is never cut short: a slow statement is the server's business
/// (`statement_timeout`), and a server that stops mid-statement closes the connection, which fails it at once.
final class PostgresPools: Sendable {
    /// How long a request waits for a pooled connection before the server is asked whether it is there at all.
    static let leaseWait: Duration = .seconds(2)
    /// While the server is unreachable, requests within this long of the last failed probe fail without another.
    static let probeInterval: Duration = .milliseconds(250)
    /// A retired pool's leases in progress get this long to finish before its `run()` is cancelled (which closes
    /// its connections).
    static let retirementGrace: Duration = .seconds(30)

    /// One `PostgresClient`, and the signal that retires it.
    final class Generation: Sendable {
        let number: Int
        let client: PostgresClient
        private let retired: AsyncStream<Never>
        private let retirement: AsyncStream<Never>.Continuation

        init(number: Int, client: PostgresClient) {
            self.number = number
            self.client = client
            (retired, retirement) = AsyncStream<Never>.makeStream()
        }

        /// Ends ``run()`` after the grace period.
        func retire() { retirement.finish() }

        /// Runs the client until it is retired (plus ``PostgresPools/retirementGrace``) or the task is cancelled.
        func run() async {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.client.run() }
                group.addTask {
                    for await _ in self.retired {}
                    if Task.isCancelled { return }
                    try? await Task.sleep(for: PostgresPools.retirementGrace)
                }
                await group.next()
                group.cancelAll()
            }
        }
    }

    private struct State {
        var current: Generation
        var generations: Int
        /// The last probe's verdict that the server cannot be reached, while ``current`` is the pool it was about.
        var down: (generation: Int, at: ContinuousClock.Instant, error: any Error)?
    }

    let url: PostgresURL
    private let configuration: PostgresClient.Configuration
    private let poolLogger: Logger
    private let logger: Logger
    private let state: Mutex<State>
    private let starts: AsyncStream<Generation>
    private let started: AsyncStream<Generation>.Continuation

    /// - Parameters:
    ///   - poolLogger: postgres-nio's background logger.
    ///   - logger: Where a replaced pool is noted.
    init(url: PostgresURL, poolLogger: Logger, logger: Logger) throws {
        self.url = url
        configuration = try url.clientConfiguration()
        self.poolLogger = poolLogger
        self.logger = logger
        let first = Generation(number: 1, client: PostgresClient(configuration: configuration, backgroundLogger: poolLogger))
        state = Mutex(State(current: first, generations: 1))
        (starts, started) = AsyncStream<Generation>.makeStream()
        started.yield(first)
    }

    /// Runs every pool, the current one and those retiring, until the task is cancelled.
    func run() async {
        await withDiscardingTaskGroup { group in
            for await generation in starts {
                group.addTask { await generation.run() }
            }
        }
    }

    /// The number of pools made so far (1 until one was replaced).
    var generations: Int { state.withLock { $0.generations } }

    /// Runs `body` on a pooled connection: within ``leaseWait`` plus a probe the connection is there, or the error
    /// says the server cannot be reached.
    func withConnection<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        var generation = try await usableGeneration()
        for _ in 0..<2 {
            if case .value(let value) = try await lease(on: generation, body) { return value }
            generation = replace(generation)
        }
        throw PostgresStoreError.server(
            database: url.description,
            message: "cannot connect to \(url.host):\(url.port): the server answers but no pooled connection came within \(Self.leaseWait)")
    }

    /// The current pool, unless the server was found unreachable with it: then a probe first (or the last one's
    /// error, if it is recent), and a fresh pool when the server answers again.
    private func usableGeneration() async throws -> Generation {
        let (generation, down) = state.withLock { ($0.current, $0.down) }
        guard let down, down.generation == generation.number else { return generation }
        if ContinuousClock.now - down.at < Self.probeInterval { throw down.error }
        do {
            try await PostgresServer.probe(url, logger: logger)
        } catch {
            markDown(generation, error)
            throw error
        }
        return replace(generation)
    }

    private func markDown(_ generation: Generation, _ error: any Error) {
        state.withLock { state in
            if state.current.number == generation.number { state.down = (generation.number, .now, error) }
        }
    }

    /// A fresh pool in place of `generation`, unless another request already replaced it.
    private func replace(_ generation: Generation) -> Generation {
        let (fresh, replaced) = state.withLock { state -> (Generation, Bool) in
            guard state.current.number == generation.number else { return (state.current, false) }
            state.generations += 1
            state.current = Generation(
                number: state.generations, client: PostgresClient(configuration: configuration, backgroundLogger: poolLogger))
            state.down = nil
            return (state.current, true)
        }
        if replaced {
            // A warning, as the failures before it were errors: whoever reads them should see that it is over.
            logger.warning("PostgreSQL at \(url.host):\(url.port) answers again: its connection pool was replaced (pool \(fresh.number))")
            started.yield(fresh)
            generation.retire()
        }
        return fresh
    }

    /// What became of one lease.
    private enum Outcome<T: Sendable>: Sendable {
        /// The body ran and returned this.
        case value(T)
        /// The server answers but this pool gave no connection: the body did not run.
        case poolStuck
    }

    /// Who a lease belongs to: the body, once its connection came, or the waiter that gave up on it first.
    private final class Claim: Sendable {
        private static let open = 0, body = 1, abandoned = 2
        private let state = Atomic<Int>(Claim.open)

        /// The connection came: true if the body may run (the lease was not abandoned).
        func claimForBody() -> Bool {
            state.compareExchange(expected: Self.open, desired: Self.body, ordering: .sequentiallyConsistent).exchanged
        }

        /// The wait is over: true if the body never started and now never will.
        func abandon() -> Bool {
            state.compareExchange(expected: Self.open, desired: Self.abandoned, ordering: .sequentiallyConsistent).exchanged
        }

        var bodyStarted: Bool { state.load(ordering: .sequentiallyConsistent) == Self.body }
    }

    /// The body, to run in a child task while its caller waits for the group (so it cannot outlive the call).
    private struct Operation<T: Sendable>: @unchecked Sendable {
        let body: (PostgresConnection) async throws -> T
    }

    /// A lease from `generation` raced against ``leaseWait``; the body's errors are its own.
    private enum Event<T: Sendable>: Sendable {
        case done(T)
        case poolFailed(String)
        case waited
    }

    /// The probe got no answer within its time (rather than a refusal or an error from the server).
    private static func isSlow(_ error: any Error) -> Bool {
        "\(error)".contains(PostgresServer.noAnswer)
    }

    private func lease<T: Sendable>(on generation: Generation, _ body: (PostgresConnection) async throws -> T)
        async throws -> Outcome<T>
    {
        try await withoutActuallyEscaping(body) { body in
            let operation = Operation(body: body)
            let claim = Claim()
            return try await withThrowingTaskGroup(of: Event<T>.self, returning: Outcome<T>.self) { group in
                group.addTask {
                    do {
                        return .done(
                            try await generation.client.withConnection { connection in
                                guard claim.claimForBody() else { throw CancellationError() }
                                return try await operation.body(connection)
                            })
                    } catch let error where !claim.bodyStarted {
                        // The pool failed the lease (circuit breaker open, pool shut down) or it was abandoned.
                        return .poolFailed("\(error)")
                    }
                }
                group.addTask {
                    try await Task.sleep(for: Self.leaseWait)
                    return .waited
                }
                defer { group.cancelAll() }
                while let event = try await group.next() {
                    switch event {
                    case .done(let value):
                        return .value(value)
                    case .waited where claim.bodyStarted:
                        continue  // The body runs: its statements take what they take.
                    case .waited, .poolFailed:
                        // No connection from the pool: does the server answer at all?
                        do {
                            try await PostgresServer.probe(url, logger: logger)
                        } catch where Self.isSlow(error) {
                            // No answer either way: a slow server (a loaded host, a long network path), not a
                            // refusal. Keep waiting for the pool, whose own timeouts bound the wait.
                            continue
                        } catch {
                            if claim.abandon() {
                                markDown(generation, error)
                                throw error
                            }
                            continue  // The connection came meanwhile after all.
                        }
                        if claim.abandon() { return .poolStuck }
                    }
                }
                return .poolStuck
            }
        }
    }
}
