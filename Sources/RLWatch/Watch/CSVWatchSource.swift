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

/// A CSV log a trainer appends a row to per step, as a ``WatchSource``: read by ``CSVTail`` with the rules
/// `replay` reads CSV by, so a finished log gives the same steps either way.
///
/// As ``JSONLWatchSource``: the stored position is a byte offset with the file's identity (a replaced or
/// truncated file is read from the start as a new segment), plus the header and the step still being gathered.
final class CSVWatchSource: WatchSource {
    struct State: Codable, Hashable {
        var position: CSVTail.Position
        var identity: FileIdentity?
    }

    let id: String
    private let tail: CSVTail
    private var state = State(position: CSVTail.Position(), identity: nil)
    private var keysReported = 0
    private var missingReported = false

    init(path: String, keyMap: MetricKeyMap) {
        id = path
        tail = CSVTail(path: path, keyMap: keyMap)
    }

    func resume(from state: String) throws {
        self.state = try StateJSON.decode(State.self, from: state)
    }

    func poll(_ options: WatchPollOptions) throws -> WatchPoll {
        guard let handle = FileHandle(forReadingAtPath: id) else {
            defer { missingReported = true }
            return WatchPoll(notes: missingReported ? [] : [WatchNote(.info, "\(id) is gone; waiting for it to reappear")])
        }
        defer { try? handle.close() }
        missingReported = false
        let descriptor = handle.fileDescriptor
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw WatchError.cannotWatch(id, String(cString: strerror(errno))) }
        var poll = WatchPoll()
        var moved = false
        if let identity = state.identity,
            let note = FileIdentity.changeNote(
                identity, path: id, descriptor: descriptor, status: status, offset: state.position.offset)
        {
            poll.notes.append(note)
            state = State(position: CSVTail.Position(), identity: nil)
            moved = true
        }
        let chunk: CSVTail.Chunk
        do {
            chunk = try tail.read(
                handle, from: state.position, maxLines: options.limit, final: options.final,
                flushPending: options.stopping, strict: options.strict)
        } catch {
            throw WatchError.cannotWatch(id, "\(error)")
        }
        for error in chunk.errors {
            if chunk.stopped {
                poll.failure = .badInput(error.description)
            } else {
                poll.notes.append(WatchNote(.warning, "skipped \(error.description)"))
            }
        }
        for line in chunk.lines {
            if keysReported < options.keysWanted {
                keysReported += 1
                poll.keys += line.values.keys
            }
            poll.steps.append(tail.keyMap.makeStep(step: line.step, values: line.values))
        }
        poll.hasMore = chunk.hasMore
        if chunk.position != state.position || state.identity == nil || moved {
            state.position = chunk.position
            state.identity = FileIdentity.refreshed(state.identity, descriptor: descriptor, status: status)
            poll.state = StateJSON.encode(state)
        }
        return poll
    }
}
