/// The last `capacity` values of a stream, oldest first, without statistics: the reward-sample buffer.
///
/// Cheaper than a window with running statistics on the per-sample path (256 rewards a step): no running sums, no modulo.
public struct SampleRing: Sendable {
    public let capacity: Int
    private var storage: [Double] = []
    private var head = 0

    public init(capacity: Int) {
        self.capacity = max(1, capacity)
        storage.reserveCapacity(self.capacity)
    }

    public var count: Int { storage.count }

    /// Appends the finite elements of `values`, evicting the oldest beyond `capacity`; returns how many were added.
    @discardableResult
    public mutating func appendFinite(_ values: [Double]) -> Int {
        var added = 0
        for value in values where value.isFinite {
            added += 1
            if storage.count < capacity {
                storage.append(value)
            } else {
                storage[head] = value
                head += 1
                if head == capacity { head = 0 }
            }
        }
        return added
    }

    /// Replaces `buffer`'s contents with the ring's values (order is not kept: callers sort).
    public func copy(into buffer: inout [Double]) {
        buffer.removeAll(keepingCapacity: true)
        buffer.append(contentsOf: storage)
    }
}
