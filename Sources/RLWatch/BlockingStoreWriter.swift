import Dispatch
import Foundation
import RLWatchStore

/// Stores a ``ReplayRunner``'s batches into a store that only writes asynchronously (PostgreSQL).
///
/// A replay judges steps in a synchronous loop (the readers call back for each step); each batch here waits for
/// its write, so a replay stopped by a bad line has stored everything before it, as with SQLite. Waiting blocks
/// the thread, so the loop must run on a thread of its own, never on one of Swift concurrency's: run it with
/// ``runOnOwnThread(_:)``.
public struct BlockingStoreWriter: Sendable {
    private let store: any Store

    public init(store: any Store) {
        self.store = store
    }

    /// Appends one batch and waits until it is durable.
    ///
    /// - Throws: the store's error.
    public func append(steps: [StoredStep], alerts: [AlertRecord]) throws {
        let done = DispatchSemaphore(value: 0)
        let outcome = Outcome()
        let store = store
        // Awaited below: the calling thread waits for it.
        Task {
            do {
                try await store.append(steps: steps, alerts: alerts)
            } catch {
                outcome.fail(error)
            }
            done.signal()
        }
        done.wait()
        if let error = outcome.error { throw error }
    }

    /// Runs `body` on a new thread, where it may wait for the store, and returns what it returns.
    ///
    /// - Throws: what `body` throws.
    public static func runOnOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread { continuation.resume(with: Result { try body() }) }
            // The readers recurse into nested JSON: the main thread's stack size, not a secondary thread's 512 KiB.
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    /// The error of a write, set by the task and read by the waiting thread.
    private final class Outcome: @unchecked Sendable {
        private let lock = NSLock()
        private var stored: (any Error)?

        var error: (any Error)? { lock.withLock { stored } }

        func fail(_ error: any Error) { lock.withLock { stored = error } }
    }
}
