#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs a program to completion with standard output and error sent to /dev/null.
///
/// `posix_spawn` + `waitpid` rather than Foundation's `Process`, so the measured wall time is the child's
/// life and not a run loop's polling interval. The child gets the bench's environment minus `RLWATCH_*`
/// (the replay must run with default settings) and starts in `directory` (no `rlwatch.yaml` there).
///
/// - Returns: the exit status, or -1 when the program could not be started or did not exit normally.
@discardableResult
func runProcess(_ path: String, _ arguments: [String], directory: String? = nil) -> Int32 {
    var previousDirectory: String?
    if let directory {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX))
        if getcwd(&buffer, buffer.count) != nil { previousDirectory = String(cString: buffer) }
        guard chdir(directory) == 0 else { return -1 }
    }
    defer { if let previousDirectory { _ = chdir(previousDirectory) } }

    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0)

    let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
    defer { for pointer in argv { free(pointer) } }
    var envp: [UnsafeMutablePointer<CChar>?] = []
    var entry = environ
    while let variable = entry.pointee {
        if strncmp(variable, "RLWATCH_", 8) != 0 { envp.append(strdup(variable)) }
        entry += 1
    }
    envp.append(nil)
    defer { for pointer in envp { free(pointer) } }

    var pid = pid_t()
    guard posix_spawn(&pid, path, &actions, nil, argv, envp) == 0 else { return -1 }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 {
        if errno != EINTR { return -1 }
    }
    // WIFEXITED / WEXITSTATUS, which Swift does not import as macros.
    return status & 0x7F == 0 ? (status >> 8) & 0xFF : -1
}

/// The release `rlwatch` binary: `$RLWATCH_BIN`, else the one built beside this bench.
func rlwatchBinary() -> String? {
    if let given = getenv("RLWATCH_BIN") { return String(cString: given) }
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX))
    let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    let me = length > 0 ? String(cString: buffer) : CommandLine.arguments[0]
    guard let slash = me.lastIndex(of: "/") else { return nil }
    let candidate = String(me[..<slash]) + "/rlwatch"
    return access(candidate, X_OK) == 0 ? candidate : nil
}
