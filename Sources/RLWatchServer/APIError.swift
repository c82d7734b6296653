import RLWatchCore

/// An error answered to an API client: an HTTP status and a JSON body
/// `{"error": {"message": …, "index": …, "field": …, "key": …}}` (the optional members only when known).
public struct APIError: Error, Sendable, Hashable, CustomStringConvertible {
    public var status: Int
    public var message: String
    /// The position of the rejected step in its batch (0-based).
    public var index: Int?
    /// The step field at fault (`"loss"`, `"rewards"`, `"step"`).
    public var field: String?
    /// The configuration key at fault, for a rejected `config`.
    public var key: String?

    public init(status: Int, message: String, index: Int? = nil, field: String? = nil, key: String? = nil) {
        self.status = status
        self.message = message
        self.index = index
        self.field = field
        self.key = key
    }

    public var description: String { "\(status): \(message)" }

    public var json: JSONValue {
        var error: [(String, JSONValue)] = [("message", .string(message))]
        if let index { error.append(("index", .int(index))) }
        if let field { error.append(("field", .string(field))) }
        if let key { error.append(("key", .string(key))) }
        return .object([("error", .object(error))])
    }

    static func badRequest(_ message: String, index: Int? = nil, field: String? = nil) -> APIError {
        APIError(status: 400, message: message, index: index, field: field)
    }

    static func notFound(_ message: String) -> APIError { APIError(status: 404, message: message) }

    static let unauthorized = APIError(
        status: 401, message: "missing or wrong bearer token (send `Authorization: Bearer <token>`)")
}
