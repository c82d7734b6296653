import Synchronization

/// Tells a following ``Watcher`` to stop: set from a signal handler (SIGINT, SIGTERM) or a test.
///
/// A flag rather than task cancellation, because the store refuses to write from a cancelled task: a watch
/// told to stop still stores the batch it is reading and marks the run finished.
public final class WatchStopSignal: Sendable {
    private let stopped = Atomic<Bool>(false)

    public init() {}

    /// Asks the watch to stop after the batch it is on.
    public func stop() {
        stopped.store(true, ordering: .releasing)
    }

    public var isStopped: Bool {
        stopped.load(ordering: .acquiring)
    }

    /// Waits `duration` on `clock`, or less once ``stop()`` is called (checked every `slice`).
    public func pause<C: Clock>(for duration: Duration, on clock: C, slice: Duration = .milliseconds(50)) async
    where C.Duration == Duration {
        var left = duration
        while left > .zero, !isStopped, !Task.isCancelled {
            let step = min(left, slice)
            do {
                try await clock.sleep(for: step)
            } catch {
                return
            }
            left -= step
        }
    }
}
