import Foundation

/// Whether some other process still has a file open — how `watch` tells a trainer that closed its log (the run
/// ended) from one that hangs with the file open (a stall).
///
/// Linux only: reads the `/proc/PID/fd` links of the processes this user may see. The watching process itself is
/// left out (it may hold the file open to read it).
public enum OpenFileProbe {
    /// True when another process has one of `paths` open, false when none has, nil when it cannot be told (no
    /// `/proc`, or no process's descriptors readable).
    public static func anotherProcessHasOpen(_ paths: [String]) -> Bool? {
        let targets = Set(paths.map { URL(fileURLWithPath: $0).resolvingSymlinksInPath().path })
        guard !targets.isEmpty, let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else {
            return nil
        }
        let me = String(getpid())
        var readable = false
        for pid in entries where pid != me && !pid.isEmpty && pid.allSatisfy(\.isNumber) {
            let directory = "/proc/\(pid)/fd"
            guard let descriptors = try? FileManager.default.contentsOfDirectory(atPath: directory) else { continue }
            readable = true
            for descriptor in descriptors {
                if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "\(directory)/\(descriptor)"),
                    targets.contains(target)
                {
                    return true
                }
            }
        }
        return readable ? false : nil
    }
}
