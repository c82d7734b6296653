import Hummingbird

/// A static asset as served: its bytes, content type and entity tag (a hash of the bytes, fixed per build).
///
/// Pages link assets as `/assets/NAME?v=ETAG`, so a new build's assets are fetched at once while a browser
/// caches the current ones for a year without asking again.
struct AssetFile: Sendable {
    let body: String
    let contentType: String
    /// The ETag header value, quoted.
    let etag: String
    /// The hash alone, for `?v=` in links.
    let etagValue: String

    init(body: String, contentType: String) {
        self.body = body
        self.contentType = contentType
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in body.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        etagValue = String(hash, radix: 16)
        etag = "\"\(etagValue)\""
    }

    static let css = AssetFile(body: DashboardAssets.css, contentType: "text/css; charset=utf-8")
    static let javascript = AssetFile(body: DashboardAssets.javascript, contentType: "text/javascript; charset=utf-8")

    /// The asset, or 304 when the request already holds this version.
    func response(to request: Request) -> Response {
        var headers: HTTPFields = [
            .eTag: etag,
            .cacheControl: "public, max-age=31536000, immutable",
            .xContentTypeOptions: "nosniff",
        ]
        if let held = request.headers[.ifNoneMatch], held.split(separator: ",").contains(where: {
            $0.trimmingCharacters(in: .whitespaces) == etag
        }) {
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentType] = contentType
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
