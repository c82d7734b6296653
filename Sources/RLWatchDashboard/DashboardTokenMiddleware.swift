import Crypto
import Foundation
import Hummingbird

/// Lets a browser use the dashboard of a server that requires a bearer token.
///
/// A browser cannot add `Authorization` to a link, so the token is given once in the address
/// (`http://host:port/?token=TOKEN`): this middleware checks it, sets an `HttpOnly`, `SameSite=Strict` session
/// cookie and redirects to the same address without it (so it does not stay in the history or in a `Referer`).
/// The cookie holds a value derived from the token (HMAC-SHA256 of a fixed label, keyed by the token), never the
/// token itself: a cookie read off a browser's disk opens the dashboard but cannot write to the API, and it stops
/// working when the token changes. It is marked `Secure` when the request came over HTTPS through a proxy
/// (`X-Forwarded-Proto: https` or `Forwarded: proto=https`), since rlwatch itself serves plain HTTP.
/// Later GET requests carrying the cookie are let through as if they had the bearer header; requests that change
/// something (POST) still need the header, so a cross-site form cannot use the cookie.
///
/// Under `rlwatch serve` (`enforce: false`) the API's own bearer middleware comes next and makes the decision; the
/// standalone `rlwatch dashboard` (`enforce: true`) has no other check, so this one rejects by itself.
public struct DashboardTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The session cookie.
    public static var cookieName: String { "rlwatch_token" }

    let token: String
    let enforce: Bool
    /// The cookie's value: see the type's documentation.
    let session: String

    /// - Parameters:
    ///   - token: the server's token.
    ///   - enforce: reject requests without a valid token here (true), or only translate the cookie and leave the
    ///     rejection to a bearer-token middleware added after this one (false).
    public init(token: String, enforce: Bool) {
        self.token = token
        self.enforce = enforce
        session = Self.sessionValue(token: token)
    }

    /// The session cookie's value for a token: hex HMAC-SHA256 keyed by the token.
    static func sessionValue(token: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(
            for: Data("rlwatch dashboard session v1".utf8), using: SymmetricKey(data: Data(token.utf8)))
        return mac.map { String(format: "%02x", $0) }.joined()
    }

    /// Whether the browser reached us over HTTPS, as a TLS-terminating proxy in front of rlwatch says.
    static func viaHTTPS(_ request: Request) -> Bool {
        if request.headers[values: .init("X-Forwarded-Proto")!].contains(where: { $0.lowercased() == "https" }) {
            return true
        }
        return request.headers[values: .init("Forwarded")!].contains { $0.lowercased().contains("proto=https") }
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.uri.path == "/healthz" { return try await next(request, context) }
        let isRead = request.method == .get || request.method == .head
        if isRead, let given = request.uri.queryParameters["token"] {
            guard Self.constantTimeEqual(String(given), token) else { return unauthorized(request) }
            var location = request.uri.path
            let rest = request.uri.queryParameters.filter { $0.key != "token" }
            if !rest.isEmpty {
                location += "?" + rest.map { "\(HTML.queryValue(String($0.key)))=\(HTML.queryValue(String($0.value)))" }
                    .joined(separator: "&")
            }
            return Response(
                status: .seeOther,
                headers: [
                    .location: location, .cacheControl: "no-store",
                    .setCookie: "\(Self.cookieName)=\(session); Path=/; HttpOnly; SameSite=Strict"
                        + (Self.viaHTTPS(request) ? "; Secure" : ""),
                ])
        }
        if let header = request.headers[.authorization], header.hasPrefix("Bearer "),
            Self.constantTimeEqual(String(header.dropFirst("Bearer ".count)), token)
        {
            return try await next(request, context)
        }
        if isRead, let cookie = cookieSession(request), Self.constantTimeEqual(cookie, session) {
            var head = request.head
            head.headerFields[.authorization] = "Bearer \(token)"
            return try await next(Request(head: head, body: request.body), context)
        }
        if enforce || Self.isPage(request) { return unauthorized(request) }
        return try await next(request, context)
    }

    private func cookieSession(_ request: Request) -> String? {
        for field in request.headers[values: .cookie] {
            for part in field.split(separator: ";") {
                let pair = part.trimmingCharacters(in: .whitespaces)
                let prefix = Self.cookieName + "="
                if pair.hasPrefix(prefix) { return String(pair.dropFirst(prefix.count)) }
            }
        }
        return nil
    }

    /// Dashboard pages (not the JSON API): a 401 there is an HTML page that says how to get in.
    static func isPage(_ request: Request) -> Bool {
        !request.uri.path.hasPrefix("/api/") && request.uri.path != "/metrics"
    }

    private func unauthorized(_ request: Request) -> Response {
        var headers: HTTPFields = [.wwwAuthenticate: "Bearer realm=\"rlwatch\"", .cacheControl: "no-store"]
        if Self.isPage(request) {
            headers[.contentType] = "text/html; charset=utf-8"
            let page = Pages.message(
                title: "Token required",
                text: "This rlwatch server requires its token. Open the dashboard once as http://HOST:PORT/?token=YOUR_TOKEN; the browser then keeps it in a cookie.")
            return Response(status: .unauthorized, headers: headers, body: .init(byteBuffer: ByteBuffer(string: page)))
        }
        headers[.contentType] = "application/json"
        return Response(
            status: .unauthorized, headers: headers,
            body: .init(byteBuffer: ByteBuffer(string: #"{"error":{"message":"missing or invalid bearer token"}}"#)))
    }

    /// Compares without returning early, so the time taken does not tell how much of a guess was right.
    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var difference = UInt8(truncatingIfNeeded: x.count ^ y.count)
        for index in 0..<max(x.count, y.count) {
            difference |= (index < x.count ? x[index] : 0) ^ (index < y.count ? y[index] : 0)
        }
        return difference == 0
    }
}
