import Foundation
import Logging
import RLWatchPostgres
import RLWatchSQLite
import RLWatchStore

/// Where a run's store is: the SQLite file (the embedded default) or a shared PostgreSQL database.
///
/// Every command opens its store through here (`--database`, `storage.url`, `RLWATCH_DATABASE_URL`), so replay,
/// watch, demo, serve and the read commands accept the same locations.
public enum StoreLocation: Sendable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(PostgresURL)

    /// Parses `postgres://…`, `postgresql://…` or `sqlite:PATH`.
    ///
    /// - Throws: ``StoreLocationError`` for anything else (a password is never repeated in it).
    public init(url text: String) throws {
        if PostgresURL.isPostgres(text) {
            self = .postgres(try PostgresURL(text))
        } else if text.lowercased().hasPrefix("sqlite:") {
            var path = String(text.dropFirst("sqlite:".count))
            if path.hasPrefix("//") { path.removeFirst(2) }
            guard !path.isEmpty else { throw StoreLocationError(text: text) }
            self = .sqlite(path: path)
        } else {
            throw StoreLocationError(text: text)
        }
    }

    /// The path or URL, password masked.
    public var description: String {
        switch self {
        case .sqlite(let path): path
        case .postgres(let url): url.description
        }
    }

    /// Opens the store for writing (an SQLite file is created as needed; a PostgreSQL database must have been
    /// migrated with `rlwatch db migrate` unless `migrate`), runs `body`, then closes it.
    ///
    /// - Parameters:
    ///   - migrate: apply PostgreSQL's missing migrations first.
    ///   - logger: the PostgreSQL driver's logger.
    /// - Throws: ``StoreOpenError`` when the store cannot be opened; what `body` throws.
    public func withStore<T: Sendable>(
        migrate: Bool = false, logger: Logger, _ body: (any Store) async throws -> T
    ) async throws -> T {
        switch self {
        case .sqlite(let path):
            let store: SQLiteStore
            do {
                store = try SQLiteStore(path: path)
            } catch {
                throw StoreOpenError(description: "cannot open the database at \(path): \(error)")
            }
            defer { try? store.close() }
            return try await body(store)
        case .postgres(let url):
            do {
                return try await PostgresStore.withStore(url: url, migrate: migrate, logger: logger) { try await body($0) }
            } catch let error as PostgresStoreError {
                throw StoreOpenError(description: "\(error)")
            }
        }
    }

    /// Where a read command looks for an SQLite database when none was named: `relative` (the log dir's database)
    /// below the working directory and each directory above it, then below the home directory; and which of those
    /// exist, nearest first.
    public static func searchSQLite(
        _ relative: String, workingDirectory: String = FileManager.default.currentDirectoryPath,
        home: String = ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()
    ) -> (candidates: [String], found: [String]) {
        var candidates: [String] = []
        var directory = URL(fileURLWithPath: workingDirectory).standardizedFileURL
        while true {
            candidates.append(directory.appendingPathComponent(relative).standardizedFileURL.path)
            let parent = directory.deletingLastPathComponent()
            if parent.path == directory.path { break }
            directory = parent
        }
        let inHome = URL(fileURLWithPath: home).appendingPathComponent(relative).standardizedFileURL.path
        if !candidates.contains(inHome) { candidates.append(inHome) }
        return (candidates, candidates.filter { FileManager.default.fileExists(atPath: $0) })
    }

    /// Opens an existing store to read it, runs `body`, then closes it: an SQLite file read-only (an older rlwatch
    /// database is read as it is, never upgraded by a read), a PostgreSQL database as ``withStore(migrate:logger:_:)``.
    ///
    /// - Throws: ``StoreOpenError`` when the file is missing or the store cannot be opened; what `body` throws.
    public func withExistingStore<T: Sendable>(logger: Logger, _ body: (any Store) async throws -> T) async throws -> T {
        guard case .sqlite(let path) = self else { return try await withStore(logger: logger, body) }
        guard FileManager.default.fileExists(atPath: path) else {
            throw StoreOpenError(
                description: "No rlwatch database found at \(path)", missingFile: true)
        }
        let store: SQLiteStore
        do {
            store = try SQLiteStore.openExisting(path: path, readOnly: true)
        } catch {
            throw StoreOpenError(description: "\(error)")
        }
        defer { try? store.close() }
        return try await body(store)
    }
}

/// A `--database` / `storage.url` that is neither a PostgreSQL URL nor `sqlite:PATH`.
public struct StoreLocationError: Error, CustomStringConvertible {
    public var text: String

    public var description: String {
        "invalid database \"\(PostgresURL.isPostgres(text) ? "postgres://…" : text)\": expected postgres://USER@HOST:PORT/DB"
            + "[?sslmode=...] or sqlite:PATH"
    }
}

/// A store that could not be opened: unreachable, unmigrated, unreadable or (read commands) missing.
public struct StoreOpenError: Error, CustomStringConvertible {
    /// What went wrong and, where there is one, what to do.
    public var description: String
    /// The SQLite file a read command asked for does not exist.
    public var missingFile = false
}
