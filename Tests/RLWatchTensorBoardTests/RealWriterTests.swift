import Foundation
import Testing

@testable import RLWatchTensorBoard

/// Files written by tensorboardX: what TRL, OpenRLHF and veRL runs leave in their log directories.
@Suite struct RealWriterTests {
    typealias Entry = EventFileFixtures.Entry

    @Test func simpleValueScalars() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let entries = (1...5).flatMap { step in
            [
                Entry(step, "train/loss", 1.0 / Double(step)),
                Entry(step, "train/kl", 0.015625 * Double(step)),
                Entry(step, "train/entropy", 2.5 - 0.125 * Double(step)),
            ]
        }
        let path = try EventFileFixtures.write(.simple, entries, extras: true, in: directory.path)
        var reader = TensorBoardEventReader(path: path)
        let poll = try reader.poll()
        #expect(poll.reachedEnd)
        #expect(poll.unreadBytes == 0)
        #expect(poll.endOffset == Int64(try [UInt8](contentsOfFile: path).count))
        // The file_version header, the text and the histogram events carry no scalar.
        #expect(poll.records == entries.count + 3)
        #expect(poll.scalars.map(\.tag) == entries.map(\.tag))
        #expect(poll.scalars.map(\.step) == entries.map(\.step))
        // simple_value is a float: the values above are exact in float, 1/3 is rounded as the writer did.
        #expect(poll.scalars.map(\.value) == entries.map { Double(Float($0.value)) })
        #expect(poll.scalars.allSatisfy { $0.wallTime == 1_700_000_000 + Double($0.step) })
        // A second poll finds nothing new.
        let again = try reader.poll()
        #expect(again.scalars.isEmpty && again.records == 0 && again.endOffset == poll.endOffset)
    }

    @Test func scalarTensors() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let entries = [
            Entry(1, "train/loss", 0.5),  // float_val, what torch new_style and TF2 write
            Entry(1, "train/kl", .nan),
            Entry(1, "train/grad_norm", .infinity),
            Entry(2, "d", 0.1, "double"),
            Entry(2, "cf", 0.75, "content_float"),
            Entry(2, "cd", 0.1, "content_double"),
            Entry(2, "h", 1.5, "half"),
            Entry(2, "i", 7, "int64"),
            Entry(3, "train/loss", 0.25, "no_metadata"),  // metadata on a tag's first value only
            Entry(3, "v", 1, "vector"),  // not a scalar
            Entry(3, "t", 2, "text"),  // text plugin: not a scalar
        ]
        let path = try EventFileFixtures.write(.tensors, entries, extras: true, in: directory.path)
        var reader = TensorBoardEventReader(path: path)
        let scalars = try readAll(&reader)
        #expect(
            scalars.map(\.tag) == [
                "train/loss", "train/kl", "train/grad_norm", "d", "cf", "cd", "h", "i", "train/loss",
            ])
        #expect(scalars.map(\.step) == [1, 1, 1, 2, 2, 2, 2, 2, 3])
        let values = scalars.map(\.value)
        #expect(values[0] == 0.5)
        #expect(values[1].isNaN)
        #expect(values[2] == .infinity)
        #expect(values[3] == 0.1)  // a double tensor keeps double precision
        #expect(values[4] == 0.75)
        #expect(values[5] == 0.1)
        #expect(values[6] == 1.5)
        #expect(values[7] == 7)
        #expect(values[8] == 0.25)
    }

    /// The trainer writes while rlwatch polls: every step arrives exactly once, and a step is emitted
    /// only when the next one starts (or at the flush).
    @Test func growingFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let writer = try GrowingWriter(directory: directory.path)
        defer { writer.terminate() }
        var reader = TensorBoardEventReader(path: writer.path)
        var assembler = TensorBoardStepAssembler()
        var steps: [TensorBoardStep] = []
        var scalarCount = 0
        let tags = ["train/loss", "train/kl", "train/entropy", "train/reward"]
        for step in 1...6 {
            // Half of the step's scalars, flushed and read: the step is not complete yet.
            for tag in tags.prefix(2) {
                try writer.send("scalar \(step) \(tag) \(Double(step) + 0.25)")
            }
            try writer.send("flush")
            var poll = try reader.poll()
            scalarCount += poll.scalars.count
            steps += assembler.add(poll.scalars)
            #expect(assembler.pendingStep == step)
            #expect(steps.count == step - 1)
            for tag in tags.dropFirst(2) {
                try writer.send("scalar \(step) \(tag) \(Double(step) + 0.5)")
            }
            try writer.send("flush")
            poll = try reader.poll()
            scalarCount += poll.scalars.count
            steps += assembler.add(poll.scalars)
            #expect(poll.unreadBytes == 0)
        }
        try writer.send("close")
        scalarCount += try reader.poll().scalars.count
        if let last = assembler.flush() { steps.append(last) }
        #expect(scalarCount == 6 * tags.count)
        #expect(steps.map(\.step) == Array(1...6))
        for step in steps {
            let metrics = step.metricStep()
            #expect(metrics.loss == Double(step.step) + 0.25)
            #expect(metrics.klDivergence == Double(step.step) + 0.25)
            #expect(metrics.entropy == Double(step.step) + 0.5)
            #expect(metrics.rewardMean == Double(step.step) + 0.5)
        }
    }

    /// A copy of a file cut inside its last record, as a reader sees a record being written.
    @Test(arguments: [1, 4, 11, 12, 13, 20])
    func truncatedLastRecord(keptBytesOfLastRecord: Int) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let entries = (1...3).map { Entry($0, "train/loss", Double($0)) }
        let original = try EventFileFixtures.write(.simple, entries, in: directory.path)
        let bytes = try [UInt8](contentsOfFile: original)
        let lastOffset = try #require(recordOffsets(of: bytes).last)
        try #require(keptBytesOfLastRecord < bytes.count - lastOffset)
        let copy = directory.path + "/copy.tfevents"
        try Array(bytes[..<(lastOffset + keptBytesOfLastRecord)]).write(toFile: copy)

        var reader = TensorBoardEventReader(path: copy)
        let first = try reader.poll()
        #expect(first.endOffset == Int64(lastOffset))
        #expect(first.unreadBytes == Int64(keptBytesOfLastRecord))
        #expect(first.reachedEnd)
        #expect(first.scalars.map(\.step) == [1, 2])
        // Polling again before the writer goes on changes nothing.
        let idle = try reader.poll()
        #expect(idle.scalars.isEmpty && idle.endOffset == Int64(lastOffset))

        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: copy))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(bytes[(lastOffset + keptBytesOfLastRecord)...]))
        try handle.close()
        let second = try reader.poll()
        #expect(second.scalars.map(\.step) == [3])
        #expect(second.scalars.map(\.value) == [3])
        #expect(second.records == 1)
        #expect(second.endOffset == Int64(bytes.count))
    }

    enum Damage: String, CaseIterable {
        case dataByte, dataCRCByte, lengthByte, lengthCRCByte
    }

    @Test(arguments: Damage.allCases)
    func corruptByte(damage: Damage) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let entries = (1...4).map { Entry($0, "train/loss", Double($0)) }
        let path = try EventFileFixtures.write(.simple, entries, in: directory.path)
        var bytes = try [UInt8](contentsOfFile: path)
        let offsets = recordOffsets(of: bytes)
        // Record 0 is the file_version header; damage the record of step 2 (record 2).
        let target = offsets[2]
        let next = offsets[3]
        let position =
            switch damage {
            case .lengthByte: target
            case .lengthCRCByte: target + 9
            case .dataByte: target + 14
            case .dataCRCByte: next - 2
            }
        bytes[position] ^= 0x20
        try bytes.write(toFile: path)

        var reader = TensorBoardEventReader(path: path)
        // The good records before the corrupt one come first.
        let good = try reader.poll()
        #expect(good.scalars.map(\.step) == [1])
        #expect(good.endOffset == Int64(target))
        #expect(!good.reachedEnd)
        let error = try #require(throws: TensorBoardReadError.self) { try reader.poll() }
        #expect(error.file == path)
        #expect(error.offset == Int64(target))
        #expect(error.description.hasPrefix("\(path): record at offset \(target): "))
        // It stays at the corrupt record until told otherwise.
        #expect(throws: TensorBoardReadError.self) { try reader.poll() }
        switch damage {
        case .dataByte, .dataCRCByte:
            #expect(error.kind == .dataCRCMismatch)
            #expect(error.description.contains("data CRC mismatch"))
            #expect(error.nextRecordOffset == Int64(next))
            let skipped = reader.skipCorruptRecord()
            #expect(skipped)
            let rest = try readAll(&reader)
            #expect(rest.map(\.step) == [3, 4])
        case .lengthByte, .lengthCRCByte:
            #expect(error.kind == .lengthCRCMismatch)
            #expect(error.description.contains("length CRC mismatch"))
            #expect(error.nextRecordOffset == nil)
            let skipped = reader.skipCorruptRecord()
            #expect(!skipped)
        }
    }

    /// The first record being corrupt throws at once (there is nothing good to return before it).
    @Test func corruptFirstRecord() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try EventFileFixtures.write(.simple, [Entry(1, "train/loss", 1)], in: directory.path)
        var bytes = try [UInt8](contentsOfFile: path)
        bytes[14] ^= 0xFF
        try bytes.write(toFile: path)
        var reader = TensorBoardEventReader(path: path)
        let error = try #require(throws: TensorBoardReadError.self) { try reader.poll() }
        #expect(error.offset == 0)
        #expect(error.kind == .dataCRCMismatch)
        #expect(reader.offset == 0)
    }

    @Test func frameworkTagsMapToMetrics() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let entries = [
            // TRL GRPO through the Hugging Face TensorBoardCallback.
            Entry(10, "train/loss", 0.5), Entry(10, "train/entropy", 1.25), Entry(10, "train/kl", 0.0625),
            Entry(10, "train/reward", 0.75), Entry(10, "train/reward_std", 0.125), Entry(10, "train/grad_norm", 2),
            Entry(10, "train/learning_rate", 0.0001), Entry(10, "train/clip_ratio/region_mean", 0.03125),
            Entry(10, "train/rewards/accuracy_reward/mean", 0.5), Entry(10, "train/completions/clipped_ratio", 0.25),
            Entry(10, "eval/loss", 9),
            // veRL: its keys as they are.
            Entry(20, "actor/entropy", 1.5), Entry(20, "actor/kl_loss", 0.25), Entry(20, "actor/ppo_kl", 0.5),
            Entry(20, "critic/score/mean", 0.875), Entry(20, "actor/pg_loss", -0.5), Entry(20, "actor/grad_norm", 3),
            Entry(20, "actor/pg_clipfrac", 0.0625), Entry(20, "val-core/gsm8k/reward/mean@1", 0.9),
            // OpenRLHF: train/ + its own keys; only the policy-update KL.
            Entry(30, "train/policy_loss", 0.375), Entry(30, "train/actor_grad_norm", 4),
            Entry(30, "train/ppo_kl", 0.125),
            Entry(30, "train/entropy_loss", -1.75),
            // The Hugging Face end-of-training summary: not a training step.
            Entry(31, "train/train_runtime", 100), Entry(31, "train/train_loss", 0.4), Entry(31, "train/epoch", 1),
        ]
        let path = try EventFileFixtures.write(.simple, entries, in: directory.path)
        var reader = TensorBoardEventReader(path: path)
        var assembler = TensorBoardStepAssembler()
        var steps = assembler.add(try readAll(&reader))
        if let last = assembler.flush() { steps.append(last) }
        #expect(steps.map(\.step) == [10, 20, 30])
        #expect(assembler.droppedEvaluationScalars == 2)
        #expect(assembler.droppedSummarySteps == 1)

        let trl = steps[0].metricStep()
        #expect(trl.loss == 0.5)
        #expect(trl.entropy == 1.25)
        #expect(trl.klDivergence == 0.0625)
        #expect(trl.rewardMean == 0.75)
        #expect(trl.rewardStd == 0.125)
        #expect(trl.gradNorm == 2)
        #expect(trl.learningRate == Double(Float(0.0001)))
        #expect(trl.clipFraction == 0.03125)
        #expect(trl.extras["rewards/accuracy_reward/mean"] == 0.5)
        #expect(trl.clippedRatio == 0.25)
        #expect(trl.extras["eval/loss"] == nil && trl.extras["loss"] == nil)
        #expect(steps[0].sourceDescription.contains("kl_divergence ← kl"))

        let verl = steps[1].metricStep()
        #expect(verl.entropy == 1.5)
        #expect(verl.klDivergence == 0.25)  // the reference KL wins over the policy-update KL
        #expect(verl.rewardMean == 0.875)
        #expect(verl.loss == -0.5)
        #expect(verl.gradNorm == 3)
        #expect(verl.clipFraction == 0.0625)
        #expect(verl.extras.keys.allSatisfy { !$0.hasPrefix("val-core/") })
        #expect(steps[1].sourceDescription.contains("kl_divergence ← actor/kl_loss"))

        let openRLHF = steps[2].metricStep()
        #expect(openRLHF.loss == 0.375)
        #expect(openRLHF.gradNorm == 4)
        #expect(openRLHF.klDivergence == 0.125)
        #expect(openRLHF.entropy == 1.75)
        #expect(steps[2].sourceDescription.contains("kl_divergence ← ppo_kl (old-vs-new policy KL"))
    }

    /// A log directory of a restarted run and of a second run, as writers lay them out.
    @Test func logDirectoryListing() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let runA = directory.path + "/run-a"
        let runB = directory.path + "/run-b/nested"
        try FileManager.default.createDirectory(atPath: runB, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: runA, withIntermediateDirectories: true)
        let b = try EventFileFixtures.write(.simple, [Entry(1, "train/loss", 1)], in: runB)
        let a = try EventFileFixtures.write(.simple, [Entry(1, "train/loss", 1)], in: runA)
        let files = try TensorBoardLogDirectory.eventFiles(in: directory.path)
        #expect(files.map(\.path) == [a, b])
        #expect(files.map(\.run) == ["run-a", "run-b/nested"])
        #expect(files.allSatisfy { $0.timestamp != nil })
    }
}

