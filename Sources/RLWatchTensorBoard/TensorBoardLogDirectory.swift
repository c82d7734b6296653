import Foundation

/// Finding the event files of a TensorBoard log directory.
public enum TensorBoardLogDirectory {
    /// The prefix of every event file's name.
    ///
    /// TensorFlow, `torch.utils.tensorboard` and tensorboardX name files
    /// `events.out.tfevents.<unix seconds>.<hostname>[.<pid>.<counter>][suffix]`.
    public static let eventFilePrefix = "events.out.tfevents."

    /// Whether a file name is an event file's.
    public static func isEventFile(name: String) -> Bool {
        name.hasPrefix(eventFilePrefix)
    }

    /// The creation time in an event file's name, if there is one.
    public static func timestamp(ofEventFile name: String) -> Int? {
        guard isEventFile(name: name) else { return nil }
        let digits = name.dropFirst(eventFilePrefix.count).prefix { $0.isASCII && $0.isNumber }
        return Int(digits)
    }

    /// The event files under `directory`, recursively, in reading order.
    ///
    /// The order is by run (relative directory, by name), then within a run by the timestamp in the file
    /// name, then by name: the order a restarted trainer wrote them in.
    ///
    /// - Parameter directory: The log directory (for example `output_dir/runs` of a Hugging Face trainer).
    /// - Returns: The files; empty when there are none yet.
    /// - Throws: ``TensorBoardReadError`` with kind ``TensorBoardReadError/Kind/cannotOpen`` when
    ///   `directory` is missing or not a directory.
    public static func eventFiles(in directory: String) throws(TensorBoardReadError) -> [TensorBoardEventFile] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) else {
            throw .cannotOpen(directory, reason: "no such directory")
        }
        guard isDirectory.boolValue else { throw .cannotOpen(directory, reason: "not a directory") }
        guard let enumerator = FileManager.default.enumerator(atPath: directory) else {
            throw .cannotOpen(directory, reason: "the directory cannot be listed")
        }
        var files: [TensorBoardEventFile] = []
        while let relative = enumerator.nextObject() as? String {
            let name = (relative as NSString).lastPathComponent
            guard isEventFile(name: name) else { continue }
            let path = (directory as NSString).appendingPathComponent(relative)
            var isSubdirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isSubdirectory), !isSubdirectory.boolValue
            else { continue }
            files.append(
                TensorBoardEventFile(
                    path: path, run: (relative as NSString).deletingLastPathComponent, name: name,
                    timestamp: timestamp(ofEventFile: name)))
        }
        return files.sorted(by: readingOrder)
    }

    /// Run, then timestamp (files without one last), then name.
    static func readingOrder(_ left: TensorBoardEventFile, _ right: TensorBoardEventFile) -> Bool {
        if left.run != right.run { return left.run < right.run }
        switch (left.timestamp, right.timestamp) {
        case (let l?, let r?) where l != r: return l < r
        case (.some, nil): return true
        case (nil, .some): return false
        default: return left.name < right.name
        }
    }
}
