/// How urgent an alert is.
///
/// A warning means "look at this soon"; a critical means "this is a problem right now, you should
/// probably stop the run". The order matters: `.critical > .warning`.
public enum Severity: String, Sendable, Hashable, Codable, CaseIterable, Comparable, CustomStringConvertible {
    case warning
    case critical

    public static func < (lhs: Severity, rhs: Severity) -> Bool {
        lhs == .warning && rhs == .critical
    }

    public var description: String { rawValue }
}
