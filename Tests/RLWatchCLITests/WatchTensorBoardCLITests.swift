import Foundation
import Testing

/// `rlwatch watch` on TensorBoard event files, written here record by record as a trainer's
/// `SummaryWriter` does (one scalar event per tag, framed as TFRecords with masked CRC-32C checksums).
@Suite struct WatchTensorBoardCLITests {
    /// The veRL fixture's steps as (step, [tag: value]).
    static func veRLSteps() throws -> [(step: Int, values: [(String, Double)])] {
        let text = try String(contentsOfFile: WatchCLITests.veRL, encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            let object = try jsonObject(line)
            let data = object["data"] as? [String: Any] ?? [:]
            let values = data.compactMap { key, value in (value as? NSNumber).map { (key, $0.doubleValue) } }
            return (object["step"] as? Int ?? -1, values.sorted { $0.0 < $1.0 })
        }
    }

    static func records(_ steps: some Sequence<(step: Int, values: [(String, Double)])>) -> [UInt8] {
        var bytes: [UInt8] = []
        for step in steps {
            for (tag, value) in step.values {
                bytes += EventFile.record(EventFile.scalarEvent(step: step.step, tag: tag, value: value))
            }
        }
        return bytes
    }

    @Test func aLogDirectoryReadToTheEndGivesReplaysAlerts() async throws {
        let sandbox = try CLISandbox()
        let steps = try Self.veRLSteps()
        try EventFile.write(sandbox, "runs/exp1/events.out.tfevents.1700000000.host", EventFile.header + Self.records(steps))
        let watched = try await sandbox.run(["watch", "--no-follow", "--output", "jsonl", "--explain", "runs"])
        #expect(watched.status == 0, "\(watched)")
        #expect(watched.stderr.contains("(tensorboard)"), "\(watched)")
        #expect(watched.stderr.contains("metrics: entropy ← actor/entropy, kl_divergence ← actor/kl_loss"), "\(watched)")
        let replayed = try await sandbox.run(["replay", "--no-store", "--format", "jsonl", WatchCLITests.veRL])
        #expect(try WatchCLITests.alertKeys(watched.stdout) == WatchCLITests.alertKeys(replayed.stdout), "\(watched)")
        #expect(try WatchCLITests.alertKeys(watched.stdout).contains("kl_explosion/critical@67"))
    }

    @Test func aFollowedEventFileResumesAfterSIGTERMWithoutLosingThePendingStep() async throws {
        let sandbox = try CLISandbox()
        let steps = try Self.veRLSteps()
        let name = "runs/events.out.tfevents.1700000000.host"
        try EventFile.write(sandbox, name, EventFile.header + Self.records(steps.prefix(30)))
        let watch = try sandbox.start(["watch", "--follow", "--poll-interval", "0.05", "--output", "jsonl", "runs"])
        _ = try await watch.waitForStderr(containing: "(tensorboard)")
        // Through step 67 (the KL explosion), then half of step 68's records, the last one cut in the middle.
        var rest = Self.records(steps.dropFirst(30).prefix(36))
        let pendingStep = Self.records(steps.dropFirst(66).prefix(1))
        rest += pendingStep.prefix(pendingStep.count / 2)
        try EventFile.append(sandbox, name, rest)
        _ = try await watch.waitForStdout(containing: "\"kl_explosion\"")
        let stopped = try await watch.stop(signal: SIGTERM)
        #expect(stopped.exited && stopped.status == 0, "\(watch.stderr)")

        try EventFile.append(sandbox, name, Array(pendingStep.dropFirst(pendingStep.count / 2)) + Self.records(steps.dropFirst(67)))
        let resumed = try await sandbox.run(["watch", "--no-follow", "--output", "jsonl", "runs"])
        #expect(resumed.status == 0, "\(resumed)")
        #expect(try WatchCLITests.alertKeys(watch.stdout + resumed.stdout) == ["kl_explosion/critical@67", "gradient_norm_spike/warning@68", "gradient_norm_spike/critical@71"],
            "\(resumed)")
        let diagnosis = try await sandbox.run(["diagnose", "--format", "json"])
        let metrics = try jsonObject(diagnosis.stdout)
        #expect(metrics["total_steps"] as? Int == steps.count, "\(diagnosis)")
    }

    /// The pending step's values are part of the saved position: a NaN among them (here an extra tag's) is saved
    /// as the string "NaN" (a default JSONEncoder refused it, the position was not saved, and the restarted watch
    /// read the steps since the last saved position again).
    @Test func aPendingStepWithANaNValueIsSavedAndResumed() async throws {
        let sandbox = try CLISandbox()
        var steps = try Self.veRLSteps()
        let pendingIndex = 66  // step 68, after the KL explosion at 67
        steps[pendingIndex].values.insert(("aaa/debug_nan", .nan), at: 0)
        let name = "runs/events.out.tfevents.1700000000.host"
        try EventFile.write(sandbox, name, EventFile.header + Self.records(steps.prefix(30)))
        let watch = try sandbox.start(["watch", "--follow", "--poll-interval", "0.05", "--output", "jsonl", "runs"])
        _ = try await watch.waitForStderr(containing: "(tensorboard)")
        let pendingStep = Self.records(steps.dropFirst(pendingIndex).prefix(1))
        try EventFile.append(sandbox, name, Self.records(steps.dropFirst(30).prefix(pendingIndex - 30)) + pendingStep.prefix(pendingStep.count / 2))
        _ = try await watch.waitForStdout(containing: "\"kl_explosion\"")
        let stopped = try await watch.stop(signal: SIGTERM)
        #expect(stopped.exited && stopped.status == 0, "\(watch.stderr)")

        try EventFile.append(sandbox, name, Array(pendingStep.dropFirst(pendingStep.count / 2)) + Self.records(steps.dropFirst(pendingIndex + 1)))
        let resumed = try await sandbox.run(["watch", "--no-follow", "--output", "jsonl", "runs"])
        #expect(resumed.status == 0, "\(resumed)")
        #expect(try WatchCLITests.alertKeys(watch.stdout + resumed.stdout) == ["kl_explosion/critical@67", "gradient_norm_spike/warning@68", "gradient_norm_spike/critical@71"],
            "\(watch.stdout)\n\(resumed)")
        let diagnosis = try await sandbox.run(["diagnose", "--format", "json"])
        #expect(try jsonObject(diagnosis.stdout)["total_steps"] as? Int == steps.count, "\(diagnosis)")
    }
}

