import Foundation
import Testing

@Suite struct VersionCLITests {
    @Test func versionPrintsNameAndSemver() async throws {
        let sandbox = try CLISandbox()
        let result = try await sandbox.run(["--version"])
        #expect(result.status == 0, "\(result)")
        let text = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(text.wholeMatch(of: /rlwatch, version \d+\.\d+\.\d+/) != nil, "\(result)")
    }

    /// One version: the binary's, the Python client's (`_version.py`, which its pyproject reads) and the server
    /// wheel's that the client's `server` extra pins. (The wheel itself is named after the binary's `--version`;
    /// ServerWheelCLITests and scripts/check-wheel check the installed wheel.)
    @Test func theBinaryTheClientAndTheServerExtraShareOneVersion() async throws {
        let sandbox = try CLISandbox()
        let binary = try await sandbox.run(["--version"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let client = CLIBinary.packageRoot.appendingPathComponent("clients/python")
        let module = try String(contentsOf: client.appendingPathComponent("rlwatch_client/_version.py"), encoding: .utf8)
        let pyproject = try String(contentsOf: client.appendingPathComponent("pyproject.toml"), encoding: .utf8)
        let clientVersion = module.firstMatch(of: /(?m)^__version__ = "([^"]+)"$/)?.output.1
        let serverPin = pyproject.firstMatch(of: /"rlwatch-server==([^"]+)"/)?.output.1
        #expect(binary == "rlwatch, version \(clientVersion ?? "?")", "binary: \(binary); _version.py: \(module)")
        #expect(serverPin != nil && serverPin == clientVersion, "server extra pins \(serverPin ?? "nothing")")
        #expect(pyproject.contains(#"version = { attr = "rlwatch_client._version.__version__" }"#))
    }
}
