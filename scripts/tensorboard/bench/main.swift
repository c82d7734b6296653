// Throughput of RLWatchTensorBoard on a local event file, in release mode: see ../bench.sh.
//
// Writes an event file of scalar events shaped as tensorboardX / TRL write them (one event per scalar,
// `simple_value`), or as TF2 / torch new-style scalar tensors with `--tensors`, then times reading it
// (TFRecord framing, both CRCs, Event decoding) and reading + grouping into steps + mapping to MetricStep.
import Foundation
import RLWatchTensorBoard

let arguments = CommandLine.arguments.dropFirst()
let useTensors = arguments.contains("--tensors")
let events = arguments.compactMap { Int($0) }.first ?? 2_000_000
let tags = [
    "train/loss", "train/grad_norm", "train/learning_rate", "train/reward", "train/reward_std",
    "train/kl", "train/entropy", "train/clip_ratio/region_mean", "train/completions/mean_length",
    "train/rewards/accuracy_reward/mean", "train/frac_reward_zero_std", "train/epoch",
]

// MARK: hand-encoded protobuf, the bytes a writer produces

func varint(_ value: UInt64, into bytes: inout [UInt8]) {
    var value = value
    while value >= 0x80 {
        bytes.append(UInt8(value & 0x7F) | 0x80)
        value >>= 7
    }
    bytes.append(UInt8(value))
}

func lengthDelimited(_ field: UInt64, _ payload: [UInt8], into bytes: inout [UInt8]) {
    varint(field << 3 | 2, into: &bytes)
    varint(UInt64(payload.count), into: &bytes)
    bytes.append(contentsOf: payload)
}

func event(step: Int, wallTime: Double, tag: String, value: Float) -> [UInt8] {
    var summaryValue: [UInt8] = []
    lengthDelimited(1, Array(tag.utf8), into: &summaryValue)
    if useTensors {
        var tensor: [UInt8] = [0x08, 0x01]  // dtype DT_FLOAT
        lengthDelimited(2, [], into: &tensor)  // tensor_shape {}: rank 0
        var packed: [UInt8] = []
        withUnsafeBytes(of: value.bitPattern.littleEndian) { packed.append(contentsOf: $0) }
        lengthDelimited(5, packed, into: &tensor)  // float_val
        lengthDelimited(8, tensor, into: &summaryValue)
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

func record(_ data: [UInt8]) -> [UInt8] {
    var bytes: [UInt8] = []
    withUnsafeBytes(of: UInt64(data.count).littleEndian) { bytes.append(contentsOf: $0) }
    let lengthCRC = bytes.withUnsafeBytes { CRC32C.masked(CRC32C.checksum($0)) }
    withUnsafeBytes(of: lengthCRC.littleEndian) { bytes.append(contentsOf: $0) }
    bytes.append(contentsOf: data)
    withUnsafeBytes(of: CRC32C.masked(CRC32C.checksum(data)).littleEndian) { bytes.append(contentsOf: $0) }
    return bytes
}

// MARK: the file

let path = FileManager.default.temporaryDirectory
    .appendingPathComponent("events.out.tfevents.1700000000.bench.\(getpid()).0").path
var file: [UInt8] = []
file.reserveCapacity(events * 64)
var header: [UInt8] = [0x09] + [UInt8](repeating: 0, count: 8)
lengthDelimited(3, Array("brain.Event:2".utf8), into: &header)
file += record(header)
for index in 0..<events {
    let step = index / tags.count
    file += record(
        event(
            step: step, wallTime: 1_700_000_000 + Double(step), tag: tags[index % tags.count],
            value: Float(index % 1000) / 1000))
}
FileManager.default.createFile(atPath: path, contents: Data(file))
defer { try? FileManager.default.removeItem(atPath: path) }
print(
    "file: \(events) scalar events (\(useTensors ? "scalar tensors" : "simple_value")), \(file.count) bytes, "
        + "\(String(format: "%.1f", Double(file.count) / Double(events))) bytes/event")

// MARK: timing

func measure(_ label: String, repetitions: Int = 5, _ body: () throws -> Int) rethrows {
    var best = Double.infinity
    var count = 0
    for _ in 0..<repetitions {
        let start = ContinuousClock.now
        count = try body()
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        best = min(best, seconds)
    }
    let rate = Double(count) / best
    print(
        String(
            format: "%@: %d scalars in %.3f s (best of %d) = %.2f M scalar events/s", label, count, best,
            repetitions, rate / 1e6))
}

try measure("read (framing + CRCs + decode)") {
    var reader = TensorBoardEventReader(path: path)
    var count = 0
    while true {
        let poll = try reader.poll()
        count += poll.scalars.count
        if poll.reachedEnd { break }
    }
    return count
}

try measure("read + steps") {
    var reader = TensorBoardEventReader(path: path)
    var assembler = TensorBoardStepAssembler()
    var count = 0
    var steps = 0
    while true {
        let poll = try reader.poll()
        count += poll.scalars.count
        steps += assembler.add(poll.scalars).count
        if poll.reachedEnd { break }
    }
    if assembler.flush() != nil { steps += 1 }
    precondition(steps == (events + tags.count - 1) / tags.count, "steps: \(steps)")
    return count
}

try measure("read + steps + MetricStep") {
    var reader = TensorBoardEventReader(path: path)
    var assembler = TensorBoardStepAssembler()
    var count = 0
    var steps = 0
    while true {
        let poll = try reader.poll()
        count += poll.scalars.count
        for step in assembler.add(poll.scalars) {
            steps += step.metricStep().step >= 0 ? 1 : 0
        }
        if poll.reachedEnd { break }
    }
    if assembler.flush() != nil { steps += 1 }
    precondition(steps == (events + tags.count - 1) / tags.count, "steps: \(steps)")
    return count
}
