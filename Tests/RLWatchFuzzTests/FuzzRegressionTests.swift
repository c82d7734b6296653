import Foundation
import RLWatchFuzzTargets
import Testing

/// Replays the committed fuzz corpus: every seed and every input a fuzzing run saved goes through its target
/// in the normal suite, so an input that once crashed rlwatch stays a test. A violated property or a trap
/// stops this test process (the suite fails with the target and file named in the output).
@Suite struct FuzzRegressionTests {
    static let corpus = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz/Corpus")

    static func inputs(of target: FuzzTarget) throws -> [URL] {
        let folder = corpus.appendingPathComponent(target.rawValue)
        return try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    @Test(arguments: FuzzTarget.allCases)
    func everyCommittedInputRunsCleanly(target: FuzzTarget) throws {
        let inputs = try Self.inputs(of: target)
        // Each target has seeds; a target fuzzed from nothing finds little, and an empty folder here would
        // mean the corpus was lost.
        #expect(inputs.count >= 3, "Fuzz/Corpus/\(target.rawValue) holds \(inputs.count) inputs")
        for input in inputs {
            target.run(Array(try Data(contentsOf: input)))
        }
    }

    @Test func everyCorpusFolderNamesATarget() throws {
        let folders = try FileManager.default.contentsOfDirectory(atPath: Self.corpus.path)
        for folder in folders {
            #expect(FuzzTarget(rawValue: folder) != nil, "Fuzz/Corpus/\(folder) is not a fuzz target")
        }
    }
}
