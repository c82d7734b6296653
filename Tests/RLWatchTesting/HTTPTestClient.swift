import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A small HTTP client for tests that talk to real servers on 127.0.0.1.
public struct HTTPTestClient: Sendable {
    /// One answer: status, headers (lower-cased names) and body.
    public struct Reply: Sendable, CustomStringConvertible {
        public var status: Int
        public var headers: [String: String]
        public var body: Data

        public var text: String { String(decoding: body, as: UTF8.self) }

        /// The body parsed as a JSON object, or nil.
        public var object: [String: Any]? { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] }

        public var description: String { "HTTP \(status): \(text.prefix(2000))" }
    }

    public var baseURL: URL
    public var headers: [String: String]
    public var timeout: TimeInterval

    public init(port: Int, host: String = "127.0.0.1", headers: [String: String] = [:], timeout: TimeInterval = 90) {
        baseURL = URL(string: "http://\(host):\(port)")!
        self.headers = headers
        self.timeout = timeout
    }

    public func get(_ path: String, headers: [String: String] = [:]) async throws -> Reply {
        try await send("GET", path, body: nil, headers: headers)
    }

    public func post(_ path: String, json: Any, headers: [String: String] = [:]) async throws -> Reply {
        let body = try JSONSerialization.data(withJSONObject: json)
        return try await send("POST", path, body: body, headers: ["Content-Type": "application/json"].merging(headers) { $1 })
    }

    public func post(_ path: String, body: Data, contentType: String?, headers: [String: String] = [:]) async throws -> Reply {
        var all = headers
        if let contentType { all["Content-Type"] = contentType }
        return try await send("POST", path, body: body, headers: all)
    }

    public func send(_ method: String, _ path: String, body: Data?, headers: [String: String] = [:]) async throws -> Reply {
        var request = URLRequest(url: URL(string: path, relativeTo: baseURL)!)
        request.httpMethod = method
        request.timeoutInterval = timeout
        for (name, value) in self.headers.merging(headers, uniquingKeysWith: { $1 }) {
            request.setValue(value, forHTTPHeaderField: name)
        }
        request.httpBody = body
        let (data, response) = try await URLSession.shared.data(for: request)
        guard let http = response as? HTTPURLResponse else { throw URLError(.badServerResponse) }
        var headers: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            headers[String(describing: name).lowercased()] = String(describing: value)
        }
        return Reply(status: http.statusCode, headers: headers, body: data)
    }
}
