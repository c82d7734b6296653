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
}
