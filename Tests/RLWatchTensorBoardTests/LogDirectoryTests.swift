import Foundation
import Testing

@testable import RLWatchTensorBoard

@Suite struct LogDirectoryTests {
    @Test func timestampsInNames() {
        #expect(
            TensorBoardLogDirectory.timestamp(ofEventFile: "events.out.tfevents.1700000000.host.123.0") == 1_700_000_000
        )
        #expect(
            TensorBoardLogDirectory.timestamp(ofEventFile: "events.out.tfevents.1700000000.host.123.0.v2")
                == 1_700_000_000)
        #expect(TensorBoardLogDirectory.timestamp(ofEventFile: "events.out.tfevents.host") == nil)
        #expect(TensorBoardLogDirectory.timestamp(ofEventFile: "metrics.jsonl") == nil)
    }

    @Test func listingOrder() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let names = [
            "b/events.out.tfevents.1700000005.h.1.0",
            "events.out.tfevents.1700000009.h.1.0",
            "a/events.out.tfevents.1700000100.h.2.0",
            "a/events.out.tfevents.999999999.h.1.0",  // fewer digits, earlier
            "a/events.out.tfevents.nohost",
            "a/not-an-event-file.txt",
            "a/events.out.tfevents.1700000000.dir/events.out.tfevents.1700000001.h.1.0",
        ]
        for name in names {
            let path = directory.path + "/" + name
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: path, contents: Data())
        }
        let files = try TensorBoardLogDirectory.eventFiles(in: directory.path)
        #expect(
            files.map { $0.run.isEmpty ? $0.name : $0.run + "/" + $0.name } == [
                "events.out.tfevents.1700000009.h.1.0",
                "a/events.out.tfevents.999999999.h.1.0",
                "a/events.out.tfevents.1700000100.h.2.0",
                "a/events.out.tfevents.nohost",
                "a/events.out.tfevents.1700000000.dir/events.out.tfevents.1700000001.h.1.0",
                "b/events.out.tfevents.1700000005.h.1.0",
            ])
        #expect(files.allSatisfy { FileManager.default.fileExists(atPath: $0.path) })
    }
}
