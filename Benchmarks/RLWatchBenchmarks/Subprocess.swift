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
/// - Returns: the exit status (-1 when the program could not be started or did not exit normally) and
///   the child's CPU time (user + system) in nanoseconds.
@discardableResult
func runProcess(_ path: String, _ arguments: [String], directory: String? = nil) -> (status: Int32, cpu: Double) {
    var previousDirectory: String?
    if let directory {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX))
        if getcwd(&buffer, buffer.count) != nil { previousDirectory = string(fromCBuffer: buffer) }
        guard chdir(directory) == 0 else { return (-1, 0) }
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
    guard posix_spawn(&pid, path, &actions, nil, argv, envp) == 0 else { return (-1, 0) }
    var status: Int32 = 0
    var usage = rusage()
    while wait4(pid, &status, 0, &usage) < 0 {
        if errno != EINTR { return (-1, 0) }
    }
    func nanoseconds(_ time: timeval) -> Double { Double(time.tv_sec) * 1e9 + Double(time.tv_usec) * 1e3 }
    let cpu = nanoseconds(usage.ru_utime) + nanoseconds(usage.ru_stime)
    // WIFEXITED / WEXITSTATUS, which Swift does not import as macros.
    return (status & 0x7F == 0 ? (status >> 8) & 0xFF : -1, cpu)
}

/// The release `rlwatch` binary: `$RLWATCH_BIN`, else one built beside this benchmark, else the repository's
/// `.build/release/rlwatch` (`swift build -c release --product rlwatch` at the top).
func rlwatchBinary() -> String? {
    if let given = getenv("RLWATCH_BIN") { return String(cString: given) }
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX))
    let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    let me = length > 0 ? string(fromCBuffer: buffer) : CommandLine.arguments[0]
    var candidates: [String] = []
    if let slash = me.lastIndex(of: "/") { candidates.append(String(me[..<slash]) + "/rlwatch") }
    // This file is Benchmarks/RLWatchBenchmarks/Subprocess.swift: the repository is three levels up.
    let repository = #filePath.split(separator: "/", omittingEmptySubsequences: false).dropLast(3)
        .joined(separator: "/")
    candidates.append(repository + "/.build/release/rlwatch")
    return candidates.first { access($0, X_OK) == 0 }
}
