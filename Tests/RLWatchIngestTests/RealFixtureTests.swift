import Foundation
import RLWatchCore
import RLWatchTesting
import Testing

@testable import RLWatchIngest

/// The real training logs in `Tests/Fixtures/RealRuns/logs` (see `Tests/Fixtures/SOURCES.md`).
enum RealFixture {
    static let trl = TestFixtures.realRun("trl-grpo-entropy-explosion.jsonl").path
    static let veRL = TestFixtures.realRun("verl-grpo-kl-explosion.file-logger.jsonl").path
    static let sparseReward = TestFixtures.realRun("trl-grpo-sparse-reward.trainer_state.json").path

    static func steps(_ path: String) throws -> [MetricStep] {
        var steps: [MetricStep] = []
        try MetricsJSONLReader(path: path).forEachStep { steps.append($0) }
        return steps
    }
}

@Suite struct RealFixtureTests {
    @Test func trlGRPOEntropyExplosion() throws {
        let steps = try RealFixture.steps(RealFixture.trl)
        #expect(steps.map(\.step) == Array(stride(from: 5, through: 200, by: 5)))

        let first = try #require(steps.first)
        #expect(first.entropy == 0.17924876864999534)
        #expect(first.rewardMean == 0.9)
        #expect(first.rewardStd == 0.10690449476242066)
        #expect(first.loss == 0)
        #expect(first.gradNorm == 0)
        #expect(first.learningRate == 4e-05)
        #expect(first.clipFraction == 0)
        #expect(first.klDivergence == nil)  // beta = 0: no KL logged
        #expect(first.extras["completions/clipped_ratio"] == 0.1)
        #expect(first.extras["frac_reward_zero_std"] == 1)
        #expect(first.extras["num_tokens"] == 15145)
        #expect(first.extras["rewards/reward_fn/mean"] == 0.9)
        #expect(first.extras.count == 22)
        #expect(first.extras["reward"] == nil && first.extras["entropy"] == nil)

        let last = try #require(steps.last)
        #expect(last.entropy == 5.036099445819855)
        #expect(last.rewardMean == 0)
        #expect(last.learningRate == 5.263157894736843e-07)
        #expect(last.extras["completions/clipped_ratio"] == 1)

        let step140 = try #require(steps.first { $0.step == 140 })
        #expect(step140.gradNorm == 1.0079418188979616e-08)
        #expect(step140.clipFraction == 0.025111954333260654)
    }

    @Test func veRLKLExplosion() throws {
        let steps = try RealFixture.steps(RealFixture.veRL)
        #expect(steps.count == 71)
        #expect(!steps.contains { $0.step == 10 })  // missing in the source
        #expect(steps.first?.step == 1 && steps.last?.step == 72)

        let step72 = try #require(steps.last)
        #expect(step72.klDivergence == 1.0514156248245854)  // actor/kl_loss, not actor/ppo_kl (0.55)
        #expect(step72.gradNorm == 0.608750443905592)
        #expect(step72.entropy == 0.25)
        #expect(step72.rewardMean == 0.61767578125)
        #expect(step72.loss == 0.06322121724224417)  // actor/pg_loss
        #expect(step72.learningRate == 1e-05)
        #expect(step72.clipFraction == 0.06862738362596181)
        #expect(step72.rewardStd == nil)
        #expect(step72.extras["response_length/clip_ratio"] == 0.3662109375)
        #expect(step72.extras["actor/loss"] == 0.06427262909710407)
        #expect(step72.extras["actor/ppo_kl"] == nil)
        #expect(step72.extras.count == 9)

        let step1 = try #require(steps.first)
        #expect(step1.klDivergence == 0.0003746691218111664)
        #expect(step1.entropy == 0.201171875)
    }

    @Test(arguments: [RealFixture.trl, RealFixture.veRL])
    func rawMapAgreesWithTheParser(path: String) throws {
        var parser = MetricsLineParser()
        var rawParser = MetricsLineParser()
        var lines = 0
        _ = try MetricsJSONLReader(path: path).forEachContentLine { _, line in
            lines += 1
            let fromRaw = try rawParser.parseRaw(line).metricStep()
            let parsed = try parser.parse(line)
            #expect(fromRaw == parsed)
        }
        #expect(lines > 0)
    }
}
