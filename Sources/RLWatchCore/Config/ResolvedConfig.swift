/// A configuration together with the source of every key's value.
///
/// Built by layering: ``resolve(_:autoEnableChannels:)`` starts from `RLWatchConfig()` and applies each
/// ``ConfigLayer`` in order, later layers winning key by key. `ConfigLoader` (module RLWatch) uses
/// defaults → YAML file → `RLWATCH_*` environment → command-line flags.
public struct ResolvedConfig: Sendable, Hashable {
    public var config: RLWatchConfig
    public var sources: ConfigSources
    /// The YAML file applied last, as named in its layer; nil when no file was read.
    public var configFile: String?

    public init(
        config: RLWatchConfig = RLWatchConfig(), sources: ConfigSources = ConfigSources(), configFile: String? = nil
    ) {
        self.config = config
        self.sources = sources
        self.configFile = configFile
    }

    /// Applies `layers` in order over the defaults, then (optionally) auto-enables alert channels.
    ///
    /// Every layer is applied even when an earlier one has problems, so one error lists the problems of the file,
    /// the environment and the flags together.
    ///
    /// - Parameters:
    ///   - layers: the layers, lowest precedence first.
    ///   - autoEnableChannels: whether to call ``autoEnablingChannels()`` at the end.
    /// - Returns: the resolved configuration.
    /// - Throws: ``ConfigError`` listing every issue of every layer.
    public static func resolve(_ layers: [ConfigLayer], autoEnableChannels: Bool = true) throws(ConfigError)
        -> ResolvedConfig
    {
        try ResolvedConfig().applying(layers, autoEnableChannels: autoEnableChannels)
    }

    /// Applies `layers` in order over this configuration; see ``resolve(_:autoEnableChannels:)``.
    public func applying(_ layers: [ConfigLayer], autoEnableChannels: Bool = false) throws(ConfigError)
        -> ResolvedConfig
    {
        var applier = ConfigApplier(resolved: self)
        for layer in layers {
            applier.apply(layer)
        }
        guard applier.issues.isEmpty else { throw ConfigError(issues: applier.issues) }
        return autoEnableChannels ? applier.resolved.autoEnablingChannels() : applier.resolved
    }

    /// Applies one layer over this configuration.
    ///
    /// - Throws: ``ConfigError`` listing every issue of the layer; nothing is applied then.
    public func applying(_ layer: ConfigLayer) throws(ConfigError) -> ResolvedConfig {
        try applying([layer])
    }

    /// Switches on each alert channel whose destination is set (Slack or Discord `webhook_url`, email `to_addrs`,
    /// webhook `url`), as rlwatch 0.5.1 does, unless its `enabled` key was written explicitly somewhere.
    ///
    /// 0.5.1 also overrode an explicit `enabled: false`; here the written value wins, so a URL can stay configured
    /// while its channel is switched off.
    public func autoEnablingChannels() -> ResolvedConfig {
        var result = self
        for (enabledKey, destinationKey) in Self.channelDestinations {
            guard let enabled = ConfigSchema.fieldsByKey[enabledKey],
                let destination = ConfigSchema.fieldsByKey[destinationKey],
                enabled.get(config) == .bool(false), !sources[enabledKey].isExplicit
            else { continue }
            let isSet: Bool
            switch destination.get(config) {
            case .string(let value): isSet = !value.isEmpty
            case .strings(let values): isSet = !values.isEmpty
            default: isSet = false
            }
            if isSet {
                enabled.set(&result.config, .bool(true))
                result.sources[enabledKey] = .autoEnabled(by: destinationKey)
            }
        }
        return result
    }

    /// Each channel's `enabled` key and the key whose being set switches it on.
    private static let channelDestinations: [(enabled: String, destination: String)] = [
        ("alerts.slack.enabled", "alerts.slack.webhook_url"),
        ("alerts.email.enabled", "alerts.email.to_addrs"),
        ("alerts.discord.enabled", "alerts.discord.webhook_url"),
        ("alerts.webhook.enabled", "alerts.webhook.url"),
        ("alerts.pagerduty.enabled", "alerts.pagerduty.routing_key"),
    ]
}

