import RLWatchCore
import RLWatchIngest
import Testing

/// Which logged KL feeds `kl_divergence`: the KL to the reference policy (`actor/kl_loss`, `kl`) wins over
/// the old-vs-new policy KL of one update (`actor/ppo_kl`), which is used only when no reference KL is logged.
@Suite struct KLSourceTests {
    static func parse(_ line: String) throws -> (step: MetricStep, sources: String) {
        var parser = MetricsLineParser()
        let step = try parser.parse(line)
        let raw = try parser.parseRaw(line)
        #expect(raw.metricStep() == step)
        return (step, FrameworkKeyMap.describeSources(forKeys: raw.values.keys))
    }

    @Test(arguments: [
        #"{"step":1,"data":{"actor/kl_loss":0.02,"actor/ppo_kl":0.0005}}"#,
        #"{"step":1,"data":{"actor/ppo_kl":0.0005,"actor/kl_loss":0.02}}"#,
    ])
    func referenceKLWinsInEitherOrder(line: String) throws {
        let (step, sources) = try Self.parse(line)
        #expect(step.klDivergence == 0.02)
        #expect(sources == "kl_divergence ← actor/kl_loss")
    }

    @Test func policyUpdateKLIsTheFallback() throws {
        let (step, sources) = try Self.parse(#"{"step":1,"data":{"actor/ppo_kl":0.0005,"actor/entropy":0.2}}"#)
        #expect(step.klDivergence == 0.0005)
        #expect(
            sources == "entropy ← actor/entropy, kl_divergence ← actor/ppo_kl (old-vs-new policy KL: no reference KL logged)")
    }

    @Test func everyReferenceKLAliasOutranksEveryPolicyUpdateAlias() throws {
        let kl = try #require(FrameworkKeyMap.aliases.first { $0.metric == .klDivergence })
        let keys = kl.keys.map(\.key)
        let firstPolicyUpdate = try #require(keys.firstIndex { FrameworkKeyMap.policyUpdateKLKeys.contains($0) })
        for reference in ["kl_divergence", "kl", "actor/kl_loss", "actor/reward_kl_penalty", "objective/kl"] {
            #expect(try #require(keys.firstIndex(of: reference)) < firstPolicyUpdate, "\(reference)")
        }
    }

    @Test func sourcesFollowTheAliasPriority() {
        let sources = FrameworkKeyMap.sources(forKeys: ["actor/pg_loss", "loss", "critic/score/mean", "other"])
        #expect(sources.map(\.metric) == [.rewardMean, .loss])
        #expect(sources.map(\.key) == ["critic/score/mean", "loss"])
        #expect(FrameworkKeyMap.describeSources(forKeys: ["other"]) == "no key maps to an rlwatch metric")
    }

    @Test func realVeRLFixtureUsesTheReferenceKL() throws {
        var sources = ""
        try MetricsJSONLReader(path: RealFixture.veRL).forEachStep(
            firstLine: { sources = FrameworkKeyMap.describeSources(forKeys: $0.values.keys) }, { _ in })
        #expect(sources.contains("kl_divergence ← actor/kl_loss"), "\(sources)")
    }
}
