import Foundation

/// Reads what a trainer has appended to a CSV log since the last read, with the rules `replay` reads a CSV file
/// by (``SelectedRowsReader``): the header row (``CSVHeader``), empty cells not logged, consecutive rows of one
/// step merged.
///
/// A last line without its newline is being written: it waits for the next read unless the log is finished. The
/// step of the last row read waits too (the trainer may add another row of that step), until a row of another
/// step arrives or the caller says the log is finished or the watch stops.
public struct CSVTail: Sendable {
    /// Where the next read starts: stored with the steps it covers, so a restarted watch continues exactly there.
    public struct Position: Sendable, Hashable, Codable {
        /// The byte offset just after the last line consumed.
        public var offset: Int64 = 0
        /// The number of the last line consumed (1-based; 0 before the first).
        public var line = 0
        /// The header, once read.
        public var header: CSVHeader?
        /// The step still being gathered.
        public var pending: PendingStep?

        public init() {}
    }

    /// A step whose rows may not all be written yet.
    public struct PendingStep: Sendable, Hashable, Codable {
        public var step: Int
        public var values: [String: Double]
    }

    /// What one read found.
    public struct Chunk {
        /// The completed steps, in order.
        public var lines: [RawMetricsLine] = []
        /// Lines that were skipped (or, under `strict`, the one that stopped the read).
        public var errors: [SelectedRowsError] = []
        /// Whether the read stopped at a bad line under `strict` (the position is just before it).
        public var stopped = false
        public var position: Position
        /// Whether more complete lines are waiting after `maxLines`.
        public var hasMore = false
    }

    public let path: String
    public let keyMap: MetricKeyMap

    public init(path: String, keyMap: MetricKeyMap = .builtIn) {
        self.path = path
        self.keyMap = keyMap
    }

    /// Reads the complete lines of `handle` after `position`.
    ///
    /// - Parameters:
    ///   - final: the log is finished: a last line without its newline is read, and the last step completed.
    ///   - flushPending: complete the last step (the watch stops).
    ///   - strict: stop before a bad line instead of skipping it.
    /// - Throws: an I/O error from the handle.
    public func read(
        _ handle: FileHandle, from position: Position, maxLines: Int, final: Bool, flushPending: Bool, strict: Bool
    ) throws -> Chunk {
        try handle.seek(toOffset: UInt64(position.offset))
        let data = try handle.read(upToCount: 16 << 20) ?? Data()
        var chunk = Chunk(position: position)
        var start = data.startIndex
        var lines = 0
        while start < data.endIndex {
            if lines >= maxLines {
                chunk.hasMore = true
                break
            }
            let newline = data[start...].firstIndex(of: UInt8(ascii: "\n"))
            guard let end = newline ?? (final ? data.endIndex : nil) else { break }
            let before = chunk.position
            var text = String(decoding: data[start..<end], as: UTF8.self)
            start = newline.map { $0 + 1 } ?? end
            chunk.position.offset = position.offset + Int64(start - data.startIndex)
            chunk.position.line += 1
            lines += 1
            if text.hasSuffix("\r") { text.removeLast() }
            if chunk.position.line == 1, text.hasPrefix("\u{FEFF}") { text.removeFirst() }
            if text.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            do {
                try consume(text, line: chunk.position.line, into: &chunk)
            } catch {
                chunk.errors.append(error)
                if strict {
                    chunk.position = before
                    chunk.stopped = true
                    chunk.hasMore = false
                    return chunk
                }
            }
        }
        if final && !chunk.hasMore || flushPending, let pending = chunk.position.pending {
            chunk.lines.append(RawMetricsLine(step: pending.step, values: pending.values))
            chunk.position.pending = nil
        }
        return chunk
    }

    private func consume(_ text: String, line: Int, into chunk: inout Chunk) throws(SelectedRowsError) {
        let cells = try SelectedRowsReader.csvCells(text, file: path, line: line)
        guard let header = chunk.position.header else {
            chunk.position.header = CSVHeader(cells: cells)
            return
        }
        let row = try header.row(cells, file: path, line: line)
        guard let step = SelectedRowsReader.integer(row[header.stepKey]) else {
            throw SelectedRowsError(file: path, line: line, message: "no integer \"\(header.stepKey)\" in the row")
        }
        if let (key, text) = SelectedRowsReader.nonNumericMetric(row, skipping: header.stepKey, keyMap: keyMap) {
            throw SelectedRowsError(file: path, line: line, message: "\"\(key)\": expected a number, got \"\(text)\"")
        }
        var values: [String: Double] = [:]
        var rewards: [Double]?
        SelectedRowsReader.collect(row, into: &values, rewards: &rewards, skipping: header.stepKey)
        if var pending = chunk.position.pending, pending.step == step {
            pending.values.merge(values) { _, new in new }
            chunk.position.pending = pending
            return
        }
        if let pending = chunk.position.pending {
            chunk.lines.append(RawMetricsLine(step: pending.step, values: pending.values))
        }
        chunk.position.pending = PendingStep(step: step, values: values)
    }
}
