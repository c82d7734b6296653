import RLWatchCore

/// Escaping for the three places the dashboard puts data into a page: element text, attribute values and an
/// inline JSON block.
///
/// Every value that comes from the store (run ids, messages, config text, detector names) goes through one of
/// these; the page script builds DOM with `textContent` only, so escaping happens exactly once, here.
enum HTML {
    /// `text` safe inside element content and inside a double-quoted attribute value.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }

    /// JSON text safe inside `<script type="application/json">`: `<`, `>` and `&` (which only occur inside JSON
    /// strings) become `\u003c`-style escapes, so no value can close the script element.
    static func scriptJSON(_ value: JSONValue) -> String {
        var out = ""
        for character in value.serialized().unicodeScalars {
            switch character {
            case "<": out += "\\u003c"
            case ">": out += "\\u003e"
            case "&": out += "\\u0026"
            case "\u{2028}": out += "\\u2028"
            case "\u{2029}": out += "\\u2029"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }

    /// `text` percent-encoded for a query value: everything but unreserved characters (RFC 3986).
    static func queryValue(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".unicodeScalars)
                out += "%"
                out.unicodeScalars.append(hex[Int(byte >> 4)])
                out.unicodeScalars.append(hex[Int(byte & 0xF)])
            }
        }
        return out
    }

    /// The link to a run's page.
    static func runLink(_ runID: String) -> String { "/run?id=\(queryValue(runID))" }

    /// A query string repeating `key` once per value: `run=a&run=b`.
    static func repeated(_ key: String, _ values: [String]) -> String {
        values.map { "\(key)=\(queryValue($0))" }.joined(separator: "&")
    }
}
