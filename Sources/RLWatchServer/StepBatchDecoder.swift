import Foundation
import RLWatchCore
import RLWatchIngest

/// Turns the body of `POST /api/v1/runs/{run}/steps` into steps, all or nothing.
///
/// The body is a JSON array of step objects (`application/json`) or one step object per line
/// (`application/x-ndjson`), each in `rlwatch replay`'s format. The first bad step rejects the whole batch
/// with an error naming its 0-based index in the batch, the field at fault and, for NDJSON, the line.
package struct StepBatchDecoder: Sendable {
    package enum Format: Sendable, Hashable {
        case jsonArray
        case ndjson
        /// Decided by the body: an array when it starts with `[`, NDJSON otherwise (curl's default Content-Type
        /// is form-encoded, and users should not have to know that).
        case sniff
    }

    /// The most per-sample rewards one step may carry.
    var maxRewardsPerStep: Int
    /// The most steps one batch may carry.
    var maxStepsPerBatch: Int
    /// The most metric keys (beyond the built-in metrics) one step may carry: each is a column of the run's
    /// exports and a value in every stored row.
    var maxKeysPerStep = 1_000
    /// The longest metric key, in UTF-8 bytes.
    var maxKeyBytes = 256

    /// - Parameters:
    ///   - maxRewardsPerStep: The most per-sample rewards one step may carry.
    ///   - maxStepsPerBatch: The most steps one batch may carry.
    package init(maxRewardsPerStep: Int, maxStepsPerBatch: Int) {
        self.maxRewardsPerStep = maxRewardsPerStep
        self.maxStepsPerBatch = maxStepsPerBatch
    }

    /// The body's format from its `Content-Type` (parameters such as `charset` ignored).
    static func format(contentType: String?) -> Format {
        guard let contentType else { return .sniff }
        let mediaType = contentType.split(separator: ";", maxSplits: 1).first.map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        } ?? ""
        switch mediaType {
        case "application/json", "text/json": return .jsonArray
        case "application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines":
            return .ndjson
        default: return .sniff
        }
    }

    package func decode(_ body: [UInt8], format: Format) throws(APIError) -> [MetricStep] {
        if let offset = Self.firstInvalidUTF8(body) {
            throw .badRequest("the body is not valid UTF-8 (byte offset \(offset))")
        }
        var format = format
        if format == .sniff {
            let first = Self.skipWhitespace(body, from: 0)
            format = first < body.count && body[first] == UInt8(ascii: "[") ? .jsonArray : .ndjson
        }
        let ranges: [(range: Range<Int>, line: Int?)]
        switch format {
        case .jsonArray: ranges = try Self.arrayElements(body).map { ($0, nil) }
        case .ndjson, .sniff: ranges = Self.lines(body)
        }
        if ranges.count > maxStepsPerBatch {
            throw .badRequest("the batch has \(ranges.count) steps; at most \(maxStepsPerBatch) are accepted per request")
        }
        var parser = MetricsLineParser()
        var steps: [MetricStep] = []
        steps.reserveCapacity(ranges.count)
        let failure = body.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) -> APIError? in
            for (index, element) in ranges.enumerated() {
                let slice = UnsafeRawBufferPointer(rebasing: bytes[element.range])
                let step: MetricStep
                do throws(MetricsLineError) {
                    step = try parser.parse(slice)
                } catch {
                    let place = element.line.map { "line \($0), " } ?? ""
                    return .badRequest(
                        "step \(index) (\(place)column \(error.column)): \(error.message)", index: index,
                        field: error.key ?? (error.kind == .missingStep || error.kind == .invalidStep ? "step" : nil))
                }
                if let rewards = step.rewards, rewards.count > maxRewardsPerStep {
                    return .badRequest(
                        "step \(index): \"rewards\" has \(rewards.count) samples; at most \(maxRewardsPerStep) are accepted per step",
                        index: index, field: "rewards")
                }
                if step.extras.count > maxKeysPerStep {
                    return .badRequest(
                        "step \(index) has \(step.extras.count) metric keys; at most \(maxKeysPerStep) are accepted per step",
                        index: index)
                }
                if let long = step.extras.keys.first(where: { $0.utf8.count > maxKeyBytes }) {
                    return .badRequest(
                        "step \(index): a metric key is \(long.utf8.count) bytes long; at most \(maxKeyBytes) are accepted "
                            + "(it starts \"\(long.prefix(40))…\")",
                        index: index, field: String(long.prefix(40)))
                }
                steps.append(step)
            }
            return nil
        }
        if let failure { throw failure }
        return steps
    }

    /// The keys the first step of a batch logged (its top-level keys but `step`, with those of a nested object
    /// such as veRL's `data`), for the note that names which key feeds which metric; empty when the batch has no
    /// step object to read.
    static func loggedKeys(_ body: [UInt8], format: Format) -> [String] {
        var format = format
        if format == .sniff {
            let first = skipWhitespace(body, from: 0)
            format = first < body.count && body[first] == UInt8(ascii: "[") ? .jsonArray : .ndjson
        }
        let first: Range<Int>?
        switch format {
        case .jsonArray: first = (try? arrayElements(body))?.first
        case .ndjson, .sniff: first = lines(body).first?.range
        }
        guard let first, case .object(let members)? = try? JSONReader.parse(Array(body[first]), mode: .pythonLenient)
        else { return [] }
        var keys: [String] = []
        for (key, value) in members where key != "step" {
            if case .object(let nested) = value { keys += nested.map(\.0) } else { keys.append(key) }
        }
        return Array(Set(keys)).sorted()
    }

    /// The byte ranges of a JSON array's elements, framed by the shared ``JSONReader``. An element that is not
    /// well formed ends the list there, running to the end of the body, so that the step parser names its
    /// column and key.
    static func arrayElements(_ body: [UInt8]) throws(APIError) -> [Range<Int>] {
        let framed = body.withUnsafeBufferPointer { buffer in
            Result { () throws(APIError) in try arrayElements(buffer) }
        }
        return try framed.get()
    }

    private static func arrayElements(_ buffer: UnsafeBufferPointer<UInt8>) throws(APIError) -> [Range<Int>] {
        let empty: StaticString = " "
        var reader = JSONReader(bytes: buffer.baseAddress ?? empty.utf8Start, count: buffer.count, mode: .pythonLenient)
        reader.skipWhitespace()
        guard reader.current == UInt8(ascii: "[") else {
            throw .badRequest(
                "expected a JSON array of step objects (or send NDJSON with Content-Type: application/x-ndjson)")
        }
        reader.position += 1
        reader.skipWhitespace()
        var elements: [Range<Int>] = []
        if reader.current != UInt8(ascii: "]") {
            while true {
                let start = reader.position
                do throws(JSONError) {
                    try reader.skipValue(depth: 1)
                } catch {
                    guard reader.position < reader.count else { break }
                    elements.append(start..<reader.count)
                    return elements
                }
                elements.append(start..<reader.position)
                reader.skipWhitespace()
                if reader.current == UInt8(ascii: "]") { break }
                guard reader.current == UInt8(ascii: ",") else {
                    if reader.position >= reader.count {
                        throw .badRequest(
                            "the JSON array is not closed (step \(elements.count - 1) runs to the end of the body)",
                            index: elements.count - 1)
                    }
                    throw .badRequest(
                        "unexpected `\(Character(UnicodeScalar(reader.current)))` after step \(elements.count - 1)",
                        index: elements.count - 1)
                }
                reader.position += 1
                reader.skipWhitespace()
            }
        }
        guard reader.current == UInt8(ascii: "]") else {
            throw .badRequest(
                "the JSON array is not closed (step \(elements.count) runs to the end of the body)", index: elements.count)
        }
        reader.position += 1
        reader.skipWhitespace()
        if reader.position != reader.count {
            throw .badRequest("unexpected data after the JSON array")
        }
        return elements
    }

    /// Non-blank lines with their 1-based line numbers.
    static func lines(_ body: [UInt8]) -> [(range: Range<Int>, line: Int?)] {
        var result: [(range: Range<Int>, line: Int?)] = []
        var start = 0
        var number = 1
        while start < body.count {
            var end = start
            while end < body.count, body[end] != UInt8(ascii: "\n") { end += 1 }
            var trimmedEnd = end
            if trimmedEnd > start, body[trimmedEnd - 1] == UInt8(ascii: "\r") { trimmedEnd -= 1 }
            if skipWhitespace(body, from: start, to: trimmedEnd) < trimmedEnd {
                result.append((start..<trimmedEnd, number))
            }
            start = end + 1
            number += 1
        }
        return result
    }

    private static func skipWhitespace(_ body: [UInt8], from start: Int, to end: Int? = nil) -> Int {
        let end = end ?? body.count
        var position = start
        while position < end {
            switch body[position] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): position += 1
            default: return position
            }
        }
        return position
    }

    /// The offset of the first byte that is not part of valid UTF-8, or nil.
    static func firstInvalidUTF8(_ body: [UInt8]) -> Int? {
        var iterator = body.makeIterator()
        var decoder = UTF8()
        var offset = 0
        // Fast path: ASCII only.
        if !body.contains(where: { $0 >= 0x80 }) { return nil }
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar):
                offset += UTF8.width(scalar)
            case .emptyInput:
                return nil
            case .error:
                return offset
            }
        }
    }
}
