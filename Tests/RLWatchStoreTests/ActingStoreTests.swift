import Foundation
import RLWatch
import RLWatchCore
import RLWatchStore
import Testing

/// Checkpoints the trainer saved, alerts naming where to resume, and actions taken: in every store.
@Suite("Checkpoints, resume_from and actions in the stores")
struct ActingStoreTests {
    @Test(arguments: StoreKind.allCases)
    func checkpointsAreKeptOncePerPathAndListedByStep(kind: StoreKind) async throws {
        try await kind.withStore { store in
            let checkpoints = store
            try await store.registerRun(RunRecord(runID: "r", framework: "trl", startedAt: 1, configJSON: "{}"))
            #expect(try await checkpoints.recordTrainingCheckpoint(TrainingCheckpoint(step: 200, path: "/o/checkpoint-200", savedAt: 2), runID: "r"))
            #expect(try await checkpoints.recordTrainingCheckpoint(TrainingCheckpoint(step: 100, path: "/o/checkpoint-100", savedAt: 1), runID: "r"))
            // Reported again (a retry, a restarted watch): kept once, with its first time.
            #expect(try await !checkpoints.recordTrainingCheckpoint(TrainingCheckpoint(step: 100, path: "/o/checkpoint-100", savedAt: 9), runID: "r"))
            #expect(try await checkpoints.trainingCheckpoints(runID: "r") == [
                TrainingCheckpoint(step: 100, path: "/o/checkpoint-100", savedAt: 1),
                TrainingCheckpoint(step: 200, path: "/o/checkpoint-200", savedAt: 2),
            ])
            #expect(try await checkpoints.trainingCheckpoints(runID: "other").isEmpty)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func actionsAreRecordedInOrder(kind: StoreKind) async throws {
        try await kind.withStore { store in
            let actions = store
            let first = AlertActionRecord(
                runID: "r", time: 10, action: "command", actor: "server", step: 219, detector: "loss_nan",
                severity: "critical", reason: "actions.command", result: "exit 3", output: "no such job\n")
            let second = AlertActionRecord(
                runID: "r", time: 11, action: "stop", actor: "client", step: 219, detector: "loss_nan",
                severity: "critical", reason: "actions.on_critical: stop", result: "done")
            try await actions.recordAlertAction(first)
            try await actions.recordAlertAction(second)
            let stored = try await actions.alertActions(runID: "r")
            #expect(stored.count == 2)
            #expect(stored.allSatisfy { $0.id != nil })
            var withoutIDs = stored
            for index in withoutIDs.indices { withoutIDs[index].id = nil }
            #expect(withoutIDs == [first, second])
            #expect(try await actions.alertActions(runID: "other").isEmpty)
        }
    }

    /// A run whose entropy collapses at step 30: the critical (and its warning) name the checkpoint saved before the
    /// trouble's onset (step 20), not the one saved after it began (step 34).
    @Test(arguments: StoreKind.allCases)
    func alertsNameTheNewestCheckpointBeforeTheTroubleBegan(kind: StoreKind) async throws {
        try await kind.withStore { store in
            var config = RLWatchConfig()
            config.entropyCollapse.consecutiveSteps = 10
            config.entropyCollapse.warmupSteps = 5
            config.entropyCollapse.baselineWindow = 5
            let monitor = try await Monitor(config: config, runID: "collapse", store: store)
            func step(_ number: Int) -> MetricStep {
                var step = MetricStep(step: number)
                step[.entropy] = number >= 30 ? 0.5 : 2.0 + 0.01 * Double(number % 3)
                step[.loss] = 0.3
                return step
            }
            var outcomes = try await monitor.log(batch: (1...10).map(step))
            #expect(try await monitor.recordCheckpoint(step: 10, path: "/o/checkpoint-10"))
            outcomes += try await monitor.log(batch: (11...20).map(step))
            #expect(try await monitor.recordCheckpoint(step: 20, path: "/o/checkpoint-20"))
            outcomes += try await monitor.log(batch: (21...34).map(step))
            #expect(try await monitor.recordCheckpoint(step: 34, path: "/o/checkpoint-34"))
            for number in 35...45 { outcomes += try await monitor.log(batch: [step(number)]) }

            let stored = try await store.alerts(runID: "collapse").filter { $0.alert.detector == .entropyCollapse }
            let critical = try #require(stored.first { $0.alert.severity == .critical }, "\(stored)")
            #expect(critical.alert.step == 39)
            #expect(critical.alert.onsetStep == 30)
            #expect(critical.alert.resumeFrom?.path == "/o/checkpoint-20")
            #expect(critical.alert.resumeFrom?.step == 20)
            #expect(critical.alert.resumeAdvice == "resume from checkpoint-20 (step 20)")
            // The answer a client gets carries it too.
            #expect(outcomes.contains { $0.alert.severity == .critical && $0.alert.resumeFrom?.step == 20 })

            let diagnosis = try #require(try await Diagnosis.load(from: store, runID: "collapse"))
            #expect(diagnosis.resumeFrom?.path == "/o/checkpoint-20")
            #expect(diagnosis.checkpoints.map(\.step) == [10, 20, 34])
        }
    }

    @Test func checkpointFolderNamesGiveTheirStep() {
        #expect(TrainingCheckpoint.step(ofFolderNamed: "checkpoint-1200") == 1200)
        #expect(TrainingCheckpoint.step(ofFolderNamed: "global_step_40") == 40)
        #expect(TrainingCheckpoint.step(ofFolderNamed: "global_step40") == 40)
        #expect(TrainingCheckpoint.step(ofFolderNamed: "checkpoint-") == nil)
        #expect(TrainingCheckpoint.step(ofFolderNamed: "checkpoint-12a") == nil)
        #expect(TrainingCheckpoint.step(ofFolderNamed: "runs") == nil)
    }
}
