import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import RLWatchAlerts
import ServiceLifecycle
import Synchronization

/// A request as the fake endpoint received it.
struct ReceivedRequest: Sendable {
    var method: String
    var path: String
    /// Lower-cased names; repeated headers joined with ", ".
    var headers: [String: String]
    var body: String
}

/// What the fake endpoint answers, in order; the last one repeats.
struct ScriptedResponse: Sendable {
    var status: Int
    var headers: [String: String] = [:]
    var body: String = "ok"
    /// Waits this long before answering (a slow server).
    var delay: Duration = .zero
    /// Holds the answer until the test opens this gate.
    var gate: Gate? = nil
    /// Answers with the request echoed after `body`, as some error pages do: the target as sent (path and
    /// query), the path percent-decoded, and the headers.
    var echo = false

    static let ok = ScriptedResponse(status: 200)
}

/// A gate a scripted answer waits on until the test opens it.
final class Gate: Sendable {
    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let alreadyOpen = state.withLock { state in
                if state.open { return true }
                state.waiters.append(continuation)
                return false
            }
            if alreadyOpen { continuation.resume() }
        }
    }

    func open() {
        let waiters = state.withLock { state in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}

/// The requests received so far, and the script.
final class EndpointLog: Sendable {
    private let state: Mutex<(requests: [ReceivedRequest], script: [ScriptedResponse])>

    init(script: [ScriptedResponse]) { state = Mutex(([], script)) }

    var requests: [ReceivedRequest] { state.withLock { $0.requests } }

    func record(_ request: ReceivedRequest) -> ScriptedResponse {
        state.withLock { state in
            state.requests.append(request)
            let index = min(state.requests.count - 1, state.script.count - 1)
            return index >= 0 ? state.script[index] : .ok
        }
    }
}

/// Runs a real HTTP server on 127.0.0.1 (a free port) playing Slack, Discord, a webhook or PagerDuty for the
/// duration of `body`, then shuts it down gracefully.
///
/// - Parameters:
///   - script: the answers, in order (the last repeats).
///   - body: gets the base URL (`http://127.0.0.1:PORT`) and the log of received requests.
func withFakeEndpoint<T: Sendable>(
    _ script: [ScriptedResponse] = [.ok], _ body: (String, EndpointLog) async throws -> T
) async throws -> T {
    let log = EndpointLog(script: script)
    let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
    var logger = Logger(label: "rlwatch.alerts.fake-endpoint")
    logger.logLevel = .error
    let responder = CallbackResponder<BasicRequestContext> { request, _ in
        let buffer = try await request.body.collect(upTo: 1 << 20)
        var headers: [String: String] = [:]
        for field in request.headers {
            let name = field.name.canonicalName
            headers[name] = headers[name].map { $0 + ", " + field.value } ?? field.value
        }
        let answer = log.record(
            ReceivedRequest(
                method: request.method.rawValue, path: request.uri.path, headers: headers,
                body: String(buffer: buffer)))
        if answer.delay > .zero { try await Task.sleep(for: answer.delay) }
        if let gate = answer.gate { await gate.wait() }
        var fields = HTTPFields()
        for (name, value) in answer.headers {
            if let name = HTTPField.Name(name) { fields[name] = value }
        }
        var text = answer.body
        if answer.echo {
            let target = request.uri.description
            text += " Cannot \(request.method.rawValue) \(target) (\(target.removingPercentEncoding ?? target));"
            text += headers.sorted { $0.key < $1.key }.map { " \($0.key): \($0.value)" }.joined(separator: ";")
        }
        return Response(
            status: .init(code: answer.status), headers: fields,
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
    let app = Application(
        responder: responder, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
        onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) }, logger: logger)
    let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw CancellationError() }
        do {
            let result = try await body("http://127.0.0.1:\(port)", log)
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

/// Runs `body` with a real network transport whose HTTP client is shut down afterwards.
func withTransport<T: Sendable>(_ body: (NetworkAlertTransport) async throws -> T) async throws -> T {
    try await withAlertTransport { transport in try await body(transport) }
}

/// Runs `service` in a `ServiceGroup` while `body` runs, then shuts the group down gracefully.
func runService(_ service: any Service, _ body: () async throws -> Void) async throws {
    var logger = Logger(label: "rlwatch.alerts.test-group")
    logger.logLevel = .error
    let group = ServiceGroup(configuration: .init(services: [service], logger: logger))
    try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        do {
            try await body()
        } catch {
            await group.triggerGracefulShutdown()
            try? await tasks.waitForAll()
            throw error
        }
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
    }
}
