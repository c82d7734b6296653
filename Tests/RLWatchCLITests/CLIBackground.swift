import Foundation
import Testing

/// A long-running `rlwatch` command (`serve`, `watch --follow`) started in the background.
final class BackgroundCommand: @unchecked Sendable {
    let process: Process
    let arguments: [String]
    private let stdoutURL: URL
    private let stderrURL: URL

    fileprivate init(process: Process, arguments: [String], stdoutURL: URL, stderrURL: URL) {
        self.process = process
        self.arguments = arguments
        self.stdoutURL = stdoutURL
        self.stderrURL = stderrURL
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    var stdout: String { (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "" }

    /// Waits until standard output contains `text`; returns all of it.
    func waitForStdout(containing text: String, timeout: Duration = .seconds(90)) async throws -> String {
        try await wait(for: text, in: { self.stdout }, timeout: timeout)
    }

    /// Waits until standard error contains `text`; returns all of it.
    func waitForStderr(containing text: String, timeout: Duration = .seconds(90)) async throws -> String {
        try await wait(for: text, in: { self.stderr }, timeout: timeout)
    }

    private func wait(for text: String, in output: () -> String, timeout: Duration) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if output().contains(text) { return output() }
            if !process.isRunning {
                throw CLIHarnessError(description: "rlwatch \(arguments.joined(separator: " ")) exited early:\n\(stdout)\n\(stderr)")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw CLIHarnessError(description: "no \(text) within \(timeout):\n\(stdout)\n\(stderr)")
    }

    /// Waits until standard output has a line containing `text`; returns that line.
    func waitForLine(containing text: String, timeout: Duration = .seconds(90)) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let line = stdout.split(separator: "\n").first(where: { $0.contains(text) }) { return String(line) }
            if !process.isRunning {
                throw CLIHarnessError(description: "rlwatch \(arguments.joined(separator: " ")) exited early:\n\(stdout)\n\(stderr)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw CLIHarnessError(description: "no line containing \(text) within \(timeout):\n\(stdout)\n\(stderr)")
    }

    /// The port of `rlwatch serve`'s `listening on http://HOST:PORT` line.
    func servePort(timeout: Duration = .seconds(90)) async throws -> Int {
        let line = try await waitForLine(containing: "listening on http://", timeout: timeout)
        guard let port = line.split(separator: ":").last.flatMap({ Int($0) }) else {
            throw CLIHarnessError(description: "no port in \(line)")
        }
        return port
    }

    /// Sends a signal and waits for the process to end; returns its exit status (or the signal).
    func stop(signal: Int32 = SIGTERM, timeout: Duration = .seconds(90)) async throws -> (status: Int32, exited: Bool) {
        kill(process.processIdentifier, signal)
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now >= deadline {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                throw CLIHarnessError(description: "rlwatch \(arguments.joined(separator: " ")) did not stop within \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        process.waitUntilExit()
        return (process.terminationStatus, process.terminationReason == .exit)
    }
}

extension CLISandbox {
    /// Starts `rlwatch ARGUMENTS` in the background, like `run` but without waiting.
    func start(_ arguments: [String], environment: [String: String] = [:], fileLimit: Int? = nil) throws
        -> BackgroundCommand
    {
        let (process, stdoutURL, stderrURL) = try launch(arguments, environment: environment, fileLimit: fileLimit)
        return BackgroundCommand(process: process, arguments: arguments, stdoutURL: stdoutURL, stderrURL: stderrURL)
    }
}
