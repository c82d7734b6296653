import Yams

/// Bounds how large a YAML document may grow once its aliases are expanded.
///
/// `Yams.compose` shares an anchored node among its aliases, so a document of a few hundred bytes whose anchors
/// each repeat the previous one nine times (a "billion laughs") composes cheaply into a tree of nine to the ninth
/// nodes; walking it, as the config loader must, took 8 GB and minutes. A real configuration or corpus manifest
/// has a few hundred nodes, so every loader checks the expanded size first and refuses a document past the limit,
/// naming the place where it was exceeded.
public enum YAMLExpansionLimit {
    /// The most nodes (scalars, lists, mappings, keys included) a document may hold with its aliases expanded.
    public static let maximumNodes = 100_000

    /// The node at which the expanded tree of `root` passes `limit` nodes, nil when it holds no more.
    ///
    /// The walk counts a node when it is reached, before looking inside it, so it costs O(`limit`) time and memory
    /// however far the aliases would expand.
    ///
    /// - Parameters:
    ///   - limit: the most nodes allowed.
    ///   - root: a composed document.
    /// - Returns: the first node past the limit (its mark is where that node was written, usually an anchor).
    public static func firstNode(beyond limit: Int = maximumNodes, in root: Node) -> Node? {
        var counted = 1
        var pending = [root]
        while let node = pending.popLast() {
            let children: [Node]
            switch node {
            case .scalar, .alias: continue
            case .sequence(let sequence): children = Array(sequence)
            case .mapping(let mapping): children = mapping.flatMap { [$0.key, $0.value] }
            }
            for child in children {
                counted += 1
                if counted > limit { return child }
                pending.append(child)
            }
        }
        return nil
    }

    /// The problem to report for a document past the limit, without its position.
    public static var problem: String {
        "the document holds more than \(maximumNodes) values once its aliases (*name) are expanded: aliases that "
            + "repeat other aliases multiply; write the values out or use fewer levels of aliases"
    }
}
