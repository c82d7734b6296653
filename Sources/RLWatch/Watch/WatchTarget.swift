import Foundation

/// A path given to `rlwatch watch`: a log file, or a directory whose log files are watched.
public struct WatchTarget {
    /// The absolute path.
    public var path: String
    public var isDirectory: Bool
    public var kind: WatchSourceKind

    /// - Parameters:
    ///   - path: as the user gave it; made absolute against the working directory.
    ///   - kind: how its sources are found and read.
    /// - Throws: ``WatchError`` when the path does not exist.
    public init(path: String, kind: WatchSourceKind) throws {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        var directory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: absolute, isDirectory: &directory) else {
            throw WatchError.cannotWatch(path, "no such file or directory")
        }
        self.path = absolute
        isDirectory = directory.boolValue
        self.kind = kind
    }

    /// The source ids it holds now.
    func sourceIDs() -> [String] {
        isDirectory ? kind.list(path) : [path]
    }
}
