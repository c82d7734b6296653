import Foundation
import RLWatchCore

/// The text and blob encodings of the values that have no column of their own, shared by the SQLite and PostgreSQL
/// stores so that every backend writes the same bytes and `migrate-store`
/// copies them unchanged.
///
/// - `extras` and an alert's metric values: JSON objects whose non-finite doubles are the strings `"NaN"`,
///   `"Infinity"`, `"-Infinity"` (key order kept for metric values);
/// - per-sample rewards: little-endian float64s, NaN payloads included;
/// - a run's config: JSON whose unredacted secrets are replaced before it is stored.
package enum StoreRowCodec {
    package static func encodeExtras(_ extras: [String: Double]) -> String? {
        StoreJSON.encodeExtras(extras)
    }

    package static func decodeExtras(_ text: String) throws -> [String: Double] {
        try StoreJSON.decodeExtras(text)
    }

    package static func encodeMetricValues(_ values: MetricValues) -> String {
        StoreJSON.encodeMetricValues(values)
    }

    package static func decodeMetricValues(_ text: String) throws -> MetricValues {
        try StoreJSON.decodeMetricValues(text)
    }

    /// Per-sample rewards as a BLOB of little-endian IEEE-754 float64s: exact, NaN payloads included, and a plain
    /// `memcpy` on every platform Swift runs on.
    package static func encodeRewards(_ rewards: [Double]) -> Data {
        #if _endian(little)
            return rewards.withUnsafeBytes { Data($0) }
        #else
            var data = Data(capacity: rewards.count * 8)
            for value in rewards { withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
            return data
        #endif
    }

    package static func decodeRewards(_ data: Data) -> [Double]? {
        guard data.count % 8 == 0 else { return nil }
        let count = data.count / 8
        return data.withUnsafeBytes { raw in
            [Double](unsafeUninitializedCapacity: count) { buffer, initialized in
                for index in 0..<count {
                    let bits = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self))
                    buffer[index] = Double(bitPattern: bits)
                }
                initialized = count
            }
        }
    }

    /// The config with unredacted secrets replaced by `***`, and the dotted paths of the keys replaced.
    package static func redactSecrets(configJSON: String) -> (json: String, keyPaths: [String]) {
        StoreSecrets.redact(configJSON: configJSON)
    }

    package static var secretMarker: String { StoreSecrets.marker }
}
