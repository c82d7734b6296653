extension RLWatchConfig {
    /// Parses an `rlwatch.yaml` over the defaults, validating every key.
    ///
    /// Pure: reads no file and no environment (``ResolvedConfig/resolve(_:autoEnableChannels:)`` and `ConfigLoader`
    /// add those) and does not auto-enable alert channels. An empty document, and an empty section, mean defaults.
    ///
    /// - Parameters:
    ///   - yaml: the file's text.
    ///   - file: how messages name the file (`rlwatch.yaml`, or the path given with `--config`).
    /// - Returns: the configuration and, for every key the file sets, its line and column.
    /// - Throws: ``ConfigError`` listing every problem: malformed YAML, unknown sections and keys, wrong types,
    ///   values out of range.
    public static func parse(yaml: String, file: String = "rlwatch.yaml") throws(ConfigError) -> ResolvedConfig {
        try ResolvedConfig().applying(.yaml(yaml, file: file))
    }

    /// This configuration with `overrides` applied, validated exactly as a YAML file is.
    ///
    /// - Parameters:
    ///   - overrides: nested like the YAML file, with its key names (`["kl_explosion": ["sigma_multiplier": 4]]`);
    ///     dotted keys (`"kl_explosion.sigma_multiplier"`) also work. Lists and header maps replace, not merge.
    ///   - source: names the overrides in messages, such as `.override(label: "POST /api/runs")`.
    /// - Throws: ``ConfigError`` listing every problem; nothing is applied then.
    public func applying(
        overrides: [String: JSONValue],
        source: ConfigSource = .override(label: "overrides")
    ) throws(ConfigError) -> RLWatchConfig {
        try ResolvedConfig(config: self).applying(.overrides(overrides, source: source)).config
    }
}
