import RLWatchIngest

/// Groups the scalars of an event file, in file order, into steps.
///
/// Writers emit a step's scalars one event at a time (TRL and OpenRLHF one `add_scalar` per key, all
/// together; veRL likewise), so a step is complete only when the next one starts: a scalar with another
/// step number completes the step being gathered. That is a larger number in a normal run; a smaller
/// one means the trainer resumed from a checkpoint and logs those steps again, and they are emitted
/// again (in the order they come). At the end of the data, or when the writer has been quiet for a
/// while, ``flush()`` completes the last step: a later scalar of that same step then starts a new
/// step with the same number (the detectors see it as a repeat).
///
/// Evaluation tags are dropped (``TensorBoardTags``) and do not end a step. A step whose only keys
/// are those of the Hugging Face end-of-training summary (`train_runtime`, `train_loss`, …) is dropped
/// too, as ``TrainerStateReader`` drops that entry. Non-finite values are kept.
public struct TensorBoardStepAssembler: Sendable {
    private enum State: Sendable {
        /// No scalar since the last completed step.
        case idle
        /// Gathering the scalars of `step`.
        case gathering(TensorBoardStep)
    }

    /// What a tag stands for, as ``TensorBoardTags/metricKey(forTag:)`` says.
    private enum Key: Sendable {
        case metric(String)
        case evaluation
    }

    private var state = State.idle
    /// The keys of the tags seen, so that a tag's prefixes are checked once, not once per scalar.
    private var keys: [String: Key] = [:]
    /// The number of keys of the last completed step.
    private var lastStepSize = 1
    /// A log with ever-new tags stops being cached beyond this many.
    private static let keyCacheLimit = 4096
    /// How many evaluation scalars were dropped so far.
    public private(set) var droppedEvaluationScalars = 0
    /// How many completed steps were dropped as not training logs (end-of-training summaries).
    public private(set) var droppedSummarySteps = 0

    public init() {}

    /// The number of the step being gathered, if any.
    public var pendingStep: Int? {
        if case .gathering(let step) = state { return step.step }
        return nil
    }

    /// Adds one scalar.
    ///
    /// - Returns: The step this scalar completed (the previous one), if any.
    public mutating func add(_ scalar: TensorBoardScalar) -> TensorBoardStep? {
        guard case .metric(let key) = key(forTag: scalar.tag) else {
            droppedEvaluationScalars += 1
            return nil
        }
        switch state {
        case .gathering(var current) where current.step == scalar.step:
            // Avoid a copy of the dictionary while it is both in `state` and in `current`.
            state = .idle
            current.values[key] = scalar.value
            current.wallTime = max(current.wallTime, scalar.wallTime)
            state = .gathering(current)
            return nil
        case .gathering(let finished):
            state = .gathering(start(scalar, key: key))
            return complete(finished)
        case .idle:
            state = .gathering(start(scalar, key: key))
            return nil
        }
    }

    /// Adds scalars in order.
    ///
    /// - Returns: The steps they completed, in order.
    public mutating func add(_ scalars: some Sequence<TensorBoardScalar>) -> [TensorBoardStep] {
        var completed: [TensorBoardStep] = []
        for scalar in scalars {
            if let step = add(scalar) { completed.append(step) }
        }
        return completed
    }

    /// Completes the step being gathered: at the end of the data, or after the writer went quiet.
    ///
    /// - Returns: That step, if there was one (and it is a training step).
    public mutating func flush() -> TensorBoardStep? {
        guard case .gathering(let finished) = state else { return nil }
        state = .idle
        return complete(finished)
    }

    private mutating func key(forTag tag: String) -> Key {
        if let known = keys[tag] { return known }
        let key = TensorBoardTags.metricKey(forTag: tag).map(Key.metric) ?? .evaluation
        if keys.count < Self.keyCacheLimit { keys[tag] = key }
        return key
    }

    private func start(_ scalar: TensorBoardScalar, key: String) -> TensorBoardStep {
        // Room for as many keys as the last step had: growing a dictionary one rehash at a time costs
        // more than the inserts.
        var values = [String: Double](minimumCapacity: lastStepSize)
        values[key] = scalar.value
        return TensorBoardStep(step: scalar.step, wallTime: scalar.wallTime, values: values)
    }

    private mutating func complete(_ step: TensorBoardStep) -> TensorBoardStep? {
        lastStepSize = step.values.count
        guard FrameworkKeyMap.isTrainingLog(keys: step.values.keys) else {
            droppedSummarySteps += 1
            return nil
        }
        return step
    }
}
