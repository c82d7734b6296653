#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What tells one log file from another at the same path: its device and inode, and a fingerprint of its
/// first bytes (a file copied over the old one, or an inode reused after a delete, keeps the path and may
/// keep the inode, but not the first line).
struct FileIdentity: Codable, Hashable, Sendable {
    /// How many first bytes are fingerprinted, at most.
    static let headLimit = 512

    var device: UInt64
    var inode: UInt64
    /// How many first bytes the fingerprint covers (fewer than ``headLimit`` while the file is shorter).
    var headLength: Int
    var headDigest: String

    /// How the file open as `descriptor` relates to the one this identity was taken of.
    enum Change: Equatable {
        case same
        /// Another file at the path: another inode, or other first bytes.
        case replaced(String)
        /// The same file, shorter than what was read of it (truncated in place, or rewritten shorter).
        case truncated
    }

    /// The identity of the open file `descriptor`.
    ///
    /// - Returns: nil when the file cannot be examined.
    static func of(descriptor: Int32, status: stat) -> FileIdentity? {
        let length = Int(min(Int64(headLimit), Int64(status.st_size)))
        guard let digest = headDigest(descriptor: descriptor, length: length) else { return nil }
        return FileIdentity(
            device: UInt64(status.st_dev), inode: UInt64(status.st_ino), headLength: length, headDigest: digest)
    }

    /// Whether the open file `descriptor` is still the file of this identity, read up to `offset`.
    func change(descriptor: Int32, status: stat, offset: Int64) -> Change {
        if UInt64(status.st_dev) != device || UInt64(status.st_ino) != inode {
            return .replaced("it is another file now (new inode)")
        }
        if Int64(status.st_size) < offset { return .truncated }
        if Int64(status.st_size) < Int64(headLength) { return .truncated }
        guard let digest = Self.headDigest(descriptor: descriptor, length: headLength), digest == headDigest else {
            return .replaced("its first bytes changed")
        }
        return .same
    }

    /// The warning a followed file's source gives when `identity` (what was read so far, `offset` bytes of it) is
    /// no longer the file at `path`: replaced or truncated, so it is read from the start as a new segment; nil when
    /// it is the same file.
    static func changeNote(
        _ identity: FileIdentity, path: String, descriptor: Int32, status: stat, offset: Int64
    ) -> WatchNote? {
        switch identity.change(descriptor: descriptor, status: status, offset: offset) {
        case .same:
            return nil
        case .replaced(let why):
            return WatchNote(.warning, "\(path) was replaced (\(why)); reading it from the start as a new segment")
        case .truncated:
            return WatchNote(
                .warning,
                "\(path) was truncated (\(status.st_size) bytes, \(offset) read before); "
                    + "reading it from the start as a new segment")
        }
    }

    /// The identity to store after a read: taken when there is none, and retaken while the file is shorter than
    /// ``headLimit`` (so the fingerprint grows to cover the full head); otherwise `current`.
    static func refreshed(_ current: FileIdentity?, descriptor: Int32, status: stat) -> FileIdentity? {
        guard current == nil || (current?.headLength ?? 0) < headLimit else { return current }
        return of(descriptor: descriptor, status: status) ?? current
    }

    private static func headDigest(descriptor: Int32, length: Int) -> String? {
        var bytes = [UInt8](repeating: 0, count: length)
        var done = 0
        while done < length {
            let count = bytes.withUnsafeMutableBytes { buffer in
                pread(descriptor, buffer.baseAddress.map { $0 + done }, length - done, off_t(done))
            }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { return nil }
            done += count
        }
        var hash = FNV1a()
        bytes.withUnsafeBytes { hash.add($0) }
        return hash.hex
    }
}