/// Writes TensorBoard event files: TFRecord framing around `Event` protocol buffers.
enum EventFile {
    /// The first record every writer puts in a file: `file_version: "brain.Event:2"`.
    static var header: [UInt8] {
        var event: [UInt8] = []
        event += field(1, wireType: 1) + withUnsafeBytes(of: Double(1_700_000_000).bitPattern.littleEndian, Array.init)
        let version = Array("brain.Event:2".utf8)
        event += field(3, wireType: 2) + varint(UInt64(version.count)) + version
        return record(event)
    }

    /// `Event { wall_time, step, summary { value { tag, simple_value } } }`.
    static func scalarEvent(step: Int, tag: String, value: Double) -> [UInt8] {
        let tagBytes = Array(tag.utf8)
        var summaryValue = field(1, wireType: 2) + varint(UInt64(tagBytes.count)) + tagBytes
        summaryValue += field(2, wireType: 5) + withUnsafeBytes(of: Float(value).bitPattern.littleEndian, Array.init)
        let summary = field(1, wireType: 2) + varint(UInt64(summaryValue.count)) + summaryValue
        var event = field(1, wireType: 1) + withUnsafeBytes(of: Double(1_700_000_000 + step).bitPattern.littleEndian, Array.init)
        event += field(2, wireType: 0) + varint(UInt64(step))
        event += field(5, wireType: 2) + varint(UInt64(summary.count)) + summary
        return event
    }

    /// A TFRecord: length, masked CRC of the length, data, masked CRC of the data.
    static func record(_ data: [UInt8]) -> [UInt8] {
        let length = withUnsafeBytes(of: UInt64(data.count).littleEndian, Array.init)
        return length + withUnsafeBytes(of: maskedCRC(length).littleEndian, Array.init) + data
            + withUnsafeBytes(of: maskedCRC(data).littleEndian, Array.init)
    }

    static func write(_ sandbox: CLISandbox, _ name: String, _ bytes: [UInt8]) throws {
        let url = sandbox.url(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: url)
    }

    static func append(_ sandbox: CLISandbox, _ name: String, _ bytes: [UInt8]) throws {
        let handle = try FileHandle(forWritingTo: sandbox.url(name))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(bytes))
        try handle.close()
    }

    private static func field(_ number: UInt64, wireType: UInt64) -> [UInt8] { varint(number << 3 | wireType) }

    private static func varint(_ value: UInt64) -> [UInt8] {
        var value = value
        var bytes: [UInt8] = []
        repeat {
            var byte = UInt8(value & 0x7F)
            value >>= 7
            if value != 0 { byte |= 0x80 }
            bytes.append(byte)
        } while value != 0
        return bytes
    }

    private static func maskedCRC(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        }
        crc ^= 0xFFFF_FFFF
        return ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }
}
