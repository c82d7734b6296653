import Hummingbird
import HummingbirdCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTPTypes

extension HTTPServerBuilder {
    /// HTTP/1.1 with ``ConnectionLimits``: idle, header and body timeouts, and a cap on open connections.
    ///
    /// Hummingbird's own `idleTimeout` is one timer for everything and its connection cap stops accepting (new
    /// connections, `/healthz` included, wait in the backlog until an idle one leaves), so both are done here.
    ///
    /// - Parameters:
    ///   - limits: the timeouts; the cap is `registry`'s.
    ///   - registry: the server's open connections (one per server: it holds the count the cap applies to).
    ///   - logger: where refusals are logged.
    public static func http1(limits: ConnectionLimits, registry: ConnectionRegistry, logger: Logger) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in
            LimitedHTTP1Channel(responder: responder, limits: limits, registry: registry, logger: logger)
        }
    }
}

/// The open connections of one server, for the cap: which may give way to a new one, oldest first.
public final class ConnectionRegistry: Sendable {
    enum Admission {
        case admitted
        /// Admitted in the place of this connection, which the caller closes.
        case admittedEvicting(any Channel)
        case refused
    }

    private struct Entry {
        let channel: any Channel
        /// When it last became evictable (a counter), or nil while a request is in progress.
        var waitingSince: UInt64?
    }

    private struct State {
        var entries: [ObjectIdentifier: Entry] = [:]
        var clock: UInt64 = 0
        var refused = 0
        var evicted = 0
    }

    /// The cap in force (``ConnectionLimits/effectiveMaxConnections``).
    public let maxConnections: Int
    private let state = NIOLockedValueBox(State())

    public init(maxConnections: Int) {
        self.maxConnections = maxConnections
    }

    /// Connections open now.
    public var open: Int { state.withLockedValue { $0.entries.count } }
    /// Connections reading or answering a request now.
    public var busy: Int { state.withLockedValue { $0.entries.values.count { $0.waitingSince == nil } } }
    /// Connections answered 503 because every open one was busy, since the server started.
    public var refused: Int { state.withLockedValue { $0.refused } }
    /// Waiting connections closed to make room for a new one, since the server started.
    public var evicted: Int { state.withLockedValue { $0.evicted } }

    /// Admits `channel` (evictable until it sends a complete request head), making room by evicting the connection
    /// that has waited longest without a request when the cap is reached; refuses it when every one is busy.
    func admit(_ channel: any Channel) -> Admission {
        state.withLockedValue { state in
            var evicted: (any Channel)?
            if state.entries.count >= maxConnections {
                var oldest: (id: ObjectIdentifier, since: UInt64)?
                for (id, entry) in state.entries {
                    if let since = entry.waitingSince, since < oldest?.since ?? .max { oldest = (id, since) }
                }
                guard let oldest, let entry = state.entries.removeValue(forKey: oldest.id) else {
                    state.refused += 1
                    return .refused
                }
                state.evicted += 1
                evicted = entry.channel
            }
            state.clock += 1
            state.entries[ObjectIdentifier(channel)] = Entry(channel: channel, waitingSince: state.clock)
            return evicted.map { .admittedEvicting($0) } ?? .admitted
        }
    }

    /// Marks a connection as busy (a request is being read or answered) or back to waiting for one.
    func setBusy(_ channel: any Channel, _ busy: Bool) {
        state.withLockedValue { state in
            let id = ObjectIdentifier(channel)
            guard state.entries[id] != nil else { return }
            if busy {
                state.entries[id]?.waitingSince = nil
            } else {
                state.clock += 1
                state.entries[id]?.waitingSince = state.clock
            }
        }
    }

    func remove(_ channel: any Channel) {
        state.withLockedValue { $0.entries[ObjectIdentifier(channel)] = nil }
    }
}

/// Hummingbird's HTTP/1.1 child channel, with every connection admitted by a ``ConnectionRegistry`` and watched by
/// a ``ConnectionWatch``.
struct LimitedHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    let responder: HTTPChannelHandler.Responder
    let limits: ConnectionLimits
    let registry: ConnectionRegistry
    let logger: Logger

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let admission = registry.admit(channel)
        let watch: NIOLoopBound<ConnectionWatch>
        do {
            let pipeline = channel.pipeline.syncOperations
            switch admission {
            case .refused:
                self.logger.warning("connection refused: \(registry.maxConnections) connections are busy")
                try pipeline.addHandler(RefusingHandler())
                return HTTP1Channel(responder: responder).setup(channel: channel, logger: logger)
            case .admittedEvicting(let evicted):
                evicted.close(promise: nil)
            case .admitted:
                break
            }
            let connection = ConnectionWatch(channel: channel, limits: limits, registry: registry)
            watch = NIOLoopBound(connection, eventLoop: channel.eventLoop)
            try pipeline.addHandler(InboundBytesHandler(watch: connection))
        } catch {
            registry.remove(channel)
            return channel.eventLoop.makeFailedFuture(error)
        }
        let configuration = HTTP1Channel.Configuration(additionalChannelHandlers: [RequestPhaseHandler(watch: watch.value)])
        return HTTP1Channel(responder: responder, configuration: configuration).setup(channel: channel, logger: logger)
    }

    func handle(value: Value, logger: Logger) async {
        await HTTP1Channel(responder: responder).handle(value: value, logger: logger)
    }
}

