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

/// `value` with exactly `digits` significant digits: fixed-point between 1e-3 and 1e5 (`0.1235`, `12.35`,
/// `1235`, `12346`), scientific outside it (`2.700e+07`, `1.000e-05`), `0` for zero.
///
/// Tables and chart axes use it so that every number of a column carries the same precision: four fixed
/// decimals printed a 2.7e7 gradient spike as `27000000.0000` and a 1e-5 learning rate as `0.0000`.
public func formatSignificant(_ value: Double, digits: Int = 4) -> String {
    if value.isNaN { return "NaN" }
    if value.isInfinite { return value > 0 ? "Infinity" : "-Infinity" }
    if value == 0 { return "0" }
    let digits = max(1, digits)
    var exponent = decimalExponent(of: value)
    // Rounding can carry into the next decade (9.99996 → 10.000): then one digit fewer after the point.
    if let rounded = Double(fixed(value / power10(exponent), decimals: digits - 1)), abs(rounded) >= 10 { exponent += 1 }
    if exponent >= -3, exponent < 5 {
        return fixed(value, decimals: max(0, digits - 1 - exponent))
    }
    let sign = exponent < 0 ? "-" : "+"
    let power = String(abs(exponent))
    return fixed(value / power10(exponent), decimals: digits - 1) + "e" + sign + (power.count < 2 ? "0" + power : power)
}

/// The exponent `e` with 10^e ≤ |value| < 10^(e+1), for a finite non-zero value.
private func decimalExponent(of value: Double) -> Int {
    var magnitude = abs(value)
    var exponent = 0
    while magnitude >= 10 {
        magnitude /= 10
        exponent += 1
    }
    while magnitude < 1 {
        magnitude *= 10
        exponent -= 1
    }
    return exponent
}

/// 10 to an integer power, exactly for the powers a Double holds exactly (|e| ≤ 22).
private func power10(_ exponent: Int) -> Double {
    var result = 1.0
    for _ in 0..<abs(exponent) { result *= 10 }
    return exponent < 0 ? 1 / result : result
}
