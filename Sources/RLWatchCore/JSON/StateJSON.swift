import Foundation

/// State that rlwatch writes and reads back itself (a watch's position in a file, a tracker log's position), as
/// JSON of a `Codable` value: keys sorted, so that an unchanged state compares equal as text, and non-finite
/// numbers as the strings `"NaN"`, `"Infinity"` and `"-Infinity"`, ``JSONValue``'s policy (a default
/// `JSONEncoder` refuses them, and a pending step with a NaN loss lost its saved position).
///
/// It keeps `JSONEncoder`/`JSONDecoder` rather than ``JSONValue``: the states are nested `Codable` structs that
/// nothing else reads, and a hand-written conversion of each would be more code to get wrong.
package enum StateJSON {
    /// The state's JSON text; nil only for a value `JSONEncoder` cannot encode at all.
    package static func encode(_ value: some Encodable) -> String? {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) }
    }

    package static func decode<T: Decodable>(_ type: T.Type, from text: String) throws -> T {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return try decoder.decode(type, from: Data(text.utf8))
    }
}
