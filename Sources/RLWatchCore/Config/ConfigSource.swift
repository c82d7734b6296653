/// Where the value of one configuration key came from.
///
/// `rlwatch config show` prints one per key, and every ``ConfigIssue`` carries the source of the value at fault
/// so its message can name the file and line, the environment variable or the flag to fix.
public enum ConfigSource: Sendable, Hashable, CustomStringConvertible {
    /// The value `RLWatchConfig()` starts with.
    case `default`
    /// A key written in a YAML file; line and column count from 1 (columns in Unicode scalars).
    case file(path: String, line: Int, column: Int)
    /// One of the `RLWATCH_*` environment variables.
    case environment(variable: String)
    /// A command-line flag such as `--log-dir`.
    case flag(name: String)
    /// A dictionary of overrides, such as the body of an HTTP request; `label` says which.
    case override(label: String)
    /// A channel's `enabled` switched on because the key named here (its URL or recipients) is set.
    case autoEnabled(by: String)

    /// `default`, `rlwatch.yaml:12:3`, `env RLWATCH_SMTP_PORT`, `flag --log-dir`, …
    public var description: String {
        switch self {
        case .default: "default"
        case .file(let path, let line, let column): "\(path):\(line):\(column)"
        case .environment(let variable): "env \(variable)"
        case .flag(let name): "flag \(name)"
        case .override(let label): label
        case .autoEnabled(let key): "auto-enabled because \(key) is set"
        }
    }

    /// Whether a person wrote this value somewhere (a file, the environment, a flag, an override), as opposed to
    /// rlwatch choosing it.
    public var isExplicit: Bool {
        switch self {
        case .default, .autoEnabled: false
        case .file, .environment, .flag, .override: true
        }
    }

    /// The prefix of an issue message located at this source: `rlwatch.yaml:12:3: ` for a file.
    var issuePrefix: String {
        switch self {
        case .default, .autoEnabled: ""
        case .file(let path, let line, let column): "\(path):\(line):\(column): "
        case .environment(let variable): "environment variable \(variable): "
        case .flag(let name): "\(name): "
        case .override(let label): "\(label): "
        }
    }
}

/// The source of every configuration key, by its dotted YAML name (`alerts.slack.webhook_url`).
///
/// Keys never written anywhere are absent from storage and read back as ``ConfigSource/default``.
public struct ConfigSources: Sendable, Hashable {
    private var storage: [String: ConfigSource] = [:]

    public init() {}

    /// The source of `key` (a dotted YAML name); ``ConfigSource/default`` when nothing set it.
    public subscript(key: String) -> ConfigSource {
        get { storage[key] ?? .default }
        set {
            if newValue == .default {
                storage[key] = nil
            } else {
                storage[key] = newValue
            }
        }
    }

    /// The keys whose value did not come from the defaults, sorted.
    public var nonDefaultKeys: [String] { storage.keys.sorted() }
}
