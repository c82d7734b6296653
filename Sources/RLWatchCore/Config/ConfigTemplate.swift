/// The YAML that `rlwatch init` writes and `rlwatch config show` prints.
public enum ConfigTemplate {
    /// The complete default `rlwatch.yaml`: every section and key in rlwatch 0.5.1's order (our additions last in
    /// their section), each with a one-line comment. It parses back to exactly `RLWatchConfig()`, and PyYAML
    /// (rlwatch 0.5.1) reads it too.
    public static let defaultYAML: String = {
        var lines = [
            "# rlwatch configuration, written by `rlwatch init`. All values below are the defaults; a commented-out",
            "# key is unset by default. Delete any key to keep its default. RLWATCH_* environment variables override",
            "# this file, and command-line flags override both. `rlwatch config show` prints the result and where each",
            "# value came from.",
        ]
        appendTemplate(ConfigOutline.items, config: RLWatchConfig(), depth: 0, to: &lines)
        return lines.joined(separator: "\n") + "\n"
    }()

    /// `config show`: the resolved configuration, secrets redacted, as YAML with `# from: <source>` after each key.
    ///
    /// - Parameter resolved: the configuration and its sources, as `ConfigLoader` returns them.
    /// - Returns: text ending in a newline; it parses back to `resolved.config.redacted()`.
    public static func show(_ resolved: ResolvedConfig) -> String {
        var rows: [(text: String, source: String?)] = [
            ("# rlwatch configuration as resolved; secrets shown as \(RLWatchConfig.redactionPlaceholder)", nil),
            ("# config file: \(resolved.configFile ?? "none (defaults, environment and flags only)")", nil),
        ]
        appendShow(ConfigOutline.items, resolved: resolved, config: resolved.config.redacted(), depth: 0, to: &rows)
        let width = min(60, rows.filter { $0.source != nil }.map(\.text.count).max() ?? 0)
        let lines = rows.map { row -> String in
            guard let source = row.source else { return row.text }
            let padding = String(repeating: " ", count: max(1, width - row.text.count + 2))
            return row.text + padding + "# from: " + source
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func appendTemplate(
        _ items: [ConfigOutline.Item],
        config: RLWatchConfig,
        depth: Int,
        to lines: inout [String]
    ) {
        let indent = String(repeating: "  ", count: depth)
        for item in items {
            switch item {
            case .section(let name, let path, let children):
                if depth == 0 { lines.append("") }
                if let comment = ConfigSchema.sectionComments[path.joined(separator: ".")] {
                    lines.append("\(indent)# \(comment)")
                }
                lines.append("\(indent)\(name):")
                appendTemplate(children, config: config, depth: depth + 1, to: &lines)
            case .key(let name, let field):
                if depth == 0, lines.last?.hasPrefix("#") == true { lines.append("") }
                lines.append("\(indent)# \(field.comment)")
                if case .optionalDouble(_, let example) = field.kind, field.get(config) == .null {
                    // Left unset, so the file does not make it explicit; uncommenting it opts in.
                    lines.append("\(indent)# \(name): \(ConfigOutline.yaml(.double(example)))")
                } else {
                    lines.append("\(indent)\(name): \(ConfigOutline.yaml(field.get(config)))")
                }
            }
        }
    }

    private static func appendShow(
        _ items: [ConfigOutline.Item],
        resolved: ResolvedConfig,
        config: RLWatchConfig,
        depth: Int,
        to rows: inout [(text: String, source: String?)]
    ) {
        let indent = String(repeating: "  ", count: depth)
        for item in items {
            switch item {
            case .section(let name, _, let children):
                rows.append(("\(indent)\(name):", nil))
                appendShow(children, resolved: resolved, config: config, depth: depth + 1, to: &rows)
            case .key(let name, let field):
                let text = "\(indent)\(name): \(ConfigOutline.yaml(field.get(config)))"
                rows.append((text, resolved.sources[field.key].description))
            }
        }
    }
}
