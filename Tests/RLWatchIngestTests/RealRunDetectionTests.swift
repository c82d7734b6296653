import Foundation
import RLWatchCore
import RLWatchIngest
import Testing

/// The real GRPO logs in `Tests/Fixtures/RealRuns/logs`, read the way `rlwatch replay` reads them and judged with
/// the default configuration: what the detectors that rlwatch 0.5.1 does not have (entropy explosion,
/// dead learning signal, length truncation) make of real runs.
/// Serialized: each case replays a real log (CPU-bound for seconds); run in parallel they would occupy every thread
/// of the 2-core test pool at once and starve tests that wait on something.
@Suite(.serialized) struct RealRunDetectionTests {
    static let sparseReward = RealFixture.sparseReward
    static let added: Set<DetectorID> = [.entropyExplosion, .learningSignalDead, .lengthTruncation]

    /// The steps of a TRL `trainer_state.json`: each `log_history` entry's numeric keys, mapped like a
    /// metrics JSONL line (entries without a step, or without metrics, are skipped).
    static func trainerStateSteps(_ path: String) throws -> [MetricStep] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let history = try #require(root["log_history"] as? [[String: Any]])
        return history.compactMap { entry in
            guard let step = (entry["step"] as? NSNumber)?.intValue else { return nil }
            var values: [String: Double] = [:]
            for (key, value) in entry where key != "step" {
                // log_history holds numbers only (no booleans); a Bool check on an NSNumber would drop 0 and 1.
                if let number = value as? NSNumber { values[key] = number.doubleValue }
            }
            return values.isEmpty ? nil : FrameworkKeyMap.makeStep(step: step, values: values)
        }
    }

    /// Every delivered alert of a default-configured replay.
    static func replay(_ steps: [MetricStep]) -> [Alert] {
        let analyzer = RunAnalyzer(config: RLWatchConfig())
        return steps.flatMap { analyzer.process($0).delivered }
    }

    static func summary(_ alerts: [Alert]) -> [String] {
        alerts.map { "\($0.step):\($0.detector):\($0.severity)" }
    }

    @Test func trlEntropyExplosionIsCaughtAfterStep135AndNothingFiresBeforeStep40() throws {
        let alerts = Self.replay(try RealFixture.steps(RealFixture.trl))
        #expect(!alerts.contains { $0.step < 40 }, "\(Self.summary(alerts))")

        let explosion = alerts.filter { $0.detector == .entropyExplosion }
        let first = try #require(explosion.first, "\(Self.summary(alerts))")
        #expect((135...175).contains(first.step), "\(Self.summary(explosion))")
        // Baseline 0.18 (median of steps 5–50, the transient at 40–50 included); 145–155 are above 4×,
        // 155–165 above 10×.
        #expect(Self.summary(explosion) == ["155:entropy_explosion:warning", "165:entropy_explosion:critical"])
        #expect(first.metricValues["baseline_entropy"]?.doubleValue.map { abs($0 - 0.1805) < 1e-3 } == true)
        #expect(first.metricValues["clipped_ratio"] == .double(0.9))
        #expect(first.metricValues["mean_completion_length"] == .double(481.175))

        // Clipped ratio 0.53 (145), 0.95 (150), 0.9 (155), 1.0 (160): the collapse, not the 2-row transient at 40–45.
        let truncation = alerts.filter { $0.detector == .lengthTruncation }
        #expect(Self.summary(truncation) == ["155:length_truncation:warning", "160:length_truncation:critical"])
        #expect(truncation.last?.metricValues["mean_completion_length"] == .double(512))

        // frac_reward_zero_std is ≥ 0.95 on 150–165, 175–185 and 195–200 (170 and 190 are isolated 0.9s); on
        // healthy rows only at 5 and 95. Changed expectation (issue 8 item 6): `consecutive_steps: 10` now counts
        // training steps, and this run logs every 5, so 150 + 155 make the 10 steps of a dead stretch (0.5.1-style
        // row counting needed 10 rows = 50 steps). The run's description lists frac_reward_zero_std 1.0 and
        // grad_norm exactly 0 as part of its collapse: this alert is right.
        let dead = alerts.filter { $0.detector == .learningSignalDead }
        #expect(Self.summary(dead) == ["155:learning_signal_dead:warning", "180:learning_signal_dead:critical"])
    }

    @Test func trlSparseRewardRaisesTheDeadSignalAlert() throws {
        let steps = try Self.trainerStateSteps(Self.sparseReward)
        #expect(steps.map(\.step) == Array(1...100))
        #expect(steps[2].fracRewardZeroStd == 1 && steps[0].fracRewardZeroStd == 0.75)
        #expect(steps[2].clippedRatio == 0 && steps[2].meanCompletionLength == 71.6875)

        let alerts = Self.replay(steps).filter { Self.added.contains($0.detector) }
        // Dead on steps 12–14 and 16–21 (15 is one isolated live step), the tenth dead observation at 23;
        // the thirtieth at 45 (22, 37 and 39 are isolated live steps).
        #expect(Self.summary(alerts) == ["23:learning_signal_dead:warning", "45:learning_signal_dead:critical"])
        let warning = try #require(alerts.first)
        #expect(warning.metricValues["since_step"] == .int(12))
        #expect(warning.metricValues["signal"] == .string("frac_reward_zero_std"))
        #expect(warning.message.contains("frac_reward_zero_std"))
        #expect(warning.recommendation.contains("temperature"))
    }

    @Test func veRLKLExplosionRaisesNoneOfTheAddedDetectors() throws {
        // Entropy 0.2 → 0.07 → 0.37 stays under 2× its baseline; the clip ratio peaks at 37 %; no
        // frac_reward_zero_std or reward std is logged.
        let alerts = Self.replay(try RealFixture.steps(RealFixture.veRL))
        #expect(!alerts.contains { Self.added.contains($0.detector) }, "\(Self.summary(alerts))")
    }
}