/// One source of configuration values, applied over the previous ones.
public enum ConfigLayer: Sendable, Hashable {
    /// The text of a YAML file; `file` is how issues and `config show` name it (`rlwatch.yaml`).
    case yaml(String, file: String)
    /// Environment variables; only the 15 of ``ConfigEnvironment/variables`` are read, the rest ignored.
    case environment([String: String])
    /// A JSON-style dictionary with the YAML's nesting and names; a key may also be dotted
    /// (`"kl_explosion.sigma_multiplier"`). Every value gets `source`.
    case overrides([String: JSONValue], source: ConfigSource)
    /// Command-line flags, each setting one key.
    case flags([ConfigFlag])
}

/// A command-line flag that sets one configuration key, such as `--log-dir` setting `storage.log_dir`.
public struct ConfigFlag: Sendable, Hashable {
    /// The flag as the user typed it, for messages and `config show` (`--log-dir`).
    public var name: String
    /// The dotted YAML key it sets (`storage.log_dir`).
    public var key: String
    public var value: JSONValue

    public init(name: String, key: String, value: JSONValue) {
        self.name = name
        self.key = key
        self.value = value
    }

    public static func runID(_ value: String) -> ConfigFlag {
        ConfigFlag(name: "--run-id", key: "run_id", value: .string(value))
    }

    public static func framework(_ value: String) -> ConfigFlag {
        ConfigFlag(name: "--framework", key: "framework", value: .string(value))
    }

    public static func logDir(_ value: String) -> ConfigFlag {
        ConfigFlag(name: "--log-dir", key: "storage.log_dir", value: .string(value))
    }

    public static func dashboardHost(_ value: String) -> ConfigFlag {
        ConfigFlag(name: "--host", key: "dashboard.host", value: .string(value))
    }

    public static func dashboardPort(_ value: Int) -> ConfigFlag {
        ConfigFlag(name: "--port", key: "dashboard.port", value: .int(value))
    }
}

/// The `RLWATCH_*` environment variables of rlwatch 0.5.1 and the keys they set.
public enum ConfigEnvironment {
    /// In 0.5.1's order. A variable set to the empty string still overrides (as in 0.5.1), except
    /// `RLWATCH_EMAIL_TO`, whose empty entries are dropped, and the validated ones (`RLWATCH_SMTP_PORT`,
    /// `RLWATCH_FRAMEWORK`), for which it is an error.
    public static let variables: [(name: String, key: String)] = [
        ("RLWATCH_SLACK_WEBHOOK_URL", "alerts.slack.webhook_url"),
        ("RLWATCH_SLACK_CHANNEL", "alerts.slack.channel"),
        ("RLWATCH_SMTP_HOST", "alerts.email.smtp_host"),
        ("RLWATCH_SMTP_PORT", "alerts.email.smtp_port"),
        ("RLWATCH_SMTP_USER", "alerts.email.smtp_user"),
        ("RLWATCH_SMTP_PASSWORD", "alerts.email.smtp_password"),
        ("RLWATCH_EMAIL_FROM", "alerts.email.from_addr"),
        ("RLWATCH_EMAIL_TO", "alerts.email.to_addrs"),
        ("RLWATCH_RUN_ID", "run_id"),
        ("RLWATCH_LOG_DIR", "storage.log_dir"),
        ("RLWATCH_FRAMEWORK", "framework"),
        ("RLWATCH_DISCORD_WEBHOOK_URL", "alerts.discord.webhook_url"),
        ("RLWATCH_WEBHOOK_URL", "alerts.webhook.url"),
        ("RLWATCH_WEBHOOK_TEMPLATE", "alerts.webhook.template_json"),
        // Addition.
        ("RLWATCH_PAGERDUTY_ROUTING_KEY", "alerts.pagerduty.routing_key"),
        ("RLWATCH_DATABASE_URL", "storage.url"),
    ]

