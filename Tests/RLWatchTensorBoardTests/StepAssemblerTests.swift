import Testing

@testable import RLWatchTensorBoard

@Suite struct StepAssemblerTests {
    static func scalar(_ step: Int, _ tag: String, _ value: Double, time: Double = 0) -> TensorBoardScalar {
        TensorBoardScalar(step: step, wallTime: time, tag: tag, value: value)
    }

    @Test func stepCompletesWhenTheNextStarts() {
        var assembler = TensorBoardStepAssembler()
        #expect(assembler.add(Self.scalar(1, "train/loss", 1, time: 10)) == nil)
        #expect(assembler.add(Self.scalar(1, "train/kl", 2, time: 11)) == nil)
        #expect(assembler.pendingStep == 1)
        let first = assembler.add(Self.scalar(2, "train/loss", 3, time: 12))
        #expect(first == TensorBoardStep(step: 1, wallTime: 11, values: ["loss": 1, "kl": 2]))
        #expect(assembler.flush() == TensorBoardStep(step: 2, wallTime: 12, values: ["loss": 3]))
        #expect(assembler.flush() == nil)
        #expect(assembler.pendingStep == nil)
    }

    @Test func smallerStepAfterRestartStartsAStep() {
        var assembler = TensorBoardStepAssembler()
        let steps = assembler.add([
            Self.scalar(5, "loss", 1), Self.scalar(6, "loss", 2), Self.scalar(4, "loss", 3), Self.scalar(5, "loss", 4),
        ])
        #expect(steps.map(\.step) == [5, 6, 4])
        #expect(assembler.flush()?.step == 5)
    }

    @Test func repeatedTagKeepsTheLastValueAndNonFiniteValuesPass() {
        var assembler = TensorBoardStepAssembler()
        _ = assembler.add([Self.scalar(1, "train/loss", 1), Self.scalar(1, "train/loss", .nan)])
        _ = assembler.add(Self.scalar(1, "train/grad_norm", .infinity))
        let step = assembler.flush()
        #expect(step?.values["loss"]?.isNaN == true)
        #expect(step?.metricStep().loss?.isNaN == true)
        #expect(step?.metricStep().gradNorm == .infinity)
    }

    @Test func evaluationScalarsDoNotEndAStep() {
        var assembler = TensorBoardStepAssembler()
        _ = assembler.add(Self.scalar(1, "train/loss", 1))
        #expect(assembler.add(Self.scalar(2, "eval/loss", 9)) == nil)
        #expect(assembler.add(Self.scalar(1, "train/kl", 2)) == nil)
        #expect(assembler.flush()?.values == ["loss": 1, "kl": 2])
        #expect(assembler.droppedEvaluationScalars == 1)
    }

    @Test(arguments: [
        ("train/entropy", "entropy"), ("train/rewards/acc/mean", "rewards/acc/mean"),
        ("actor/kl_loss", "actor/kl_loss"),
        ("critic/score/mean", "critic/score/mean"), ("loss", "loss"), ("training/train/x", "training/train/x"),
    ])
    func metricKeys(tag: String, key: String) {
        #expect(TensorBoardTags.metricKey(forTag: tag) == key)
    }

    @Test(arguments: [
        "eval/loss", "train/eval/loss", "test/accuracy", "val-core/gsm8k/reward/mean@1", "val-aux/x", "val/x",
    ])
    func evaluationTags(tag: String) {
        #expect(TensorBoardTags.metricKey(forTag: tag) == nil)
    }
}