/// The issue-8 outcomes end to end, all detectors, default configuration: the replay `rlwatch replay` does.
@Suite struct RealRunOutcomeTests {
    static func replay(_ path: String) throws -> [Alert] {
        RealRunDetectionTests.replay(try RealFixture.steps(path))
    }

    @Test func trlExplosionRunAlertsBetween135And175AndNothingBefore40() throws {
        let alerts = try Self.replay(RealFixture.trl)
        #expect(!alerts.contains { $0.step < 40 }, "\(RealRunDetectionTests.summary(alerts))")
        #expect(alerts.contains { (135...175).contains($0.step) }, "\(RealRunDetectionTests.summary(alerts))")
        // Entropy 0.05–0.2 for most of the run (0.26× its baseline at worst, on two rows): not a collapse.
        #expect(!alerts.contains { $0.detector == .entropyCollapse }, "\(RealRunDetectionTests.summary(alerts))")
    }

    @Test func veRLRunRaisesKLOrGradNormBetween63And72AndNothingBefore55() throws {
        let alerts = try Self.replay(RealFixture.veRL)
        #expect(!alerts.contains { $0.step < 55 }, "\(RealRunDetectionTests.summary(alerts))")
        #expect(
            alerts.contains {
                ($0.detector == .klExplosion || $0.detector == .gradientNormSpike) && (63...72).contains($0.step)
            }, "\(RealRunDetectionTests.summary(alerts))")
        // Entropy drifts 0.20 → 0.066 (0.33× its baseline, above the 0.3× floor): 0.5.1's `threshold: 1.0`
        // called this collapsed at step 45.
        #expect(!alerts.contains { $0.detector == .entropyCollapse }, "\(RealRunDetectionTests.summary(alerts))")
    }

    @Test func sparseRewardRunRaisesTheDeadSignalAlertAndNoEntropyCollapse() throws {
        let alerts = RealRunDetectionTests.replay(
            try RealRunDetectionTests.trainerStateSteps(RealRunDetectionTests.sparseReward))
        // Entropy flat at 0.07–0.09 from step 1: low for any absolute floor, healthy for this model.
        #expect(!alerts.contains { $0.detector == .entropyCollapse }, "\(RealRunDetectionTests.summary(alerts))")
        #expect(alerts.contains { $0.detector == .learningSignalDead }, "\(RealRunDetectionTests.summary(alerts))")
    }

    @Test func anExplicitAbsoluteThresholdKeepsRLWatch051sRule() throws {
        // A 0.5.1 rlwatch.yaml that sets `threshold: 1.0` gets 0.5.1's verdict back on the same run.
        var config = try RLWatchConfig.parse(yaml: "entropy_collapse:\n  threshold: 1.0\n").config
        config.alerts.maxAlertsPerRun = 1000
        let analyzer = RunAnalyzer(config: config)
        let alerts = try RealFixture.steps(RealFixture.veRL).flatMap { analyzer.process($0).delivered }
        #expect(alerts.contains { $0.detector == .entropyCollapse && $0.step < 55 })
    }
}
