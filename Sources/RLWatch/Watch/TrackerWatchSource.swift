import Foundation
import RLWatchCore
import RLWatchIngest
import RLWatchTensorBoard
import RLWatchTrackers

/// An experiment tracker's local log — W&B, MLflow, Trackio (a ``TrackerLog``) — as a ``WatchSource``.
///
/// Rows become steps as TensorBoard scalars do (``TensorBoardStepAssembler``): the keys TRL and veRL log to a
/// tracker are the tags they write to TensorBoard (`train/kl`, `actor/entropy`), evaluation keys are left out,
/// and rows of one step are merged. A tracker whose rows are whole steps (W&B) hands each on at once; otherwise the
/// last step waits for the next one, the run's end, a finished log or a stopping watch. The run's end, as the
/// tracker recorded it, is said once: finished (``WatchPoll/ended``) or crashed (``WatchPoll/crashed``).
final class TrackerWatchSource: WatchSource {
    struct State: Codable, Hashable {
        var log: String
        var pending: PendingStep?
        var endReported = false
    }

    struct PendingStep: Codable, Hashable {
        var step: Int
        var wallTime: Double
        var values: [String: Double]
    }

    let id: String
    private let log: any TrackerLog
    private let keyMap: MetricKeyMap
    private var assembler = TensorBoardStepAssembler()
    private var endReported = false
    private var lastState: String?
    private var keysReported = 0

    init(path: String, log: any TrackerLog, keyMap: MetricKeyMap) {
        id = path
        self.log = log
        self.keyMap = keyMap
    }

    func resume(from state: String) throws {
        let saved = try StateJSON.decode(State.self, from: state)
        try log.resume(from: saved.log)
        endReported = saved.endReported
        assembler = TensorBoardStepAssembler()
        if let pending = saved.pending {
            for (key, value) in pending.values.sorted(by: { $0.key < $1.key }) {
                _ = assembler.add(TensorBoardScalar(step: pending.step, wallTime: pending.wallTime, tag: key, value: value))
            }
        }
        lastState = state
    }

    func poll(_ options: WatchPollOptions) throws -> WatchPoll {
        var poll = WatchPoll()
        let read: TrackerRead
        do {
            read = try log.read(limit: options.limit, final: options.final, strict: options.strict)
        } catch {
            throw WatchError.cannotWatch(error.path, error.message)
        }
        var completed: [TensorBoardStep] = []
        if read.switched, let last = assembler.flush() { completed.append(last) }
        poll.notes += read.infos.map { WatchNote(.info, $0) }
        poll.notes += read.warnings.map { WatchNote(.warning, $0) }
        if let failure = read.failure { poll.failure = .badInput(failure) }
        for row in read.rows {
            for (key, value) in row.values {
                if let step = assembler.add(TensorBoardScalar(step: row.step, wallTime: row.wallTime, tag: key, value: value)) {
                    completed.append(step)
                }
            }
            if read.rowsAreSteps, let step = assembler.flush() { completed.append(step) }
        }
        let ending = read.end != nil && !endReported
        if ending || options.final && !read.hasMore || options.stopping, let last = assembler.flush() {
            completed.append(last)
        }
        if let end = read.end, !endReported {
            endReported = true
            switch end {
            case .finished(let what): poll.ended = what
            case .crashed(let exitCode?, let what): poll.crashed = CrashReport(exceptionType: "", message: what, exitCode: exitCode)
            case .crashed(nil, let what): poll.crashed = CrashReport(exceptionType: what, message: "")
            }
        }
        for step in completed {
            if keysReported < options.keysWanted {
                keysReported += 1
                poll.keys += step.values.keys
            }
            poll.steps.append(keyMap.makeStep(step: step.step, values: step.values))
        }
        poll.hasMore = read.hasMore && poll.failure == nil
        var copy = assembler
        let pending = copy.flush().map { PendingStep(step: $0.step, wallTime: $0.wallTime, values: $0.values) }
        let state = StateJSON.encode(State(log: log.position, pending: pending, endReported: endReported))
        if state != lastState {
            lastState = state
            poll.state = state
        }
        return poll
    }
}
