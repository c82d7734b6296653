import Foundation

/// How long an HTTP connection may keep the server waiting on its client, and how many may be open at once.
///
/// Without these, idle or half-open connections pile up until the process runs out of file descriptors and stops
/// answering, `/healthz` included (issue 20: 1,100 idle connections froze `serve` and then crashed it).
public struct ConnectionLimits: Sendable, Hashable {
    /// The most connections open at once. At the cap a new connection first takes the place of the connection that
    /// has waited longest without a request in progress (idle, or still sending its headers); when every connection
    /// is busy with a request, the new one is answered 503 with `Retry-After` and closed.
    public var maxConnections: Int
    /// A connection with no request in progress is closed after this long.
    public var idleTimeout: Duration
    /// A request's headers must arrive in full within this long of its first byte.
    public var headerTimeout: Duration
    /// A request body that stalls (no bytes) for this long has its connection closed.
    public var bodyTimeout: Duration

    /// File descriptors kept out of the connection cap: the store, alert deliveries, log files.
    public static let reservedDescriptors = 128

    public init(
        maxConnections: Int = 4096, idleTimeout: Duration = .seconds(30), headerTimeout: Duration = .seconds(10),
        bodyTimeout: Duration = .seconds(30)
    ) {
        self.maxConnections = maxConnections
        self.idleTimeout = idleTimeout
        self.headerTimeout = headerTimeout
        self.bodyTimeout = bodyTimeout
    }

    /// Why these limits may not be used, or nil.
    public var problem: String? {
        if maxConnections < 1 { return "--max-connections must be >= 1 (got \(maxConnections))" }
        for (name, value) in [
            ("--idle-timeout", idleTimeout), ("--header-timeout", headerTimeout), ("--body-timeout", bodyTimeout),
        ] where value <= .zero {
            return "\(name) must be > 0 seconds (got \(value))"
        }
        return nil
    }

    /// The cap in force: ``maxConnections``, lowered to stay ``reservedDescriptors`` below the process's open-file
    /// limit, so that the cap refuses connections before `accept` runs out of descriptors.
    public var effectiveMaxConnections: Int {
        guard let limit = Self.openFileLimit() else { return maxConnections }
        return max(1, min(maxConnections, limit - Self.reservedDescriptors))
    }

    /// The soft limit on open files (`RLIMIT_NOFILE`), or nil when unlimited or unknown.
    public static func openFileLimit() -> Int? {
        var limit = rlimit()
        // RLIM_INFINITY is at least Int.max on Linux and macOS.
        guard getrlimit(Self.noFile, &limit) == 0, limit.rlim_cur < rlim_t(Int.max) else { return nil }
        return Int(clamping: limit.rlim_cur)
    }

    /// Raises the soft limit on open files to the hard limit (as Go's runtime does), so that the default cap is not
    /// held to a 1,024 soft limit; returns the soft limit now in force. For commands, not libraries: it changes the
    /// whole process.
    @discardableResult
    public static func raiseOpenFileLimit() -> Int? {
        var limit = rlimit()
        if getrlimit(Self.noFile, &limit) == 0, limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            #if os(macOS)
            raised.rlim_cur = min(raised.rlim_cur, rlim_t(OPEN_MAX))
            #endif
            _ = setrlimit(Self.noFile, &raised)
        }
        return openFileLimit()
    }

    #if os(Linux)
    private static let noFile = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
    private static let noFile = RLIMIT_NOFILE
    #endif
}
