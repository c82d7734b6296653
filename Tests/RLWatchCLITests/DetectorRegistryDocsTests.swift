import Foundation
import RLWatchCore
import RLWatchTesting
import Testing

/// The README's detector sections are derived from ``DetectorRegistry``: its config table is the registry's own
/// rendering, and its "What it detects" table has a row for every registered detector.
@Suite struct DetectorRegistryDocsTests {
    static func readme() throws -> String {
        try String(contentsOf: TestFixtures.packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
    }

    @Test func theConfigTableIsTheRegistrysRendering() throws {
        let table = DetectorRegistry.markdownTable()
        #expect(
            try Self.readme().contains(table),
            "README.md's detector config table is stale; paste DetectorRegistry.markdownTable():\n\(table)")
    }

    @Test func everyDetectorHasARowInWhatItDetects() throws {
        let readme = try Self.readme()
        let missing = DetectorRegistry.descriptors.map(\.id.rawValue).filter { !readme.contains("\n| `\($0)`") }
        #expect(missing.isEmpty, "no README row for \(missing)")
    }
}
