import Benchmark
import Foundation
import RLWatchTensorBoard

/// Reading TensorBoard event files: a million scalar events as tensorboardX / TRL write them (one event per scalar,
/// `simple_value`) and as TF2 / torch new-style scalar tensors, read (TFRecord framing, both CRCs, swift-protobuf
/// decoding), grouped into steps and mapped to `MetricStep`s; and `rlwatch replay` of the file end to end.
///
/// Budget (Thresholds/): 3.3 µs an event end to end (≥ 300k events/s).
enum TensorBoardBenchmarks {
    static let events = 1_000_000
    static let tags = [
        "train/loss", "train/grad_norm", "train/learning_rate", "train/reward", "train/reward_std",
        "train/kl", "train/entropy", "train/clip_ratio/region_mean", "train/completions/mean_length",
        "train/rewards/accuracy_reward/mean", "train/frac_reward_zero_std", "train/epoch",
    ]

    static func register() {
        let configuration = Benchmark.Configuration(scalingFactor: .mega, maxDuration: .seconds(20), maxIterations: 5)
        Benchmark("tensorboard.read", configuration: configuration) { benchmark in
            let path = file(tensors: false)
            benchmark.startMeasurement()
            blackHole(try read(path, steps: false))
        }
        Benchmark("tensorboard.read.tensors", configuration: configuration) { benchmark in
            let path = file(tensors: true)
            benchmark.startMeasurement()
            blackHole(try read(path, steps: false))
        }
        Benchmark("tensorboard.read.steps", configuration: configuration) { benchmark in
            let path = file(tensors: false)
            benchmark.startMeasurement()
            blackHole(try read(path, steps: true))
        }
        let cli = Benchmark.Configuration(
            metrics: [.wallClock, .throughput], scalingFactor: .mega, maxDuration: .seconds(30), maxIterations: 3)
        Benchmark("replay.cli.tensorboard", configuration: cli) { benchmark in
            ReplayBenchmarks.runCLI(benchmark, ["replay", file(tensors: false), "--no-store"])
        }
    }

    /// Reads the whole file; with `steps`, also groups the scalars into steps and maps them to `MetricStep`s.
    /// - Returns: the scalars (or steps) read.
    static func read(_ path: String, steps: Bool) throws -> Int {
        var reader = TensorBoardEventReader(path: path)
        var assembler = TensorBoardStepAssembler()
        var count = 0
        while true {
            let poll = try reader.poll()
            if steps {
                for step in assembler.add(poll.scalars) { count &+= step.metricStep().step >= 0 ? 1 : 0 }
            } else {
                count &+= poll.scalars.count
            }
            if poll.reachedEnd { break }
        }
        if steps, assembler.flush() != nil { count += 1 }
        return count
    }

    /// The event file, written once under the bench directory (a directory of its own, as a log directory).
    static func file(tensors: Bool) -> String {
        let directory = "\(BenchPaths.root)/tensorboard-\(events)\(tensors ? "-tensors" : "")"
        let path = "\(directory)/events.out.tfevents.1700000000.bench"
        if FileManager.default.fileExists(atPath: path) { return path }
        note("generating \(path) …")
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(events * 64)
        var header: [UInt8] = [0x09] + [UInt8](repeating: 0, count: 8)
        lengthDelimited(3, Array("brain.Event:2".utf8), into: &header)
        bytes += record(header)
        for index in 0..<events {
            let step = index / tags.count
            bytes += record(
                event(
                    step: step, wallTime: 1_700_000_000 + Double(step), tag: tags[index % tags.count],
                    value: Float(index % 1000) / 1000, tensor: tensors))
        }
        FileManager.default.createFile(atPath: path + ".partial", contents: Data(bytes))
        try? FileManager.default.moveItem(atPath: path + ".partial", toPath: path)
        return path
    }

    // MARK: the bytes a writer produces (tests/fixtures check the reader against tensorboardX itself)

    static func varint(_ value: UInt64, into bytes: inout [UInt8]) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    static func lengthDelimited(_ field: UInt64, _ payload: [UInt8], into bytes: inout [UInt8]) {
        varint(field << 3 | 2, into: &bytes)
        varint(UInt64(payload.count), into: &bytes)
        bytes.append(contentsOf: payload)
    }

    static func event(step: Int, wallTime: Double, tag: String, value: Float, tensor: Bool) -> [UInt8] {
        var summaryValue: [UInt8] = []
        lengthDelimited(1, Array(tag.utf8), into: &summaryValue)
        if tensor {
            var tensorBytes: [UInt8] = [0x08, 0x01]  // dtype DT_FLOAT
            lengthDelimited(2, [], into: &tensorBytes)  // tensor_shape {}: rank 0
            var packed: [UInt8] = []
            withUnsafeBytes(of: value.bitPattern.littleEndian) { packed.append(contentsOf: $0) }
            lengthDelimited(5, packed, into: &tensorBytes)  // float_val
            lengthDelimited(8, tensorBytes, into: &summaryValue)
            var pluginData: [UInt8] = []
            lengthDelimited(1, Array("scalars".utf8), into: &pluginData)
            var metadata: [UInt8] = []
            lengthDelimited(1, pluginData, into: &metadata)
            lengthDelimited(9, metadata, into: &summaryValue)
        } else {
            summaryValue.append(0x15)  // field 2, fixed32: simple_value
            withUnsafeBytes(of: value.bitPattern.littleEndian) { summaryValue.append(contentsOf: $0) }
        }
        var summary: [UInt8] = []
        lengthDelimited(1, summaryValue, into: &summary)
        var bytes: [UInt8] = [0x09]  // field 1, fixed64: wall_time
        withUnsafeBytes(of: wallTime.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(0x10)  // field 2, varint: step
        varint(UInt64(step), into: &bytes)
        lengthDelimited(5, summary, into: &bytes)
        return bytes
    }

    static func record(_ data: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        withUnsafeBytes(of: UInt64(data.count).littleEndian) { bytes.append(contentsOf: $0) }
        let lengthCRC = bytes.withUnsafeBytes { CRC32C.masked(CRC32C.checksum($0)) }
        withUnsafeBytes(of: lengthCRC.littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: data)
        withUnsafeBytes(of: CRC32C.masked(CRC32C.checksum(data)).littleEndian) { bytes.append(contentsOf: $0) }
        return bytes
    }
}
