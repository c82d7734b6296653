import Synchronization

/// A first-come, first-served lock for async code: `run` executes its body with no other body of the same lock
/// running, even when the body suspends (an actor would let a second call in at each `await`).
///
/// The server takes one per run, so that a run's batches are judged and stored in the order they arrived and a
/// batch's rows are never interleaved with another's.
final class AsyncSerialLock: Sendable {
    private struct State {
        var locked = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    init() {}

    func run<T: Sendable>(_ body: () async throws -> T) async rethrows -> T {
        await acquire()
        defer { release() }
        return try await body()
    }

    private func acquire() async {
        let acquired = state.withLock { state -> Bool in
            if state.locked { return false }
            state.locked = true
            return true
        }
        if acquired { return }
        await withCheckedContinuation { continuation in
            let granted = state.withLock { state -> Bool in
                // Released between the check above and now: take it directly.
                if !state.locked {
                    state.locked = true
                    return true
                }
                state.waiters.append(continuation)
                return false
            }
            if granted { continuation.resume() }
        }
    }

    private func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.waiters.isEmpty {
                state.locked = false
                return nil
            }
            // Ownership passes straight to the first waiter; `locked` stays true.
            return state.waiters.removeFirst()
        }
        next?.resume()
    }
}
