import Foundation
import Hummingbird
import RLWatchCore

/// Requires `Authorization: Bearer <token>` on every request but `/healthz` when the server has a token.
struct BearerTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: [UInt8]

    init(token: String) { self.token = Array(token.utf8) }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.uri.path == "/healthz" { return try await next(request, context) }
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "),
            Self.constantTimeEqual(Array(header.dropFirst("Bearer ".count).utf8), token)
        else {
            var response = APIRoutes.json(APIError.unauthorized.json.serialized(), status: .unauthorized)
            response.headers[.wwwAuthenticate] = "Bearer realm=\"rlwatch\""
            return response
        }
        return try await next(request, context)
    }

    /// Compares without returning early, so the time taken does not tell how much of a guess was right.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
        for index in 0..<max(a.count, b.count) {
            let x = index < a.count ? a[index] : 0
            let y = index < b.count ? b[index] : 0
            difference |= x ^ y
        }
        return difference == 0
    }
}

/// Records each request's latency under its route pattern (`/api/v1/runs/{run}/steps`).
struct LatencyMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServerMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let clock = ContinuousClock()
        let start = clock.now
        let response = try await next(request, context)
        let route = context.endpointPath.map { $0.replacingOccurrences(of: ":run", with: "{run}") } ?? "unmatched"
        metrics.requestDuration(route: route, method: request.method.rawValue).record(clock.now - start)
        return response
    }
}
