import ArgumentParser
import Foundation
import Logging
import RLWatch
import RLWatchCore
import RLWatchDashboard
import RLWatchServer
import RLWatchStore
import ServiceLifecycle

extension RLWatchCommand {
    struct Dashboard: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Serve the web dashboard (runs, charts, alerts, live updates, exports) for a log directory.",
            discussion: """
                Binds to dashboard.host:dashboard.port (127.0.0.1:8501 by default). Binding to a non-loopback address \
                requires a token (--token-file, RLWATCH_TOKEN or --token; at least 16 characters); a browser gives it once as http://HOST:PORT/?token=TOKEN \
                and then keeps it in a cookie. Reads the database read-only, so it can run beside `rlwatch watch` or \
                `rlwatch serve` writing the same file; `rlwatch serve` also serves the dashboard at / on its own port. \
                Prints `rlwatch dashboard listening on http://HOST:PORT` once it accepts connections (--port 0 picks a \
                free port). SIGTERM or SIGINT stops it.
                """)

        @OptionGroup var options: StoreOptions

        @OptionGroup var connections: ConnectionOptions

        @Option(help: "Address to bind (default: dashboard.host, 127.0.0.1; a non-loopback address requires a token).")
        var host: String?

        @Option(help: "Port to listen on (default: dashboard.port, 8501); 0 picks a free one.")
        var port: Int?

        @OptionGroup var tokens: TokenOptions

        @Option(help: "The store: postgres://USER@HOST:PORT/DB or sqlite:PATH (default: storage.url, else metrics.db in the log dir).")
        var database: String?

        @Option(name: .customLong("stall-after"), help: "Seconds without a new step after which an open run is marked stalled (default: each run's own stall limit, from its config).")
        var stallAfter: Double?

        func validate() throws {
            if let port, !(0...65_535).contains(port) { throw ValidationError("--port must be between 0 and 65535 (got \(port))") }
            guard stallAfter.map({ $0 > 0 }) ?? true else { throw ValidationError("--stall-after must be > 0") }
        }

        func run() async throws {
            let context = try CommandContext(options)
            let host = host ?? context.config.dashboard.host
            let port = port ?? context.config.dashboard.port
            let token = try tokens.resolveOrExit()
            if !ServerSettings.isLoopback(host) && token == nil {
                printError("error: binding to \(host) (not a loopback address) requires a token: pass --token-file, set RLWATCH_TOKEN or pass --token")
                throw ExitStatus.badInput
            }
            var logger = Logger(label: "rlwatch.dashboard")
            logger.logLevel = .info
            var dashboardOptions = DashboardOptions()
            dashboardOptions.stallAfter = stallAfter
            let shownDatabase = try context.storeLocation(database: database).description
            let limits = connections.limits
            ConnectionLimits.raiseOpenFileLimit()
            let serve: @Sendable (any Store) async throws -> Void = { [logger, dashboardOptions] store in
                let server = DashboardServer(
                    host: host, port: port, token: token, limits: limits,
                    routes: DashboardRoutes(store: store, options: dashboardOptions, logger: logger), logger: logger)
                let service = server.service { bound in
                    let shown = host.contains(":") ? "[\(host)]" : host
                    // Written straight to the file descriptor: tests wait for this line.
                    FileHandle.standardOutput.write(Data("rlwatch dashboard listening on http://\(shown):\(bound)\n".utf8))
                    printError(
                        "database: \(shownDatabase)"
                            + (token == nil ? "" : "  (token required: open http://\(shown):\(bound)/?token=YOUR_TOKEN once)"))
                }
                let group = ServiceGroup(
                    configuration: .init(services: [service], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
                try await group.run()
            }
            do {
                // Read-only: the dashboard never creates or upgrades a database, and reads beside its writer.
                try await context.withExistingStore(database: database, searching: false) { store in try await serve(store) }
            } catch let exit as ExitCode {
                throw exit
            } catch {
                printError("error: \(error)")
                throw ExitStatus.failure
            }
            printError("rlwatch dashboard: stopped")
        }
    }
}
