#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Progress and notes go to standard error.
func note(_ text: String) {
    var line = text + "\n"
    line.withUTF8 { buffer in _ = write(STDERR_FILENO, buffer.baseAddress, buffer.count) }
}

/// Runs `body` with standard output sent to /dev/null (the replay engine writes alerts to fd 1).
func withStandardOutputSilenced<T>(_ body: () throws -> T) rethrows -> T {
    fflush(nil)
    let saved = dup(STDOUT_FILENO)
    let null = open("/dev/null", O_WRONLY)
    if saved >= 0, null >= 0 { dup2(null, STDOUT_FILENO) }
    defer {
        if saved >= 0 {
            dup2(saved, STDOUT_FILENO)
            close(saved)
        }
        if null >= 0 { close(null) }
    }
    return try body()
}

/// The string in a NUL-terminated C buffer.
func string(fromCBuffer buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// A fresh empty directory under the bench directory.
func makeTemporaryDirectory(_ prefix: String) -> String {
    var template = Array("\(BenchPaths.root)/\(prefix)-XXXXXX".utf8CString)
    let made = template.withUnsafeMutableBufferPointer { buffer in
        buffer.baseAddress.flatMap { mkdtemp($0) }
    }
    guard made != nil else { fatalError("mkdtemp failed under \(BenchPaths.root)") }
    return string(fromCBuffer: template)
}

/// Removes a directory tree (the bench's own temporary databases).
func removeTree(_ path: String) {
    _ = runProcess("/bin/rm", ["-rf", path])
}

/// Where the benchmarks keep their inputs and scratch databases: $RLWATCH_BENCH_DIR, else /tmp/rlwatch-bench.
enum BenchPaths {
    static let root: String = {
        let path = getenv("RLWATCH_BENCH_DIR").map { String(cString: $0) } ?? "/tmp/rlwatch-bench"
        mkdir(path, 0o755)
        return path
    }()
}
