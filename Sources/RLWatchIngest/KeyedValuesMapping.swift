extension FrameworkKeyMap {
    /// Whether the keys logged for one step make a training log, as opposed to the Hugging Face
    /// end-of-training summary (`train_runtime`, `train_loss`, `total_flos`, …) or an evaluation
    /// (`eval_*`, `test_*`): the rule ``TrainerStateReader`` applies to `log_history` entries, for
    /// readers of other formats (TensorBoard) that see the same keys.
    ///
    /// - Parameter keys: The keys logged for the step.
    /// - Returns: True when at least one key is neither a summary key nor an evaluation key.
    public static func isTrainingLog(keys: some Sequence<String>) -> Bool {
        keys.contains { key in
            !TrainerStateReader.nonTrainingKeys.contains(key) && !key.hasPrefix("eval_") && !key.hasPrefix("test_")
        }
    }
}
