import Foundation
import RLWatchCore

/// Finds, reads and layers the configuration: defaults → YAML file → `RLWATCH_*` environment → command-line
/// flags, then auto-enables alert channels whose destination is set (unless `enabled` was written explicitly).
///
/// The environment and working directory are injected, so tests neither read nor change the process's own.
///
/// Differences from rlwatch 0.5.1: an explicit `--config PATH` that does not exist is an error (0.5.1 silently used
/// the defaults); every key is validated, and all problems are reported together; an explicit `enabled: false`
/// beats auto-enable.
public struct ConfigLoader: Sendable {
    /// Searched in the working directory in this order when no path is given; the first that exists is used.
    public static let discoveredFileNames = ["rlwatch.yaml", "rlwatch.yml", ".rlwatch.yaml"]

    /// The variables to read `RLWATCH_*` from (others are ignored), and `HOME` for a `~/` in `--config`.
    public var environment: [String: String]
    /// The directory searched for the configuration file and against which a relative `--config` is resolved.
    public var workingDirectory: String

    /// - Parameters:
    ///   - environment: defaults to the process's environment.
    ///   - workingDirectory: defaults to the process's current directory.
    public init(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        workingDirectory: String = FileManager.default.currentDirectoryPath
    ) {
        self.environment = environment
        self.workingDirectory = workingDirectory
    }

    /// Resolves the configuration.
    ///
    /// - Parameters:
    ///   - configPath: `--config PATH`, relative to ``workingDirectory``; nil searches ``discoveredFileNames``.
    ///   - flags: command-line flags, applied last (they beat the environment and the file).
    /// - Returns: the configuration with the source of each key, for `rlwatch config show`.
    /// - Throws: ``ConfigError`` when an explicit file is missing or unreadable, or listing every problem of the
    ///   file, the environment and the flags together.
    public func load(configPath: String? = nil, flags: [ConfigFlag] = []) throws(ConfigError) -> ResolvedConfig {
        var layers: [ConfigLayer] = []
        if let file = try locateConfigFile(explicitPath: configPath) {
            layers.append(.yaml(try read(file), file: file.displayName))
        }
        layers.append(.environment(environment))
        if !flags.isEmpty {
            layers.append(.flags(flags))
        }
        return try ResolvedConfig.resolve(layers, autoEnableChannels: true)
    }

    /// A configuration file: the name messages use and the absolute path it is read from.
    public struct ConfigFile: Sendable, Hashable {
        /// As the user wrote it (`--config`) or as found (`rlwatch.yaml`).
        public var displayName: String
        public var path: String
    }

    /// The file ``load(configPath:flags:)`` reads.
    ///
    /// - Parameter explicitPath: `--config PATH`; when given, it must exist.
    /// - Returns: nil when no path is given and none of ``discoveredFileNames`` exists.
    /// - Throws: ``ConfigError`` when the explicit path does not exist.
    public func locateConfigFile(explicitPath: String?) throws(ConfigError) -> ConfigFile? {
        if let explicitPath {
            let path = absolutePath(explicitPath)
            guard FileManager.default.fileExists(atPath: path) else {
                throw .fileNotFound(path: explicitPath, hint: "given with --config; run `rlwatch init` to create one")
            }
            return ConfigFile(displayName: explicitPath, path: path)
        }
        for name in Self.discoveredFileNames {
            let path = absolutePath(name)
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue {
                return ConfigFile(displayName: name, path: path)
            }
        }
        return nil
    }

    private func read(_ file: ConfigFile) throws(ConfigError) -> String {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: file.path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw .unreadableFile(path: file.displayName, reason: "it is a directory")
        }
        guard let data = FileManager.default.contents(atPath: file.path) else {
            throw .unreadableFile(path: file.displayName, reason: "permission denied or I/O error")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw .unreadableFile(path: file.displayName, reason: "it is not UTF-8 text")
        }
        return text
    }

    private func absolutePath(_ path: String) -> String {
        if path.hasPrefix("/") {
            return path
        }
        if path == "~" || path.hasPrefix("~/"), let home = environment["HOME"] {
            return home + path.dropFirst()
        }
        let base = workingDirectory.hasSuffix("/") ? workingDirectory : workingDirectory + "/"
        return base + path
    }
}
