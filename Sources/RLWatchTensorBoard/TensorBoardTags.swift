/// How TensorBoard tags become the metric keys ``FrameworkKeyMap`` knows.
///
/// The Hugging Face `Trainer` (and so TRL) and OpenRLHF prefix training scalars with `train/`
/// (`train/loss`, `train/kl`, `train/rewards/accuracy/mean`); without the prefix they are the keys
/// those frameworks log to JSONL and `trainer_state.json`. veRL writes its keys as they are
/// (`actor/entropy`, `critic/score/mean`), which are already the keys the map lists.
///
/// Evaluation and validation scalars are not training metrics: the Hugging Face `Trainer` writes them
/// as `eval/…` (and `test/…` for predictions), OpenRLHF as `eval/…`, veRL as `val-core/…` and
/// `val-aux/…`. They share step numbers with training scalars, and detectors comparing a step with the
/// previous ones would mix the two, so they are left out of steps entirely, as ``TrainerStateReader``
/// leaves out `eval_*` entries. Their count is reported by ``TensorBoardStepAssembler``.
public enum TensorBoardTags {
    /// The prefix of training scalars that is removed.
    public static let trainingPrefix = "train/"

    /// The prefixes of evaluation and validation tags (checked after removing ``trainingPrefix``).
    public static let evaluationPrefixes = ["eval/", "test/", "val/", "val-core/", "val-aux/", "validation/"]

    /// The metric key a tag stands for, or nil for an evaluation tag.
    ///
    /// `train/entropy` → `entropy`, `actor/kl_loss` → `actor/kl_loss`, `eval/loss` → nil.
    public static func metricKey(forTag tag: String) -> String? {
        let key = tag.hasPrefix(trainingPrefix) ? String(tag.dropFirst(trainingPrefix.count)) : tag
        for prefix in evaluationPrefixes where key.hasPrefix(prefix) { return nil }
        return key
    }
}
