/// One value in an alert's `metric_values`: a number, an integer, a string or null.
///
/// Non-finite doubles are kept as they are; encoders decide how to write them (the JSONL output
/// writes them as the strings `"NaN"`, `"Infinity"`, `"-Infinity"`).
public enum MetricValue: Sendable, Hashable, CustomStringConvertible {
    case double(Double)
    case int(Int)
    case string(String)
    case null

    public var doubleValue: Double? {
        switch self {
        case .double(let d): d
        case .int(let i): Double(i)
        case .string, .null: nil
        }
    }

    public var description: String {
        switch self {
        case .double(let d): formatNumber(d)
        case .int(let i): String(i)
        case .string(let s): s
        case .null: "null"
        }
    }
}

/// The ordered `metric_values` of an alert. Order is the emission order, kept through the store and JSON.
public struct MetricValues: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral {
    public private(set) var entries: [(key: String, value: MetricValue)]

    public init() { entries = [] }
    public init(_ entries: [(key: String, value: MetricValue)]) { self.entries = entries }
    public init(dictionaryLiteral elements: (String, MetricValue)...) {
        entries = elements.map { (key: $0.0, value: $0.1) }
    }

    public subscript(key: String) -> MetricValue? {
        get { entries.first { $0.key == key }?.value }
        set {
            if let index = entries.firstIndex(where: { $0.key == key }) {
                if let newValue { entries[index].value = newValue } else { entries.remove(at: index) }
            } else if let newValue {
                entries.append((key: key, value: newValue))
            }
        }
    }

    public var count: Int { entries.count }
    public var keys: [String] { entries.map(\.key) }

    public func makeIterator() -> IndexingIterator<[(key: String, value: MetricValue)]> { entries.makeIterator() }

    public static func == (lhs: MetricValues, rhs: MetricValues) -> Bool {
        lhs.entries.elementsEqual(rhs.entries) { $0.key == $1.key && $0.value == $1.value }
    }

    public func hash(into hasher: inout Hasher) {
        for (key, value) in entries {
            hasher.combine(key)
            hasher.combine(value)
        }
    }
}

/// Formats a double the way Swift and Python print it (shortest round trip), with `NaN`, `Infinity`
/// and `-Infinity` for the non-finite values.
public func formatNumber(_ value: Double) -> String {
    if value.isNaN { return "NaN" }
    if value.isInfinite { return value > 0 ? "Infinity" : "-Infinity" }
    return "\(value)"
}

/// `value` with exactly `decimals` digits after the point, rounded half away from zero.
public func fixed(_ value: Double, decimals: Int) -> String {
    if value.isNaN { return "NaN" }
    if value.isInfinite { return value > 0 ? "Infinity" : "-Infinity" }
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let scaled = (abs(value) * scale).rounded(.toNearestOrAwayFromZero)
    if scaled >= 9.0e18 { return "\(value)" }
    let integer = UInt64(scaled)
    let unit = UInt64(scale)
    let whole = integer / unit
    let fraction = integer % unit
    var text = (value < 0 && integer != 0 ? "-" : "") + String(whole)
    if decimals > 0 {
        let fractionText = String(fraction)
        text += "." + String(repeating: "0", count: decimals - fractionText.count) + fractionText
    }
    return text
}
