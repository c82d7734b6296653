import Foundation
import Testing

/// What one run of the `rlwatch` binary did.
struct CLIResult: Sendable, CustomStringConvertible {
    var arguments: [String]
    var status: Int32
    /// False when the process died of a signal (a crash) rather than exiting.
    var exited: Bool
    var stdout: String
    var stderr: String

    var description: String {
        "rlwatch \(arguments.joined(separator: " ")) → \(exited ? "exit" : "signal") \(status)\n"
            + "--- stdout\n\(stdout)\n--- stderr\n\(stderr)"
    }

    /// The non-empty lines of standard output.
    var stdoutLines: [Substring] { stdout.split(separator: "\n") }
}

/// A failure of the harness itself (not of the command under test), with a message that says what to do.
struct CLIHarnessError: Error, CustomStringConvertible {
    var description: String
}

/// Finds the `rlwatch` executable that `swift build` / `swift test` put next to the test bundle.
///
/// The test target cannot depend on an executable target, but SwiftPM builds every product before it runs
/// the tests, so the binary sits in the same build directory as the test bundle. A missing binary is a hard
/// failure with the paths that were searched, never a silent skip.
enum CLIBinary {
    static let located: Result<URL, CLIHarnessError> = locate()

    static func url() throws -> URL { try located.get() }

    /// The package root, from this file's path (`Tests/RLWatchCLITests/CLIHarness.swift`).
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    private static func locate() -> Result<URL, CLIHarnessError> {
        var directories: [URL] = []
        // macOS: .build/debug/<name>.xctest is a bundle; the binary is beside it.
        for bundle in Bundle.allBundles where bundle.bundleURL.pathExtension == "xctest" {
            directories.append(bundle.bundleURL.deletingLastPathComponent())
        }
        // Linux: the test runner is an executable `.build/debug/<name>.xctest`; Bundle.main is its directory.
        directories.append(Bundle.main.bundleURL)
        if let executable = Bundle.main.executableURL {
            directories.append(executable.deletingLastPathComponent())
        }
        if let argv0 = CommandLine.arguments.first {
            directories.append(URL(fileURLWithPath: argv0).deletingLastPathComponent())
        }
        directories.append(packageRoot.appendingPathComponent(".build/debug"))

        var searched: [String] = []
        for directory in directories {
            let candidate = directory.appendingPathComponent("rlwatch").standardizedFileURL
            guard !searched.contains(candidate.path) else { continue }
            searched.append(candidate.path)
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory),
                !isDirectory.boolValue,
                FileManager.default.isExecutableFile(atPath: candidate.path)
            {
                return .success(candidate)
            }
        }
        return .failure(
            CLIHarnessError(
                description: "the rlwatch executable was not found; build it first (`swift build`). Searched:\n  "
                    + searched.joined(separator: "\n  ")))
    }
}

/// A fresh temporary directory per test: `work/` is the command's working directory (so `./rlwatch.yaml`
/// discovery and `./rlwatch_logs` are isolated), `io/` holds captured output outside it.
final class CLISandbox: Sendable {
    let root: URL
    let work: URL
    let io: URL