    /// The node for one variable's raw value, typed as its key expects.
    static func node(for raw: String, key: String, source: ConfigSource) -> ConfigNode {
        switch key {
        case "alerts.email.smtp_port":
            // Like Python's int(): surrounding whitespace is fine, anything else is reported as the string it is.
            if let port = Int(ConfigText.trimmed(raw)) {
                return ConfigNode(value: .int(port), source: source, text: raw)
            }
            return ConfigNode(value: .string(raw), source: source)
        case "alerts.email.to_addrs":
            let addresses = raw.split(separator: ",").map { ConfigText.trimmed(String($0)) }.filter { !$0.isEmpty }
            return ConfigNode(
                value: .sequence(addresses.map { ConfigNode(value: .string($0), source: source) }), source: source)
        default:
            return ConfigNode(value: .string(raw), source: source)
        }
    }
}

/// Applies layers to a ``ResolvedConfig``, collecting issues instead of stopping at the first.
struct ConfigApplier {
    var resolved: ResolvedConfig
    var issues: [ConfigIssue] = []

    mutating func apply(_ layer: ConfigLayer) {
        switch layer {
        case .yaml(let text, let file):
            do {
                if let root = try ConfigNode.parse(yaml: text, file: file) {
                    applyRoot(root)
                }
                resolved.configFile = file
            } catch {
                issues.append(error.issue)
            }
        case .environment(let environment):
            for (name, key) in ConfigEnvironment.variables {
                guard let raw = environment[name], let field = ConfigSchema.fieldsByKey[key] else { continue }
                let source = ConfigSource.environment(variable: name)
                apply(ConfigEnvironment.node(for: raw, key: key, source: source), to: field, keySource: source)
            }
        case .overrides(let overrides, let source):
            applyRoot(ConfigNode(.object(overrides.map { ($0.key, $0.value) }), source: source))
        case .flags(let flags):
            for flag in flags {
                applyRoot(ConfigNode(.object([(flag.key, flag.value)]), source: .flag(name: flag.name)))
            }
        }
    }

    mutating func applyRoot(_ root: ConfigNode) {
        switch root.value {
        case .null:
            return
        case .mapping(let entries):
            applyMapping(entries, at: [])
        default:
            issues.append(.notAMapping(key: nil, got: root.got, at: root.source))
        }
    }

    private mutating func applyMapping(_ entries: [ConfigNode.Entry], at path: [String]) {
        for entry in entries {
            let childPath = path + [entry.key]
            let dotted = childPath.joined(separator: ".")
            if let field = ConfigSchema.fieldsByKey[dotted], field.path == childPath {
                apply(entry.value, to: field, keySource: entry.keySource)
            } else if ConfigSchema.isSection(childPath) {
                switch entry.value.value {
                case .null:
                    continue  // `entropy_collapse:` with nothing under it keeps the defaults (0.5.1 crashed).
                case .mapping(let children):
                    applyMapping(children, at: childPath)
                default:
                    issues.append(.notAMapping(key: dotted, got: entry.value.got, at: entry.keySource))
                }
            } else {
                reportUnknown(entry, at: path)
            }
        }
    }

    private mutating func reportUnknown(_ entry: ConfigNode.Entry, at path: [String]) {
        let known = ConfigSchema.names(under: path)
        var suggestion = ConfigSuggestion.closest(to: entry.key, in: known)
        if suggestion == nil, let elsewhere = ConfigSuggestion.elsewhere(entry.key) {
            suggestion = elsewhere
        }
        if path.isEmpty {
            issues.append(.unknownSection(entry.key, suggestion: suggestion, known: known, at: entry.keySource))
        } else {
            issues.append(
                .unknownKey(
                    entry.key,
                    section: path.joined(separator: "."),
                    suggestion: suggestion,
                    known: known,
                    at: entry.keySource
                )
            )
        }
    }

    mutating func apply(_ node: ConfigNode, to field: ConfigField, keySource: ConfigSource) {
        guard let value = field.decode(node, keySource: keySource, issues: &issues) else { return }
        field.set(&resolved.config, value)
        resolved.sources[field.key] = keySource
    }
}
