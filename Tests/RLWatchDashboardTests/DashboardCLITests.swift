import Foundation
import RLWatchTesting
import Testing

/// `rlwatch dashboard` as a user runs it: the built binary on a log directory written by `rlwatch demo`.
@Suite(.serialized) struct DashboardCLITests {
    @Test func dashboardServesTheDemoRunAndStopsOnSIGTERM() async throws {
        let binary = try rlwatchBinary()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rlwatch-dashboard-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let logs = directory.appendingPathComponent("logs").path

        let missing = try runToEnd(binary, ["dashboard", "--log-dir", logs, "--port", "0"], in: directory)
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("No rlwatch database found"))
        let open = try runToEnd(binary, ["dashboard", "--host", "0.0.0.0", "--port", "0"], in: directory, environment: ["RLWATCH_TOKEN": ""])
        #expect(open.status == 2)
        #expect(open.stderr.contains("requires a token"))

        let demo = try runToEnd(binary, ["demo", "--log-dir", logs, "--run-id", "demo-cli", "--steps", "300", "--collapse-at", "150"], in: directory)
        #expect(demo.status == 0, "\(demo.stderr)")

        let output = directory.appendingPathComponent("dashboard.out")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        let process = Process()
        process.executableURL = binary
        process.arguments = ["dashboard", "--log-dir", logs, "--port", "0"]
        process.currentDirectoryURL = directory
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        var port: Int?
        try await waitFor("the listening line") {
            let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
            port = text.split(separator: "\n").first { $0.contains("rlwatch dashboard listening on http://127.0.0.1:") }
                .flatMap { $0.split(separator: ":").last }.flatMap { Int($0) }
            if !process.isRunning { throw ChromiumError("rlwatch dashboard exited early") }
            return port != nil
        }
        let client = HTTPTestClient(port: try #require(port), timeout: 60)
        #expect(try await client.get("/").text.contains("data-run=\"demo-cli\""))
        let page = try await client.get("/run?id=demo-cli")
        #expect(page.status == 200)
        #expect(page.text.contains("id=\"tile-steps\">300<"))
        #expect(try await client.get("/healthz").status == 200)

        kill(process.processIdentifier, SIGTERM)
        try await waitFor("rlwatch dashboard to stop", timeout: 60) { !process.isRunning }
        #expect(process.terminationStatus == 0)
    }
}

/// The `rlwatch` executable built beside the test runner.
func rlwatchBinary() throws -> URL {
    var directories = [Bundle.main.bundleURL]
    if let executable = Bundle.main.executableURL { directories.append(executable.deletingLastPathComponent()) }
    if let argv0 = CommandLine.arguments.first { directories.append(URL(fileURLWithPath: argv0).deletingLastPathComponent()) }
    for bundle in Bundle.allBundles where bundle.bundleURL.pathExtension == "xctest" {
        directories.append(bundle.bundleURL.deletingLastPathComponent())
    }
    for directory in directories {
        let candidate = directory.appendingPathComponent("rlwatch")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
    }
    throw ChromiumError("the rlwatch binary was not found beside the tests in \(directories.map(\.path)); build it with `swift build`")
}

/// Runs a command to its end; standard output and error through files, so neither pipe can fill up.
func runToEnd(_ binary: URL, _ arguments: [String], in directory: URL, environment: [String: String] = [:]) throws
    -> (status: Int32, stdout: String, stderr: String)
{
    let tag = UUID().uuidString
    let out = directory.appendingPathComponent("\(tag).out")
    let err = directory.appendingPathComponent("\(tag).err")
    FileManager.default.createFile(atPath: out.path, contents: nil)
    FileManager.default.createFile(atPath: err.path, contents: nil)
    let process = Process()
    process.executableURL = binary
    process.arguments = arguments
    process.currentDirectoryURL = directory
    process.environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": directory.path, "NO_COLOR": "1"]
        .merging(environment) { $1 }
    process.standardOutput = try FileHandle(forWritingTo: out)
    process.standardError = try FileHandle(forWritingTo: err)
    try process.run()
    process.waitUntilExit()
    return (
        process.terminationStatus, (try? String(contentsOf: out, encoding: .utf8)) ?? "",
        (try? String(contentsOf: err, encoding: .utf8)) ?? ""
    )
}
