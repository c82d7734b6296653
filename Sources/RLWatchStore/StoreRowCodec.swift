import Foundation
import RLWatchCore

/// The text and blob encodings the SQLite store uses for the values that have no column of their own, shared with
/// the other stores of this package (PostgreSQL) so that every backend writes the same bytes and `migrate-store`
/// copies them unchanged.
///
/// - `extras` and an alert's metric values: JSON objects whose non-finite doubles are the strings `"NaN"`,
///   `"Infinity"`, `"-Infinity"` (key order kept for metric values);
/// - per-sample rewards: little-endian float64s, NaN payloads included;
/// - a run's config: JSON whose unredacted secrets are replaced before it is stored.
package enum StoreRowCodec {
    package static func encodeExtras(_ extras: [String: Double]) -> String? {
        SQLiteJSON.encodeExtras(extras)
    }

    package static func decodeExtras(_ text: String) throws -> [String: Double] {
        try SQLiteJSON.decodeExtras(text)
    }

    package static func encodeMetricValues(_ values: MetricValues) -> String {
        SQLiteJSON.encodeMetricValues(values)
    }

    package static func decodeMetricValues(_ text: String) throws -> MetricValues {
        try SQLiteJSON.decodeMetricValues(text)
    }

    package static func encodeRewards(_ rewards: [Double]) -> Data {
        RewardsBlob.encode(rewards)
    }

    package static func decodeRewards(_ data: Data) -> [Double]? {
        RewardsBlob.decode(data)
    }

    /// The config with unredacted secrets replaced by `***`, and the dotted paths of the keys replaced.
    package static func redactSecrets(configJSON: String) -> (json: String, keyPaths: [String]) {
        SQLiteSecrets.redact(configJSON: configJSON)
    }

    package static var secretMarker: String { SQLiteSecrets.marker }
}
