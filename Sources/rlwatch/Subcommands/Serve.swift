import ArgumentParser
import Foundation
import Logging
import RLWatch
import RLWatchCore
import RLWatchDashboard
import RLWatchServer
import RLWatchStore

extension RLWatchCommand {
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the monitor as an HTTP service that training jobs send their metrics to.",
            discussion: """
                Binds to 127.0.0.1:8765 by default. Binding to any other address requires a token (--token-file, \
                RLWATCH_TOKEN or --token; at least 16 characters), checked as a bearer token on every API call. Prints \
                `rlwatch serve listening on http://HOST:PORT` on standard output once it accepts connections \
                (--port 0 picks a free port). SIGTERM or SIGINT stops it after the requests in flight.
                """)

        @OptionGroup var options: StoreOptions

        @OptionGroup var connections: ConnectionOptions

        @Option(help: "Address to bind (a non-loopback address requires a token).")
        var host = "127.0.0.1"

        @Option(help: "Port to listen on; 0 picks a free one.")
        var port = 8765

        @OptionGroup var tokens: TokenOptions

        @Option(
            name: .customLong("database"),
            help: """
                Shared store: postgres://USER@HOST:PORT/DB[?sslmode=...] (several servers may share it) or sqlite:PATH \
                (default: storage.url, $RLWATCH_DATABASE_URL, else metrics.db in --log-dir).
                """)
        var database: String?

        @Option(name: .customLong("max-body-mb"), help: "Largest request body accepted, in MiB.")
        var maxBodyMiB = 32

        @Option(
            name: .customLong("exit-with-parent"),
            help: "Shut down when this process id ends (the Python client passes its own pid to a server it starts).")
        var parentPID: Int32?

        func validate() throws {
            guard maxBodyMiB >= 1 else { throw ValidationError("--max-body-mb must be >= 1") }
        }

        func run() async throws {
            let context = try CommandContext(options)
            var configured = ServerSettings(
                host: host, port: port, token: try tokens.resolveOrExit(), maxBodyBytes: maxBodyMiB << 20)
            configured.connectionLimits = connections.limits
            let settings = configured
            ConnectionLimits.raiseOpenFileLimit()
            if let problem = settings.problem {
                printError("error: \(problem)")
                throw ExitStatus.badInput
            }
            var serveLogger = Logger(label: "rlwatch.serve")
            serveLogger.logLevel = .info
            let logger = serveLogger
            let host = host
            let parentPID = parentPID
            let database = try context.storeLocation(database: self.database).description
            try await context.withStore(database: self.database) { store in
                let server = MonitorServer(
                    settings: settings, config: context.config, store: store, sinks: [ConsoleAlertPrinter()], logger: logger)
                let retention = RetentionService.configured(for: context.config, store: store, clock: .system, logger: logger)
                do {
                    try await server.run(exitWithParent: parentPID, retention: retention) { port in
                        let shown = host.contains(":") ? "[\(host)]" : host
                        // Written straight to the file descriptor: tests and the Python client wait for this line.
                        FileHandle.standardOutput.write(Data("rlwatch serve listening on http://\(shown):\(port)\n".utf8))
                        printError("database: \(database)\(settings.token == nil ? "" : "  (bearer token required)")")
                    }
                } catch {
                    printError("error: \(error)")
                    throw ExitStatus.failure
                }
            }
            printError("rlwatch serve: stopped")
        }
    }
}
