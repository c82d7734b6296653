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
        holders(of: paths, firstOnly: true).map { !$0.isEmpty }
    }

    /// Whether the process `pid` still exists (a stopped process does; a zombie, dead but not yet reaped by its
    /// parent, does not).
    public static func isAlive(_ pid: Int32) -> Bool {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
        // The state follows the command name in parentheses: `PID (COMM) S …`.
        guard let close = status.lastIndex(of: ")") else { return true }
        let state = status[status.index(after: close)...].drop { $0 == " " }.first
        return state != "Z" && state != "X"
    }

    /// The processes other than this one that have one of `paths` open; nil when it cannot be told.
    ///
    /// - Parameter firstOnly: stop at the first holder found.
    public static func holders(of paths: [String], firstOnly: Bool = false) -> Set<Int32>? {
        let targets = Set(paths.map { URL(fileURLWithPath: $0).resolvingSymlinksInPath().path })
        guard !targets.isEmpty, let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else {
            return nil
        }
        let me = String(getpid())
        var readable = false
        var found = Set<Int32>()
        for pid in entries where pid != me && !pid.isEmpty && pid.allSatisfy(\.isNumber) {
            let directory = "/proc/\(pid)/fd"
            guard let descriptors = try? FileManager.default.contentsOfDirectory(atPath: directory) else { continue }
            readable = true
            for descriptor in descriptors {
                if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "\(directory)/\(descriptor)"),
                    targets.contains(target), let number = Int32(pid)
                {
                    found.insert(number)
                    if firstOnly { return found }
                    break
                }
            }
        }
        return readable ? found : nil
    }
}
