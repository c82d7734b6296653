import ArgumentParser
import Foundation
import RLWatch
import RLWatchCore
import RLWatchStore

/// The resolved configuration and store location a command works with.
struct CommandContext {
    var config: RLWatchConfig
    var databasePath: String

    init(_ options: StoreOptions, runID: String? = nil) throws {
        // TODO(config): layered loading through ConfigLoader (YAML discovery, env, validation).
        var config = RLWatchConfig()
        let environment = ProcessInfo.processInfo.environment
        if let dir = environment["RLWATCH_LOG_DIR"] { config.storage.logDir = dir }
        if let dir = options.logDir { config.storage.logDir = dir }
        if let runID { config.runID = runID }
        self.config = config
        databasePath = URL(fileURLWithPath: config.storage.logDir).appendingPathComponent(config.storage.dbName).path
    }

    /// Opens the store for writing, creating the directory and file as needed.
    func openStore() throws -> SQLiteStore {
        try SQLiteStore(path: databasePath)
    }

    /// Opens an existing store for reading; a missing file exits 1 with 0.5.1's message.
    func openExistingStore() throws -> SQLiteStore {
        guard FileManager.default.fileExists(atPath: databasePath) else {
            printError("No rlwatch database found at \(databasePath)")
            printError("Make sure you have completed at least one monitored training run.")
            throw ExitStatus.failure
        }
        return try SQLiteStore(path: databasePath)
    }
}
