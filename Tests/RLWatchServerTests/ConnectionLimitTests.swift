import Foundation
import RLWatchDashboard
import RLWatchServer
import RLWatchStore
import RLWatchTesting
import Testing

/// Idle, header and body timeouts and the connection cap (issue 20, item 3), against a real server and raw sockets.
@Suite struct ConnectionLimitTests {
    /// `GET /healthz` on a new connection; the whole answer.
    static func healthz(port: Int) async throws -> String {
        let connection = try RawConnection(port: port)
        try connection.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        return try await connection.readUntilClosed()
    }

    @Test func idleConnectionsOverTheCapGiveWayAndAreClosedAfterTheIdleTimeout() async throws {
        var settings = ServerSettings(port: 0)
        settings.connectionLimits = ConnectionLimits(
            maxConnections: 100, idleTimeout: .seconds(20), headerTimeout: .seconds(20), bodyTimeout: .seconds(20))
        try await withServer(store: InMemoryStore(), settings: settings) { client, server in
            let port = try #require(client.baseURL.port)
            let idle = try (0..<200).map { _ in try RawConnection(port: port) }
            // Connections are admitted on several event loops, in no set order: wait until all 200 are, so that the
            // health check is the newest (a flood of newer ones could evict it before it sends its request).
            // The idle timeout (20 s) is longer than admitting them takes even on a loaded 2-core machine, so no
            // connection is closed for idleness before all are admitted (with 4 s the check raced the timeout).
            try await waitUntil("the 200 idle connections admitted", timeout: .seconds(60)) {
                server.connections.open == 100 && server.connections.evicted == 100
            }
            // Every slot is held by an idle connection: the health check takes the place of the longest idle one.
            #expect(try await Self.healthz(port: port).hasPrefix("HTTP/1.1 200"))
            #expect(server.connections.open <= 100)
            try await waitUntil("the 200 idle connections closed", timeout: .seconds(90)) {
                idle.allSatisfy(\.isClosedByPeer)
            }
            #expect(server.connections.evicted >= 101)
            #expect(try await Self.healthz(port: port).hasPrefix("HTTP/1.1 200"))
        }
    }

    @Test func aConnectionOverACapOfBusyOnesIsAnswered503WithRetryAfter() async throws {
        var settings = ServerSettings(port: 0)
        settings.connectionLimits = ConnectionLimits(maxConnections: 4, bodyTimeout: .seconds(60))
        try await withServer(store: InMemoryStore(), settings: settings) { client, server in
            let port = try #require(client.baseURL.port)
            // Four requests whose bodies never come: busy, so none may be closed for a newcomer.
            let busy = try (0..<4).map { _ in try RawConnection(port: port) }
            for connection in busy {
                try connection.send(
                    "POST /api/v1/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                        + "Content-Length: 100\r\n\r\n{")
            }
            try await waitUntil("4 busy connections", timeout: .seconds(60)) { server.connections.busy == 4 }
            let refused = try await Self.healthz(port: port)
            #expect(refused.hasPrefix("HTTP/1.1 503"), "\(refused)")
            #expect(refused.contains("Retry-After: 1"))
            #expect(refused.contains("too many connections"))
            #expect(server.connections.refused == 1)
            #expect(busy.allSatisfy { !$0.isClosedByPeer })
            // Once one leaves, the next is served.
            busy[0].close()
            try await waitUntil("a free slot", timeout: .seconds(60)) { server.connections.open < 4 }
            #expect(try await Self.healthz(port: port).hasPrefix("HTTP/1.1 200"))
            let metrics = try await client.get("/metrics").text
            #expect(metrics.contains(#"rlwatch_http_connections{state="refused"} 1"#), "\(metrics)")
            for connection in busy { connection.close() }
        }
    }

    @Test func headersAndBodiesThatStallAreClosedAfterTheirTimeouts() async throws {
        var settings = ServerSettings(port: 0)
        settings.connectionLimits = ConnectionLimits(
            idleTimeout: .seconds(60), headerTimeout: .seconds(1), bodyTimeout: .seconds(1))
        try await withServer(store: InMemoryStore(), settings: settings) { client, server in
            let port = try #require(client.baseURL.port)
            let quiet = try RawConnection(port: port)
            let slowHeaders = try RawConnection(port: port)
            try slowHeaders.send("GET /healthz HTTP/1.1\r\nHost: 127.")
            let slowBody = try RawConnection(port: port)
            try slowBody.send(
                "POST /api/v1/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "Content-Length: 100\r\n\r\n{\"run_id\":")
            try await waitUntil("the stalled header and body closed", timeout: .seconds(60)) {
                slowHeaders.isClosedByPeer && slowBody.isClosedByPeer
            }
            // The connection that never sent a byte is idle, with a minute to go.
            #expect(!quiet.isClosedByPeer)
            #expect(try await Self.healthz(port: port).hasPrefix("HTTP/1.1 200"))
            quiet.close()
        }
    }
}