/// One connection's place in the request cycle and the deadline that goes with it; closes the connection when the
/// client keeps it waiting past the deadline. Lives on the connection's event loop.
final class ConnectionWatch {
    private enum Phase {
        /// No request in progress: closed after the idle timeout.
        case idle
        /// The first bytes of a request head arrived: the rest within the header timeout.
        case readingHead
        /// Requests in progress; while one's body is being read, each part within the body timeout.
        case busy(readingBody: Bool)
    }

    private let channel: any Channel
    private let limits: ConnectionLimits
    private let registry: ConnectionRegistry
    private var phase = Phase.idle
    private var requestsInProgress = 0
    private var deadline: NIODeadline?
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?

    init(channel: any Channel, limits: ConnectionLimits, registry: ConnectionRegistry) {
        self.channel = channel
        self.limits = limits
        self.registry = registry
        // The close future fires on the channel's event loop, where this object lives.
        let bound = NIOLoopBound(self, eventLoop: channel.eventLoop)
        channel.closeFuture.whenComplete { _ in bound.value.closed() }
        setDeadline(after: limits.idleTimeout)
    }

    /// Raw bytes arrived: a new request starts its header clock.
    func bytesArrived() {
        guard case .idle = phase else { return }
        phase = .readingHead
        setDeadline(after: limits.headerTimeout)
    }

    func requestHeadRead() {
        requestsInProgress += 1
        if case .busy = phase {} else { registry.setBusy(channel, true) }
        phase = .busy(readingBody: true)
        setDeadline(after: limits.bodyTimeout)
    }

    func requestBodyRead() {
        guard case .busy(readingBody: true) = phase else { return }
        setDeadline(after: limits.bodyTimeout)
    }

    func requestEndRead() {
        guard case .busy = phase else { return }
        phase = .busy(readingBody: false)
        deadline = nil
    }

    func responseEndWritten() {
        requestsInProgress = max(0, requestsInProgress - 1)
        guard requestsInProgress == 0 else { return }
        phase = .idle
        registry.setBusy(channel, false)
        setDeadline(after: limits.idleTimeout)
    }

    private func closed() {
        timer?.cancel()
        timer = nil
        registry.remove(channel)
    }

    /// Moves the deadline; the timer is only rescheduled when the deadline comes earlier than it (a later one is
    /// picked up when the timer fires), so a streaming body does not reschedule on every part.
    private func setDeadline(after duration: Duration) {
        let deadline = NIODeadline.now() + TimeAmount(duration)
        self.deadline = deadline
        if let timerDeadline, timerDeadline <= deadline { return }
        timer?.cancel()
        schedule(at: deadline)
    }

    private func schedule(at deadline: NIODeadline) {
        timerDeadline = deadline
        let bound = NIOLoopBound(self, eventLoop: channel.eventLoop)
        timer = channel.eventLoop.scheduleTask(deadline: deadline) { bound.value.timerFired() }
    }

    private func timerFired() {
        timer = nil
        timerDeadline = nil
        guard let deadline else { return }
        if deadline <= .now() {
            channel.close(promise: nil)
        } else {
            schedule(at: deadline)
        }
    }
}

/// First in the pipeline: tells the watch that bytes arrived (a request head's first byte starts its clock).
final class InboundBytesHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let watch: ConnectionWatch

    init(watch: ConnectionWatch) {
        self.watch = watch
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        watch.bytesArrived()
        context.fireChannelRead(data)
    }
}

/// After the HTTP codec: tells the watch where each request is (head, body, end) and when its answer is sent.
final class RequestPhaseHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let watch: ConnectionWatch

    init(watch: ConnectionWatch) {
        self.watch = watch
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: watch.requestHeadRead()
        case .body: watch.requestBodyRead()
        case .end: watch.requestEndRead()
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { watch.responseEndWritten() }
        context.write(data, promise: promise)
    }
}

/// A connection over the cap: answered 503 with `Retry-After` straight away, whatever it sends, then closed.
final class RefusingHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    static let answer: String = {
        let body = "too many connections: retry in a second\n"
        return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
            + "Content-Length: \(body.utf8.count)\r\nRetry-After: 1\r\nConnection: close\r\n\r\n" + body
    }()

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { refuse(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        refuse(context: context)
    }

    /// Whatever the client sent is dropped: it never reaches the HTTP codec or a route.
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

    private var refused = false

    private func refuse(context: ChannelHandlerContext) {
        guard !refused else { return }
        refused = true
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: Self.answer))).whenComplete { _ in
            // Half-close first so the client reads the answer before the connection goes; the rest a second later.
            channel.close(mode: .output, promise: nil)
            channel.eventLoop.scheduleTask(in: .seconds(1)) { channel.close(promise: nil) }
        }
    }
}