/// `write_events.py grow`: a tensorboardX writer that writes what the test tells it to, when it tells it.
final class GrowingWriter {
    let process = Process()
    let input = Pipe()
    let output = Pipe()
    let errors = Pipe()
    /// The event file being written.
    private(set) var path = ""
    private var pending = Data()

    init(directory: String) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", EventFileFixtures.script, "grow", directory]
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        do {
            try process.run()
        } catch {
            throw EventFileFixtures.PythonFailure(
                description: "cannot run python3 (\(error)): install Python 3 and `pip install tensorboardX`")
        }
        path = try readLine()
    }

    /// Sends one command and waits for the writer's "ok".
    func send(_ command: String) throws {
        input.fileHandleForWriting.write(Data((command + "\n").utf8))
        let answer = try readLine()
        guard answer == "ok" else {
            throw EventFileFixtures.PythonFailure(description: "write_events.py grow answered \(answer) to \(command)")
        }
    }

    private func readLine() throws -> String {
        while true {
            if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                return line
            }
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else {
                process.waitUntilExit()
                let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                throw EventFileFixtures.PythonFailure(
                    description: EventFileFixtures.failureMessage(status: process.terminationStatus, stderr: stderr))
            }
            pending.append(chunk)
        }
    }

    func terminate() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}
