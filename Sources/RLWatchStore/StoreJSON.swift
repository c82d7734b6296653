import RLWatchCore

/// The JSON of the store's text columns (`extra_json`, `metric_values_json`, `config_json`), shared by every
/// store.
///
/// Written with ``JSONValue``'s writer: object key order survives (an alert's `metric_values` is ordered), and so do
/// non-finite doubles (as the strings `"NaN"`, `"Infinity"`, `"-Infinity"`) and the sign of `-0.0`; `extra_json`, on
/// the append hot path, is written straight from the dictionary with its keys sorted. Read with the shared ``JSONReader`` in its Python-lenient mode, since rlwatch 0.5.1
/// wrote Python's bare `NaN`/`Infinity` tokens.
enum StoreJSON {
    // MARK: Writing

    /// `extras` as a JSON object with sorted keys, or nil when there are none.
    static func encodeExtras(_ extras: [String: Double]) -> String? {
        if extras.isEmpty { return nil }
        var out = "{"
        out.reserveCapacity(extras.count * 40)
        var first = true
        // One sort of the pairs: no second hash lookup per key.
        for (key, value) in extras.sorted(by: { $0.key < $1.key }) {
            if !first { out.append(",") }
            first = false
            JSONValue.writeString(key, to: &out)
            out.append(":")
            JSONValue.writeNumber(value, to: &out)
        }
        out.append("}")
        return out
    }

    /// An alert's metric values as a JSON object in their order.
    static func encodeMetricValues(_ values: MetricValues) -> String {
        values.json.serialized()
    }

    // MARK: Reading

    /// The numeric members of a stored `extra_json` object; other members are skipped.
    static func decodeExtras(_ text: String) throws(JSONError) -> [String: Double] {
        let value = try JSONReader.parse(text, mode: .pythonLenient)
        if value == .null { return [:] }
        guard case .object(let members) = value else { throw notAnObject(value) }
        var extras: [String: Double] = [:]
        extras.reserveCapacity(members.count)
        for (key, member) in members {
            if let number = double(member) { extras[key] = number }
        }
        return extras
    }

    /// A stored `metric_values_json` object, in its order.
    static func decodeMetricValues(_ text: String) throws(JSONError) -> MetricValues {
        let value = try JSONReader.parse(text, mode: .pythonLenient)
        if value == .null { return MetricValues() }
        guard case .object(let members) = value else { throw notAnObject(value) }
        return MetricValues(members.map { (key: $0.0, value: metricValue($0.1)) })
    }

    private static func notAnObject(_ value: JSONValue) -> JSONError {
        JSONError(kind: .typeMismatch, line: 1, column: 1, message: "expected a JSON object, got \(value.typeDescription)")
    }

    /// A number, or one of the strings that stand for a non-finite double.
    private static func double(_ value: JSONValue) -> Double? {
        switch value {
        case .int(let int): Double(int)
        case .double(let double): double
        case .string(let s): nonFinite(s)
        case .null, .bool, .array, .object: nil
        }
    }

    private static func metricValue(_ value: JSONValue) -> MetricValue {
        switch value {
        case .null: .null
        case .bool(let b): .int(b ? 1 : 0)
        case .int(let int): .int(int)
        case .double(let double): .double(double)
        case .string(let s): nonFinite(s).map(MetricValue.double) ?? .string(s)
        case .array, .object: .string(value.serialized())
        }
    }

    private static func nonFinite(_ string: String) -> Double? {
        switch string {
        case "NaN": .nan
        case "Infinity": .infinity
        case "-Infinity": -.infinity
        default: nil
        }
    }
}
