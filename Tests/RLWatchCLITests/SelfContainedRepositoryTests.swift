import Foundation
import RLWatchTesting
import Testing

/// A fresh clone runs its tests with nothing beside it: no source, test, script or client file names a path that
/// leaves the repository (the fixtures once lived in a `shared/` folder next to the checkout, which a user's clone
/// does not have). Everything the tests read is under `Tests/Fixtures`.
@Suite struct SelfContainedRepositoryTests {
    /// What the package's own files may not contain. Built from parts so that this file does not match itself.
    static let outsidePaths = [".." + "/shared", "shared" + "/fixtures"]

    /// The folders and files scanned, relative to the package root.
    static let scanned = ["Package.swift", "Sources", "Tests", "Benchmarks", "scripts", ".ci", "clients", "packaging", "README.md"]

    /// Files allowed to name the folder: `.ci/run` hides it (an empty tmpfs over it) while the suite runs.
    static let allowed: Set<String> = [".ci/run"]

    /// Build outputs and caches, which are not part of the repository.
    static let skippedDirectories: Set<String> = [".build", ".venv", "__pycache__", ".swiftpm", "build", "node_modules"]

    @Test func noFileNamesAPathOutsideTheRepository() throws {
        let root = TestFixtures.packageRoot
        var offending: [String] = []
        var scannedFiles = 0
        for file in Self.files(under: root) {
            // Binary files (event files, images) are not text and cannot name a path a reader would follow.
            guard let data = FileManager.default.contents(atPath: file.path),
                let text = String(data: data, encoding: .utf8)
            else { continue }
            scannedFiles += 1
            let relative = String(file.path.dropFirst(root.path.count + 1))
            if Self.allowed.contains(relative) { continue }
            for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            where Self.outsidePaths.contains(where: { line.contains($0) }) {
                offending.append("\(relative):\(index + 1): \(line.trimmingCharacters(in: .whitespaces))")
            }
        }
        #expect(scannedFiles > 100, "scanned only \(scannedFiles) files under \(root.path)")
        #expect(offending.isEmpty, "paths outside the repository (copy the file into Tests/Fixtures):\n\(offending.joined(separator: "\n"))")
    }

    @Test func theFixturesTheTestsReadAreInTheRepository() throws {
        let files = [TestFixtures.goldenTraces] + [
            "trl-grpo-entropy-explosion.jsonl", "trl-grpo-sparse-reward.trainer_state.json",
            "verl-grpo-kl-explosion.file-logger.jsonl",
        ].map(TestFixtures.realRun)
        for file in files {
            #expect(file.path.hasPrefix(TestFixtures.packageRoot.path + "/Tests/Fixtures/"), "\(file.path)")
            #expect(FileManager.default.fileExists(atPath: file.path), "missing fixture \(file.path)")
        }
        let sources = try String(contentsOf: TestFixtures.directory.appendingPathComponent("SOURCES.md"), encoding: .utf8)
        for file in files {
            let name = String(file.path.dropFirst(TestFixtures.directory.path.count + 1))
            #expect(sources.contains("`\(name)`"), "Tests/Fixtures/SOURCES.md does not say where \(name) comes from")
        }
    }

    /// Every regular file under the scanned paths, build outputs left out.
    static func files(under root: URL) -> [URL] {
        var files: [URL] = []
        let manager = FileManager.default
        for entry in scanned {
            let url = root.appendingPathComponent(entry)
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: url.path, isDirectory: &isDirectory) else { continue }
            guard isDirectory.boolValue else {
                files.append(url)
                continue
            }
            guard let enumerator = manager.enumerator(at: url, includingPropertiesForKeys: [.isRegularFileKey, .isDirectoryKey])
            else { continue }
            for case let file as URL in enumerator {
                let values = try? file.resourceValues(forKeys: [.isRegularFileKey, .isDirectoryKey])
                if values?.isDirectory == true, skippedDirectories.contains(file.lastPathComponent) {
                    enumerator.skipDescendants()
                } else if values?.isRegularFile == true {
                    files.append(file)
                }
            }
        }
        return files
    }
}
