import ArgumentParser
import RLWatchDashboard

/// The connection limits `serve` and `dashboard` accept (README, "Reliability limits").
struct ConnectionOptions: ParsableArguments {
    @Option(
        name: .customLong("max-connections"),
        help: """
            Most connections open at once; at the cap a new one replaces the longest-idle connection, or is answered \
            503 when all are busy (lowered to stay 128 below the open-file limit).
            """)
    var maxConnections = ConnectionLimits().maxConnections

    @Option(name: .customLong("idle-timeout"), help: "Seconds a connection may stay open with no request in progress.")
    var idleTimeout = 30.0

    @Option(name: .customLong("header-timeout"), help: "Seconds a client has to send a request's headers in full.")
    var headerTimeout = 10.0

    @Option(name: .customLong("body-timeout"), help: "Seconds a request body may stall before the connection is closed.")
    var bodyTimeout = 30.0

    var limits: ConnectionLimits {
        ConnectionLimits(
            maxConnections: maxConnections, idleTimeout: .seconds(idleTimeout), headerTimeout: .seconds(headerTimeout),
            bodyTimeout: .seconds(bodyTimeout))
    }

    func validate() throws {
        for (name, value) in [("--idle-timeout", idleTimeout), ("--header-timeout", headerTimeout), ("--body-timeout", bodyTimeout)]
        where !(value > 0 && value <= 86_400) {
            throw ValidationError("\(name) must be > 0 and <= 86400 seconds (got \(value))")
        }
        if let problem = limits.problem { throw ValidationError(problem) }
    }
}
