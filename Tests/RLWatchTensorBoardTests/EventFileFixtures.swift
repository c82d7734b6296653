import Foundation
import Testing

@testable import RLWatchTensorBoard

/// Event files written by a real writer (tensorboardX, through scripts/tensorboard/write_events.py).
///
/// Python 3 with tensorboardX is a test requirement (CI installs it: `pip install tensorboardX`); when
/// it is missing the tests that need it fail with a message that says so, they are not skipped.
enum EventFileFixtures {
    /// The repository's `scripts/tensorboard/write_events.py`.
    static let script: String = {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts/tensorboard/write_events.py").path
    }()

    /// One scalar to write: `value` is a JSON number or one of `"nan"`, `"inf"`, `"-inf"`; `style` is how a
    /// tensor holds it (see the script).
    struct Entry {
        var step: Int
        var tag: String
        var value: Double
        var style: String?

        init(_ step: Int, _ tag: String, _ value: Double, _ style: String? = nil) {
            self.step = step
            self.tag = tag
            self.value = value
            self.style = style
        }

        var json: String {
            let number =
                value.isNaN ? "\"nan\"" : value == .infinity ? "\"inf\"" : value == -.infinity ? "\"-inf\"" : "\(value)"
            let styleJSON = style.map { ", \"\($0)\"" } ?? ""
            return "[\(step), \"\(tag)\", \(number)\(styleJSON)]"
        }
    }

    enum Mode: String {
        /// `SummaryWriter.add_scalar`: `simple_value`.
        case simple
        /// Scalar tensors, as TF2 and `torch.utils.tensorboard` (new style) write them.
        case tensors
    }

    struct PythonFailure: Error, CustomStringConvertible {
        var description: String
    }

    /// Writes `entries` into a new event file under `directory` and returns its path.
    static func write(
        _ mode: Mode, _ entries: [Entry], extras: Bool = false, in directory: String
    ) throws -> String {
        let spec = "{\"extras\": \(extras), \"scalars\": [" + entries.map(\.json).joined(separator: ", ") + "]}"
        let specPath = directory + "/spec-\(UUID().uuidString).json"
        try spec.write(toFile: specPath, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: specPath) }
        let output = try runPython([mode.rawValue, directory, specPath])
        let files = try TensorBoardLogDirectory.eventFiles(in: directory)
        guard let file = files.last else {
            throw PythonFailure(description: "write_events.py wrote no event file in \(directory); it said: \(output)")
        }
        return file.path
    }

    /// Runs the script with `arguments` and returns its standard output.
    static func runPython(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script] + arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        do {
            try process.run()
        } catch {
            throw PythonFailure(
                description: "cannot run python3 (\(error)): install Python 3 and `pip install tensorboardX`")
        }
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let stderr = String(decoding: errorData, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw PythonFailure(description: failureMessage(status: process.terminationStatus, stderr: stderr))
        }
        return String(decoding: outputData, as: UTF8.self)
    }

    static func failureMessage(status: Int32, stderr: String) -> String {
        switch status {
        case 127:
            "python3 is not installed (these tests need Python 3 with tensorboardX: pip install tensorboardX): \(stderr)"
        case 3: "tensorboardX is not installed: run `pip install tensorboardX` (\(stderr))"
        default: "write_events.py failed with status \(status): \(stderr)"
        }
    }
}

/// A fresh directory under the temporary directory, removed by ``remove()``.
struct TemporaryDirectory {
    let path: String

    init() throws {
        path =
            FileManager.default.temporaryDirectory
            .appendingPathComponent("rlwatch-tb-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// The byte offset of every record of a TFRecord file, and the file's size (where a next one would start).
func recordOffsets(of bytes: [UInt8]) -> [Int] {
    var offsets: [Int] = []
    var offset = 0
    while offset + 12 <= bytes.count {
        offsets.append(offset)
        let length = bytes[offset..<offset + 8].reversed().reduce(0) { $0 << 8 | Int($1) }
        offset += 16 + length
    }
    return offsets
}

/// Reads a whole file with as many polls as it takes.
func readAll(_ reader: inout TensorBoardEventReader) throws -> [TensorBoardScalar] {
    var scalars: [TensorBoardScalar] = []
    while true {
        let poll = try reader.poll()
        scalars += poll.scalars
        if poll.reachedEnd { return scalars }
    }
}

extension Array where Element == UInt8 {
    init(contentsOfFile path: String) throws {
        self = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
    }

    func write(toFile path: String) throws {
        try Data(self).write(to: URL(fileURLWithPath: path))
    }
}
