import ArgumentParser
import Foundation
import RLWatch
import RLWatchCore
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
    }

    /// Opens the store for writing, creating the directory and file as needed.
    func openStore() throws -> SQLiteStore {
        try SQLiteStore(path: databasePath)
    }

    /// Opens an existing store read-only (an older rlwatch database is read as it is, never upgraded by a
    /// read); a missing file exits 1 with 0.5.1's message.
    func openExistingStore() throws -> SQLiteStore {
        guard FileManager.default.fileExists(atPath: databasePath) else {
            printError("No rlwatch database found at \(databasePath)")
            printError("Make sure you have completed at least one monitored training run.")
            throw ExitStatus.failure
        }
        do {
            return try SQLiteStore.openExisting(path: databasePath, readOnly: true)
        } catch {
            printError("error: \(error)")
            throw ExitStatus.failure
        }
    }
}
