import ArgumentParser
import Foundation
import Logging
import RLWatch
import RLWatchCore
import RLWatchPostgres
import RLWatchStore

/// The resolved configuration and store location a command works with.
struct CommandContext {
    var config: RLWatchConfig
    var databasePath: String

    var resolved: ResolvedConfig

    /// Resolves defaults → YAML → `RLWATCH_*` → flags; an invalid config exits 2 with every problem listed.
    init(_ options: StoreOptions, runID: String? = nil) throws {
        var flags: [ConfigFlag] = []
        if let dir = options.logDir { flags.append(.logDir(dir)) }
        if let runID { flags.append(.runID(runID)) }
        do {
            resolved = try ConfigLoader().load(configPath: options.configPath, flags: flags)
        } catch {
            printError("error: \(error.description)")
            throw ExitStatus.badInput
        }
        config = resolved.config
        databasePath = URL(fileURLWithPath: config.storage.logDir).appendingPathComponent(config.storage.dbName).path
        if config.storage.url.lowercased().hasPrefix("sqlite:"), case .sqlite(let path)? = try? StoreLocation(url: config.storage.url) {
            databasePath = path
        }
    }

    /// Where the store is: `--database` when given, else `storage.url` (or `RLWATCH_DATABASE_URL`), else the SQLite
    /// file in `storage.log_dir`. A malformed URL exits 2 naming where it came from.
    func storeLocation(database flag: String?) throws -> StoreLocation {
        let text: String
        let origin: String
        if let flag, !flag.isEmpty {
            text = flag
            origin = "--database"
        } else if !config.storage.url.isEmpty {
            text = config.storage.url
            origin = "storage.url (\(resolved.sources["storage.url"]))"
        } else {
            return .sqlite(path: databasePath)
        }
        do {
            return try StoreLocation(url: text)
        } catch {
            printError("error: \(origin): \(error)")
            throw ExitStatus.badInput
        }
    }

    /// Opens the store for writing (creating an SQLite file as needed; a PostgreSQL database must have been
    /// migrated with `rlwatch db migrate`), runs `body`, then closes it. An unreachable or unmigrated database exits
    /// 1 with what to do.
    func withStore<T: Sendable>(
        database flag: String?, migrate: Bool = false, _ body: (any Store) async throws -> T
    ) async throws -> T {
        let location = try storeLocation(database: flag)
        do {
            return try await location.withStore(migrate: migrate, logger: Self.storeLogger, body)
        } catch let error as StoreOpenError {
            printError("error: \(error)")
            throw ExitStatus.failure
        }
    }

    /// The PostgreSQL driver's logger: warnings and worse.
    static var storeLogger: Logger {
        var logger = Logger(label: "rlwatch.postgres")
        logger.logLevel = .warning
        return logger
    }

    /// Runs `body` with the store a writing command (`watch`, `demo`) keeps its run in: an in-memory one for
    /// `--no-store`, else the store of ``withStore(database:migrate:_:)``.
    func withWritingStore<T: Sendable>(
        database flag: String?, noStore: Bool, _ body: (any Store) async throws -> T
    ) async throws -> T {
        noStore ? try await body(InMemoryStore()) : try await withStore(database: flag, body)
    }

    /// Opens an existing store to read it, runs `body`, then closes it: the SQLite file read-only (an older rlwatch
    /// database is read as it is, never upgraded by a read; a missing file exits 1 with 0.5.1's message), or the
    /// PostgreSQL database of `--database` / `storage.url` / `RLWATCH_DATABASE_URL`.
    func withExistingStore<T: Sendable>(
        database flag: String?, searching: Bool = true, _ body: (any Store) async throws -> T
    ) async throws -> T {
        var location = try storeLocation(database: flag)
        if searching, case .sqlite = location, isDefaultLocation(database: flag) {
            location = .sqlite(path: try findExistingDatabase())
        }
        do {
            return try await location.withExistingStore(logger: Self.storeLogger, body)
        } catch let error as StoreOpenError {
            printError(error.missingFile ? error.description : "error: \(error)")
            if error.missingFile { printError("Make sure you have completed at least one monitored training run.") }
            throw ExitStatus.failure
        }
    }

    /// Whether the store is where `serve`, `watch` and `replay` put it when nothing says otherwise: no `--database`,
    /// no `storage.url`, no `--log-dir` or `storage.log_dir`, no `storage.db_name`.
    func isDefaultLocation(database flag: String?) -> Bool {
        (flag ?? "").isEmpty && config.storage.url.isEmpty && resolved.sources["storage.log_dir"] == .default
            && resolved.sources["storage.db_name"] == .default
    }

    /// With no database at the default place, the nearest one a default `serve`, `watch` or `replay` run from a
    /// directory above (or the home directory) wrote; says which it reads, and which others exist.
    func findExistingDatabase() throws -> String {
        let relative = (config.storage.logDir as NSString).appendingPathComponent(config.storage.dbName)
        let search = StoreLocation.searchSQLite(relative)
        guard let chosen = search.found.first else {
            printError("No rlwatch database found at \(databasePath)")
            printError("Looked in: \(search.candidates.joined(separator: ", "))")
            printError(
                "Make sure you have completed at least one monitored training run, or name the database with "
                    + "--database sqlite:PATH, --log-dir DIR or storage.url.")
            throw ExitStatus.failure
        }
        let others = search.found.dropFirst().joined(separator: ", ")
        if chosen == search.candidates.first {
            if !others.isEmpty {
                printError("reading \(chosen); other rlwatch databases: \(others) (pick one with --database sqlite:PATH)")
            }
            return chosen
        }
        var note = "no database at \(databasePath); reading \(chosen)"
        if !others.isEmpty {
            note += " (the nearest; also found \(others)); pick one with --database sqlite:PATH)"
        }
        printError(note)
        return chosen
    }
}
