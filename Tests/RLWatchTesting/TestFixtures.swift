import Foundation

/// The files the tests read, all inside the package: `Tests/Fixtures` (see `Tests/Fixtures/SOURCES.md`).
///
/// Found from this source file's path, so that a fresh clone runs its tests with nothing beside it; the files are
/// not resources because the `rlwatch` executable links this module and must not carry them.
public enum TestFixtures {
    /// The package root: the directory holding `Package.swift`.
    public static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // RLWatchTesting
        .deletingLastPathComponent()  // Sources
        .deletingLastPathComponent()

    /// `Tests/Fixtures` of the package.
    public static let directory: URL = packageRoot.appendingPathComponent("Tests/Fixtures")

    /// The golden traces exported from rlwatch 0.5.1's test generators.
    public static let goldenTraces: URL = directory.appendingPathComponent("golden-traces.json")

    /// A real training log, kept verbatim in `Tests/Fixtures/RealRuns/logs`.
    ///
    /// - Parameter name: The log's file name, for example `trl-grpo-entropy-explosion.jsonl`.
    /// - Returns: The log's URL (whether or not the file exists).
    public static func realRun(_ name: String) -> URL {
        directory.appendingPathComponent("RealRuns/logs").appendingPathComponent(name)
    }
}
