import Synchronization

/// Wakes an idle alert dispatcher as soon as an outbox entry is queued in this process.
///
/// The dispatcher otherwise looks for new entries every `pollInterval` (500 ms), which an alert then waits for on
/// average half of. A store rings its doorbell after committing an append that queued deliveries; the dispatcher
/// waiting on it wakes at once. Entries queued by another process on the same database are still found by the
/// poll. One waiter at a time (one dispatcher per store); a ring with no waiter is kept for the next wait.
public final class OutboxDoorbell: Sendable {
    private struct Waiter {
        var id: UInt64
        var continuation: CheckedContinuation<Void, Never>
        var timer: Task<Void, Never>?
    }

    private struct State {
        var rung = false
        var waiter: Waiter?
        var nextID: UInt64 = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// Wakes the waiter, or the next wait when none is waiting.
    public func ring() {
        let waiter: Waiter? = state.withLock { state in
            guard let waiter = state.waiter else {
                state.rung = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.timer?.cancel()
        waiter?.continuation.resume()
    }

    /// Returns when the bell rings (or rang since the last wait), after `timeout`, or when the task is cancelled.
    public func wait(upTo timeout: Duration) async {
        let id = state.withLock { state in
            state.nextID &+= 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let alreadyRung = state.withLock { state in
                    if state.rung {
                        state.rung = false
                        return true
                    }
                    state.waiter = Waiter(id: id, continuation: continuation, timer: nil)
                    return false
                }
                if alreadyRung {
                    continuation.resume()
                    return
                }
                let timer = Task { [self] in
                    try? await Task.sleep(for: timeout)
                    if !Task.isCancelled { release(id) }
                }
                let stillWaiting = state.withLock { state in
                    guard state.waiter?.id == id else { return false }
                    state.waiter?.timer = timer
                    return true
                }
                if !stillWaiting { timer.cancel() }
            }
        } onCancel: {
            release(id)
        }
    }

    /// Resumes the waiter `id` if it is still waiting.
    private func release(_ id: UInt64) {
        let waiter: Waiter? = state.withLock { state in
            guard let waiter = state.waiter, waiter.id == id else { return nil }
            state.waiter = nil
            return waiter
        }
        waiter?.timer?.cancel()
        waiter?.continuation.resume()
    }
}