    init() throws {
        root = FileManager.default.temporaryDirectory
            .appendingPathComponent("rlwatch-cli-\(UUID().uuidString)", isDirectory: true)
        work = root.appendingPathComponent("work", isDirectory: true)
        io = root.appendingPathComponent("io", isDirectory: true)
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: io, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: root)
    }

    /// The absolute URL of a path relative to the working directory.
    func url(_ relativePath: String) -> URL { work.appendingPathComponent(relativePath) }

    func exists(_ relativePath: String) -> Bool { FileManager.default.fileExists(atPath: url(relativePath).path) }

    /// Writes a file in the working directory, creating intermediate directories.
    func write(_ relativePath: String, _ contents: String) throws {
        let target = url(relativePath)
        try FileManager.default.createDirectory(
            at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(contents.utf8).write(to: target)
    }

    func read(_ relativePath: String) throws -> String {
        String(decoding: try Data(contentsOf: url(relativePath)), as: UTF8.self)
    }

    /// Runs `rlwatch ARGUMENTS` in the working directory.
    ///
    /// The environment is controlled: nothing is inherited (so no `RLWATCH_*` of the developer's shell leaks
    /// in) except `PATH`; `NO_COLOR=1` and `HOME` (the sandbox) are set, then `environment` is added.
    /// Standard output and error go to files, so neither can fill a pipe and block the child.
    ///
    /// - Parameters:
    ///   - stdin: bytes fed through a real pipe (kept small: they are buffered before the child starts).
    /// - Throws: ``CLIHarnessError`` when the binary is missing or the command runs past `timeout`.
    ///   - cpuSeconds: a CPU-time limit for the command (`ulimit -t`): past it the kernel stops it with SIGXCPU.
    ///     Bounds work done, whatever the machine's load (a wall-clock bound would not).
    func run(
        _ arguments: [String], environment: [String: String] = [:], stdin: String? = nil,
        timeout: Duration = .seconds(60), cpuSeconds: Int? = nil
    ) async throws -> CLIResult {
        var input: FileHandle = .nullDevice
        if let stdin {
            let data = Data(stdin.utf8)
            guard data.count < 60_000 else {
                throw CLIHarnessError(description: "stdin input of \(data.count) bytes would not fit a pipe buffer")
            }
            // Written and closed before launch: the child reads the buffered bytes, then end of file.
            let pipe = Pipe()
            pipe.fileHandleForWriting.write(data)
            try pipe.fileHandleForWriting.close()
            input = pipe.fileHandleForReading
        }
        let (process, stdoutURL, stderrURL) = try launch(
            arguments, environment: environment, stdin: input, cpuSeconds: cpuSeconds)

        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now >= deadline {
                process.terminate()
                process.waitUntilExit()
                throw CLIHarnessError(
                    description: "rlwatch \(arguments.joined(separator: " ")) ran past \(timeout) and was killed")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        process.waitUntilExit()

        return CLIResult(
            arguments: arguments,
            status: process.terminationStatus,
            exited: process.terminationReason == .exit,
            stdout: String(decoding: try Data(contentsOf: stdoutURL), as: UTF8.self),
            stderr: String(decoding: try Data(contentsOf: stderrURL), as: UTF8.self))
    }
}

extension CLISandbox {
    /// Starts `rlwatch ARGUMENTS` in the working directory with a controlled environment (nothing inherited but
    /// `PATH`; `NO_COLOR=1` and `HOME` set to the sandbox, then `environment`); standard output and error go to
    /// files, so neither can fill a pipe and block the child.
    ///   - fileLimit: the command's open-file limit (`ulimit -n`), to see it run out of descriptors.
    func launch(
        _ arguments: [String], environment: [String: String], stdin: FileHandle = .nullDevice, cpuSeconds: Int? = nil,
        fileLimit: Int? = nil
    ) throws -> (process: Process, stdout: URL, stderr: URL) {
        let process = Process()
        let limits = (cpuSeconds.map { ["ulimit -t \($0)"] } ?? []) + (fileLimit.map { ["ulimit -n \($0)"] } ?? [])
        if !limits.isEmpty {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments =
                ["-c", (limits + ["exec \"$0\" \"$@\""]).joined(separator: " && "), try CLIBinary.url().path] + arguments
        } else {
            process.executableURL = try CLIBinary.url()
            process.arguments = arguments
        }
        process.currentDirectoryURL = work
        var env = [
            "NO_COLOR": "1", "HOME": root.path,
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
        ]
        env.merge(environment) { _, new in new }
        process.environment = env
        let tag = UUID().uuidString
        let stdoutURL = io.appendingPathComponent("\(tag).out")
        let stderrURL = io.appendingPathComponent("\(tag).err")
        _ = FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        let stdoutHandle = try FileHandle(forWritingTo: stdoutURL)
        let stderrHandle = try FileHandle(forWritingTo: stderrURL)
        process.standardOutput = stdoutHandle
        process.standardError = stderrHandle
        process.standardInput = stdin
        try process.run()
        try? stdoutHandle.close()
        try? stderrHandle.close()
        return (process, stdoutURL, stderrURL)
    }
}

// MARK: - JSON helpers

/// Parses one JSON object with Foundation's strict parser (bare NaN/Infinity would be rejected).
func jsonObject(_ text: some StringProtocol) throws -> [String: Any] {
    guard let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
        throw CLIHarnessError(description: "not a JSON object: \(text)")
    }
    return object
}

/// Parses every non-empty line of `text` as one JSON object.
func jsonLines(_ text: String) throws -> [[String: Any]] {
    try text.split(separator: "\n").map { try jsonObject($0) }
}

/// (detector, severity) of each alert object.
func detectorSeverities(_ alerts: [[String: Any]]) -> [String] {
    alerts.map { "\($0["detector"] as? String ?? "?")/\($0["severity"] as? String ?? "?")" }
}

// MARK: - Input builders

/// Input files the tests write: small, deterministic metrics logs.
enum MetricsFiles {
    /// One JSON line with `step` first, then the given raw JSON values in order (values are JSON text).
    static func line(step: Int, _ fields: KeyValuePairs<String, String>) -> String {
        "{\"step\":\(step)" + fields.map { ",\"\($0.key)\":\($0.value)" }.joined() + "}"
    }

    /// A calm step: loss, grad norm, entropy and KL with a little deterministic wiggle.
    static func healthyLine(step: Int) -> String {
        let wiggle = sin(Double(step) * 1.7)
        return line(
            step: step,
            [
                "loss": "\(0.9 - 0.001 * Double(step) + 0.01 * wiggle)",
                "grad_norm": "\(1.0 + 0.05 * wiggle)",
                "entropy": "\(2.0 + 0.03 * wiggle)",
                "kl_divergence": "\(0.01 + 0.001 * wiggle)",
            ])
    }

    /// 60 healthy steps, then step 61 with a bare `NaN` loss and a grad-norm spike: two criticals on step 61.
    static let nanAndSpike: String =
        (1...60).map(healthyLine).joined(separator: "\n") + "\n"
        + line(step: 61, ["loss": "NaN", "grad_norm": "150.0", "entropy": "2.0", "kl_divergence": "0.01"]) + "\n"

    /// 40 steps of high entropy, then 30 below the 1.0 threshold: an `entropy_collapse` warning only
    /// (the critical needs 50 consecutive observations).
    static let warningsOnly: String =
        (1...70).map { line(step: $0, ["entropy": $0 <= 40 ? "2.0" : "0.5"]) }.joined(separator: "\n") + "\n"

    /// 80 healthy steps: no alerts.
    static let healthy: String = (1...80).map(healthyLine).joined(separator: "\n") + "\n"
}
