import Foundation
import Testing

/// Runs the Python client's own test suite (clients/python/tests, stdlib unittest) against the built `rlwatch`
/// binary: real client, real Python process, real `rlwatch serve` on 127.0.0.1.
@Suite("Python client (clients/python)")
struct PythonClientCLITests {
    @Test(.timeLimit(.minutes(10)))
    func theClientTestSuitePassesAgainstTheRealServer() async throws {
        let binary = try CLIBinary.url()
        let clientRoot = CLIBinary.packageRoot.appendingPathComponent("clients/python")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-m", "unittest", "discover", "-s", "clients/python/tests", "-v"]
        process.currentDirectoryURL = CLIBinary.packageRoot
        var environment = ProcessInfo.processInfo.environment
        environment["RLWATCH_BIN"] = binary.path
        environment["PYTHONPATH"] = clientRoot.path
        environment["PYTHONDONTWRITEBYTECODE"] = "1"
        environment.removeValue(forKey: "RLWATCH_URL")
        environment.removeValue(forKey: "RLWATCH_TOKEN")
        process.environment = environment
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("rlwatch-pytest-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let handle = try FileHandle(forWritingTo: output)
        defer { try? FileManager.default.removeItem(at: output) }
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try? handle.close()
        while process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        let log = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        #expect(process.terminationReason == .exit && process.terminationStatus == 0, "python3 -m unittest failed:\n\(log.suffix(20_000))")
        // A run where every test was skipped would also exit 0: require that tests ran and none was skipped.
        #expect(log.contains("\nOK") && !log.contains("skipped"), "\(log.suffix(5_000))")
        let ran = log.split(separator: "\n").first { $0.hasPrefix("Ran ") }
        #expect(ran.map { !$0.hasPrefix("Ran 0 ") } == true, "\(log.suffix(5_000))")
    }
}
