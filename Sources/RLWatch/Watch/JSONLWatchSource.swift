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

/// A metrics JSONL file a trainer appends to: rlwatch's own format or veRL's file logger.
///
/// Each poll opens the file, checks that it is still the file read so far, and reads the complete lines
/// after the stored byte offset; a last line without its newline is waited on. States:
///
/// - *fresh*: nothing read; the next poll reads from the start and takes the file's identity.
/// - *following*: `position` and `identity` say how far which file was read.
/// - A poll that finds another file at the path (new inode, other first bytes) or a shorter one (truncated
///   in place) says so and goes back to *fresh*: the file is read from the start, and the analyzer makes
///   its steps a new segment where the step numbers go back.
final class JSONLWatchSource: WatchSource {
    /// The stored position: JSON of this.
    struct State: Codable, Hashable {
        var position: MetricsJSONLTail.Position
        var identity: FileIdentity?
    }

    let id: String
    private var tail: MetricsJSONLTail
    private var state = State(position: MetricsJSONLTail.Position(), identity: nil)
    /// Content lines whose logged keys are still to be reported.
    private var keysReported = 0
    private var missingReported = false

    /// - Parameters:
    ///   - path: the file's absolute path, also the checkpoint's source.
    ///   - keyMap: how logged keys become metrics.
    init(path: String, keyMap: MetricKeyMap) {
        id = path
        tail = MetricsJSONLTail(name: path, keyMap: keyMap)
    }

    func resume(from state: String) throws {
        self.state = try StateJSON.decode(State.self, from: state)
    }

    func poll(_ options: WatchPollOptions) throws -> WatchPoll {
        let descriptor = open(id, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            let code = errno
            if code == ENOENT {
                // Rotated away or not written yet: wait for it, and say so once.
                defer { missingReported = true }
                return WatchPoll(notes: missingReported ? [] : [WatchNote(.info, "\(id) is gone; waiting for it to reappear")])
            }
            throw WatchError.cannotWatch(id, String(cString: strerror(code)))
        }
        defer { close(descriptor) }
        missingReported = false
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw WatchError.cannotWatch(id, String(cString: strerror(errno)))
        }

        var poll = WatchPoll()
        var moved = false
        if let identity = state.identity,
            let note = FileIdentity.changeNote(
                identity, path: id, descriptor: descriptor, status: status, offset: state.position.offset)
        {
            poll.notes.append(note)
            state = State(position: MetricsJSONLTail.Position(), identity: nil)
            moved = true
        }
        if state.identity != nil, Int64(status.st_size) == state.position.offset {
            return poll
        }

        let chunk: MetricsJSONLTail.Chunk
        do {
            chunk = try tail.read(
                descriptor: descriptor, from: state.position, maxLines: options.limit, atEnd: options.final,
                keysForLines: max(0, options.keysWanted - keysReported))
        } catch {
            throw WatchError.cannotWatch(id, error.message)
        }
        var position = chunk.position
        poll.steps.reserveCapacity(chunk.lines.count)
        for line in chunk.lines {
            if let keys = line.keys {
                keysReported += 1
                poll.keys += keys
            }
            switch line.result {
            case .success(let step):
                poll.steps.append(step)
            case .failure(let error):
                let located = "\(id):\(line.number): \(error.description)"
                if options.strict {
                    // Stop before the bad line: a restart meets it again.
                    position = previousPosition(before: line, in: chunk)
                    poll.failure = .badInput(located)
                    break
                }
                poll.notes.append(WatchNote(.warning, "skipped \(located)"))
            }
            if poll.failure != nil { break }
        }
        if options.final, chunk.pendingBytes > 0, poll.failure == nil {
            poll.notes.append(
                WatchNote(
                    .warning,
                    "\(id):\(position.line + 1): the last line has no newline and does not parse yet; "
                        + "left unread (still being written?)"))
        }
        poll.hasMore = chunk.hasMore && poll.failure == nil
        if position != state.position || state.identity == nil || moved {
            state.position = position
            state.identity = FileIdentity.refreshed(state.identity, descriptor: descriptor, status: status)
            poll.state = encode(state)
        }
        return poll
    }

    /// The position just after the content line before `line` (lines are in order).
    private func previousPosition(before line: MetricsJSONLTail.Line, in chunk: MetricsJSONLTail.Chunk)
        -> MetricsJSONLTail.Position
    {
        var previous = state.position
        for candidate in chunk.lines {
            if candidate.number == line.number { break }
            previous = candidate.positionAfter
        }
        return previous
    }

    private func encode(_ state: State) -> String {
        StateJSON.encode(state) ?? "{}"
    }
}
