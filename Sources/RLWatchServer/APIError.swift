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
    /// Seconds the client should wait before retrying, sent as `Retry-After` (a 503 when the store failed).
    public var retryAfter: Int?

    public init(
        status: Int, message: String, index: Int? = nil, field: String? = nil, key: String? = nil, retryAfter: Int? = nil
    ) {
        self.status = status
        self.message = message
        self.index = index
        self.field = field
        self.key = key
        self.retryAfter = retryAfter
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

    /// The store failed: a 503 that says what in a few words (never the SQL) and when to retry.
    static func storeUnavailable(_ summary: String, doing what: String) -> APIError {
        APIError(status: 503, message: "\(what): \(summary); retry later", retryAfter: storeRetryAfter)
    }

    /// The `Retry-After` of a 503 for a failed store, in seconds.
    static let storeRetryAfter = 5

    static let unauthorized = APIError(
        status: 401, message: "missing or wrong bearer token (send `Authorization: Bearer <token>`)")
}
