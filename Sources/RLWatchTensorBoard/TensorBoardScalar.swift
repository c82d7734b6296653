/// One scalar of a TensorBoard event file: what `add_scalar(tag, value, step)` wrote.
public struct TensorBoardScalar: Sendable, Hashable {
    /// The global step of the event.
    public var step: Int
    /// When the event was written, in seconds since the Unix epoch.
    public var wallTime: Double
    /// The tag as logged, for example `train/loss` or `actor/entropy`.
    public var tag: String
    /// The value; a 32-bit `simple_value` or tensor is widened exactly. NaN and infinities are kept.
    public var value: Double

    public init(step: Int, wallTime: Double, tag: String, value: Double) {
        self.step = step
        self.wallTime = wallTime
        self.tag = tag
        self.value = value
    }
}
