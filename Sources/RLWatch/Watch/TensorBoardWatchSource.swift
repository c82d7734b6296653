#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import RLWatchCore
import RLWatchIngest
import RLWatchTensorBoard

/// One TensorBoard event file, as a ``WatchSource``: its records are read with ``TensorBoardEventReader``
/// and grouped into steps by ``TensorBoardStepAssembler``.
///
/// A step is complete only when the next one starts (writers emit one event per scalar, and buffer them),
/// so while following, the last step read stays pending until the trainer logs the next. The pending
/// scalars are part of the stored position, with the offset after them: a restarted watch neither loses
/// nor repeats that step. A finished log (`--no-follow`, `replay`) completes it at once.
final class TensorBoardWatchSource: WatchSource {
    /// The stored position: JSON of this.
    struct State: Codable, Hashable {
        /// The offset after the last record read.
        var offset: Int64
        /// The scalars of the step still being gathered: its number, wall time and values by key.
        var pending: PendingStep?
        var identity: Identity?
        /// The end-of-training summary tag seen in the file, if any: the run finished.
        var ended: String?
    }

    struct PendingStep: Codable, Hashable {
        var step: Int
        var wallTime: Double
        var values: [String: Double]
    }

    /// The file's device, inode and a fingerprint of its first bytes (event files are never rewritten,
    /// so another identity means another file at the same path).
    struct Identity: Codable, Hashable {
        var device: UInt64
        var inode: UInt64
        var head: [UInt8]
    }

    /// How many first bytes identify a file: the first record (the file-version event) and more.
    static let headLength = 64

    let id: String
    private let keyMap: MetricKeyMap
    private var reader: TensorBoardEventReader
    private var assembler = TensorBoardStepAssembler()
    private var state = State(offset: 0, pending: nil, identity: nil)
    private var keysReported = 0
    private var missingReported = false
    /// A corrupt record whose length is unknown: nothing after it can be found, the file is given up.
    private var unreadable = false
    /// Whether the end of training was said (``WatchPoll/ended`` is returned once).
    private var endReported = false

    init(path: String, keyMap: MetricKeyMap) {
        id = path
        self.keyMap = keyMap
        reader = TensorBoardEventReader(path: path)
    }

    func resume(from state: String) throws {
        let saved = try StateJSON.decode(State.self, from: state)
        restart(at: saved)
    }

    func poll(_ options: WatchPollOptions) throws -> WatchPoll {
        var poll = WatchPoll()
        guard let current = Self.identity(of: id) else {
            defer { missingReported = true }
            if !missingReported { poll.notes.append(WatchNote(.info, "\(id) is gone; waiting for it to reappear")) }
            return poll
        }
        missingReported = false
        var moved = false
        if let known = state.identity, known.device != current.device || known.inode != current.inode
            || !current.head.starts(with: known.head) && known.head.count <= current.head.count
        {
            poll.notes.append(WatchNote(.warning, "\(id) was replaced; reading it from the start as a new segment"))
            restart(at: State(offset: 0, pending: nil, identity: nil))
            moved = true
        } else if current.size < state.offset {
            poll.notes.append(
                WatchNote(
                    .warning,
                    "\(id) was truncated (\(current.size) bytes, \(state.offset) read before); "
                        + "reading it from the start as a new segment"))
            restart(at: State(offset: 0, pending: nil, identity: nil))
            moved = true
        }

        guard !unreadable else { return poll }

        var completed: [TensorBoardStep] = []
        var budget = max(1, options.limit)
        var reachedEnd = false
        var unreadBytes: Int64 = 0
        var ended = state.ended
        while budget > 0 {
            let read: TensorBoardEventReader.Poll
            do {
                read = try reader.poll(maxBytes: 4 << 20)
            } catch {
                if error.kind.isCorruptRecord, !options.strict {
                    let skipped = reader.skipCorruptRecord()
                    poll.notes.append(
                        WatchNote(
                            .warning,
                            "skipped \(error.description)" + (skipped ? "" : "; the rest of the file cannot be read")))
                    if skipped { continue }
                    unreadable = true
                    break
                }
                if error.kind.isCorruptRecord {
                    poll.failure = .badInput(error.description)
                    break
                }
                if error.kind == .fileShrank {
                    // Truncated between the identity check and the read: the next poll starts over.
                    break
                }
                throw WatchError.cannotWatch(id, error.message)
            }
            if ended == nil, let tag = read.scalars.first(where: Self.isEndOfTraining)?.tag { ended = tag }
            completed += assembler.add(read.scalars)
            budget -= read.scalars.count
            unreadBytes = read.unreadBytes
            if read.reachedEnd {
                reachedEnd = true
                break
            }
        }
        // A finished log's last step is complete without the next one; so is the last step of a log whose trainer
        // wrote its end-of-training summary (the summary shares the last step's number), and, when the watch
        // stops, a step whose records are all in the file (none half-written after it).
        let wholeRecords = reachedEnd && unreadBytes == 0
        if poll.failure == nil, options.final && reachedEnd || (ended != nil || options.stopping) && wholeRecords,
            let last = assembler.flush()
        {
            completed.append(last)
        }
        if let ended, !endReported {
            endReported = true
            poll.ended = "the trainer wrote its end-of-training summary (\(ended))"
        }
        for step in completed {
            if keysReported < options.keysWanted {
                keysReported += 1
                poll.keys += step.values.keys
            }
            poll.steps.append(keyMap.makeStep(step: step.step, values: step.values))
        }
        poll.hasMore = !reachedEnd && budget <= 0
        let next = State(
            offset: reader.offset, pending: pendingStep(),
            identity: state.identity.flatMap { $0.head.count >= Self.headLength ? $0 : nil }
                ?? Identity(device: current.device, inode: current.inode, head: current.head),
            ended: ended)
        if next != state || moved {
            state = next
            poll.state = StateJSON.encode(next)
        }
        return poll
    }

    /// Whether a scalar is one of the Hugging Face end-of-training summary's (`train/train_runtime`, …).
    private static func isEndOfTraining(_ scalar: TensorBoardScalar) -> Bool {
        TensorBoardTags.metricKey(forTag: scalar.tag).map { TrainerStateReader.endOfTrainingKeys.contains($0) } ?? false
    }

    /// The assembler's unfinished step, read back by flushing a copy.
    private func pendingStep() -> PendingStep? {
        var copy = assembler
        guard let step = copy.flush() else { return nil }
        return PendingStep(step: step.step, wallTime: step.wallTime, values: step.values)
    }

    /// Starts reading at a stored position: the reader at its offset, the assembler holding its pending step.
    private func restart(at saved: State) {
        state = saved
        unreadable = false
        reader = TensorBoardEventReader(path: id, offset: saved.offset)
        assembler = TensorBoardStepAssembler()
        if let pending = saved.pending {
            for (key, value) in pending.values.sorted(by: { $0.key < $1.key }) {
                _ = assembler.add(
                    TensorBoardScalar(step: pending.step, wallTime: pending.wallTime, tag: key, value: value))
            }
        }
    }

    /// The file's identity and size now, or nil when it cannot be opened.
    private static func identity(of path: String) -> (device: UInt64, inode: UInt64, head: [UInt8], size: Int64)? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { return nil }
        var head = [UInt8](repeating: 0, count: headLength)
        let count = head.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, headLength, 0) }
        head.removeSubrange(max(0, count)...)
        return (UInt64(status.st_dev), UInt64(status.st_ino), head, Int64(status.st_size))
    }
}
