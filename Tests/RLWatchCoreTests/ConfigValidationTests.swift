import RLWatchCore
import Testing

/// Every problem `RLWatchConfig.parse` reports, each with its file, line and column.
@Suite struct ConfigValidationTests {
    /// The description of every issue, or [] when the YAML is valid.
    static func errors(_ yaml: String, file: String = "rlwatch.yaml") -> [String] {
        do {
            _ = try RLWatchConfig.parse(yaml: yaml, file: file)
            return []
        } catch {
            return error.issues.map(\.description)
        }
    }

    static let outOfRange: [(yaml: String, message: String)] = [
        (
            "entropy_collapse:\n  warmup_steps: -1",
            "rlwatch.yaml:2:3: entropy_collapse.warmup_steps must be >= 0 (got -1)"
        ),
        (
            "entropy_collapse:\n  consecutive_steps: -5",
            "rlwatch.yaml:2:3: entropy_collapse.consecutive_steps must be >= 0 (got -5)"
        ),
        (
            "entropy_collapse:\n  threshold: -0.5",
            "rlwatch.yaml:2:3: entropy_collapse.threshold must be >= 0 (got -0.5)"
        ),
        (
            "entropy_collapse:\n  threshold: .nan",
            "rlwatch.yaml:2:3: entropy_collapse.threshold must be a finite number (got .nan)"
        ),
        (
            "kl_explosion:\n  sigma_multiplier: -1",
            "rlwatch.yaml:2:3: kl_explosion.sigma_multiplier must be > 0 (got -1)"
        ),
        (
            "kl_explosion:\n  sigma_multiplier: 0",
            "rlwatch.yaml:2:3: kl_explosion.sigma_multiplier must be > 0 (got 0)"
        ),
        (
            "kl_explosion:\n  sigma_multiplier: .inf",
            "rlwatch.yaml:2:3: kl_explosion.sigma_multiplier must be a finite number (got .inf)"
        ),
        (
            "kl_explosion:\n  clip_region: -0.2",
            "rlwatch.yaml:2:3: kl_explosion.clip_region must be >= 0 (got -0.2)"
        ),
        (
            "kl_explosion:\n  rolling_window: 1",
            "rlwatch.yaml:2:3: kl_explosion.rolling_window must be >= 2 (got 1)"
        ),
        // Windows are kept in memory for every run: a huge one must be refused, not allocated (issue 20).
        (
            "kl_explosion:\n  rolling_window: 4000000000",
            "rlwatch.yaml:2:3: kl_explosion.rolling_window must be <= 100000 (a window is kept in memory for every run) (got 4000000000)"
        ),
        (
            "advantage_variance:\n  rolling_window: 100001",
            "rlwatch.yaml:2:3: advantage_variance.rolling_window must be <= 100000 (a window is kept in memory for every run) (got 100001)"
        ),
        (
            "gradient_norm_spike:\n  rolling_window: 9223372036854775807",
            "rlwatch.yaml:2:3: gradient_norm_spike.rolling_window must be <= 100000 (a window is kept in memory for every run) (got 9223372036854775807)"
        ),
        (
            "reward_hacking:\n  baseline_window: 4000000000",
            "rlwatch.yaml:2:3: reward_hacking.baseline_window must be <= 100000 (a window is kept in memory for every run) (got 4000000000)"
        ),
        (
            "entropy_collapse:\n  baseline_window: 4000000000",
            "rlwatch.yaml:2:3: entropy_collapse.baseline_window must be <= 100000 (a window is kept in memory for every run) (got 4000000000)"
        ),
        (
            "entropy_explosion:\n  baseline_window: 4000000000",
            "rlwatch.yaml:2:3: entropy_explosion.baseline_window must be <= 100000 (a window is kept in memory for every run) (got 4000000000)"
        ),
        (
            "kl_explosion:\n  warmup_steps: -20",
            "rlwatch.yaml:2:3: kl_explosion.warmup_steps must be >= 0 (got -20)"
        ),
        (
            "kl_explosion:\n  min_relative_increase: -1",
            "rlwatch.yaml:2:3: kl_explosion.min_relative_increase must be >= 0 (got -1)"
        ),
        (
            "reward_hacking:\n  variance_multiplier: -2.5",
            "rlwatch.yaml:2:3: reward_hacking.variance_multiplier must be > 0 (got -2.5)"
        ),
        (
            "reward_hacking:\n  dip_test_significance: 0",
            "rlwatch.yaml:2:3: reward_hacking.dip_test_significance must be between 0 and 1 (exclusive) (got 0)"
        ),
        (
            "reward_hacking:\n  dip_test_significance: 1",
            "rlwatch.yaml:2:3: reward_hacking.dip_test_significance must be between 0 and 1 (exclusive) (got 1)"
        ),
        (
            "reward_hacking:\n  dip_test_significance: 1.5",
            "rlwatch.yaml:2:3: reward_hacking.dip_test_significance must be between 0 and 1 (exclusive) (got 1.5)"
        ),
        (
            "reward_hacking:\n  baseline_window: -1",
            "rlwatch.yaml:2:3: reward_hacking.baseline_window must be >= 0 (got -1)"
        ),
        (
            "reward_hacking:\n  warmup_steps: -1",
            "rlwatch.yaml:2:3: reward_hacking.warmup_steps must be >= 0 (got -1)"
        ),
        (
            "advantage_variance:\n  std_multiplier: 0.0",
            "rlwatch.yaml:2:3: advantage_variance.std_multiplier must be > 0 (got 0.0)"
        ),
        (
            "advantage_variance:\n  rolling_window: 0",
            "rlwatch.yaml:2:3: advantage_variance.rolling_window must be >= 2 (got 0)"
        ),
        (
            "advantage_variance:\n  warmup_steps: -1",
            "rlwatch.yaml:2:3: advantage_variance.warmup_steps must be >= 0 (got -1)"
        ),
        (
            "loss_nan:\n  warmup_steps: -1",
            "rlwatch.yaml:2:3: loss_nan.warmup_steps must be >= 0 (got -1)"
        ),
        (
            "gradient_norm_spike:\n  sigma_multiplier: -3",
            "rlwatch.yaml:2:3: gradient_norm_spike.sigma_multiplier must be > 0 (got -3)"
        ),
        (
            "gradient_norm_spike:\n  rolling_window: -3",
            "rlwatch.yaml:2:3: gradient_norm_spike.rolling_window must be >= 2 (got -3)"
        ),
        (
            "gradient_norm_spike:\n  warmup_steps: -1",
            "rlwatch.yaml:2:3: gradient_norm_spike.warmup_steps must be >= 0 (got -1)"
        ),
        (
            "gradient_norm_spike:\n  min_relative_increase: -0.5",
            "rlwatch.yaml:2:3: gradient_norm_spike.min_relative_increase must be >= 0 (got -0.5)"
        ),
        (
            "reward_mean_drift:\n  consecutive_steps: -1",
            "rlwatch.yaml:2:3: reward_mean_drift.consecutive_steps must be >= 0 (got -1)"
        ),
        (
            "reward_mean_drift:\n  warmup_steps: -1",
            "rlwatch.yaml:2:3: reward_mean_drift.warmup_steps must be >= 0 (got -1)"
        ),
        (
            "reward_mean_drift:\n  min_drift_magnitude: -0.1",
            "rlwatch.yaml:2:3: reward_mean_drift.min_drift_magnitude must be >= 0 (got -0.1)"
        ),
        (
            "alerts:\n  cooldown_steps: -1",
            "rlwatch.yaml:2:3: alerts.cooldown_steps must be >= 0 (got -1)"
        ),
        (
            "alerts:\n  max_alerts_per_run: -1",
            "rlwatch.yaml:2:3: alerts.max_alerts_per_run must be >= 0 (got -1)"
        ),
        (
            "alerts:\n  email:\n    smtp_port: 0",
            "rlwatch.yaml:3:5: alerts.email.smtp_port must be a port between 1 and 65535 (got 0)"
        ),
        (
            "alerts:\n  email:\n    smtp_port: 65536",
            "rlwatch.yaml:3:5: alerts.email.smtp_port must be a port between 1 and 65535 (got 65536)"
        ),
        (
            "alerts:\n  webhook:\n    timeout_seconds: 0",
            "rlwatch.yaml:3:5: alerts.webhook.timeout_seconds must be > 0 (got 0)"
        ),
        (
            "alerts:\n  webhook:\n    timeout_seconds: -2.5",
            "rlwatch.yaml:3:5: alerts.webhook.timeout_seconds must be > 0 (got -2.5)"
        ),
        (
            "dashboard:\n  port: -1",
            "rlwatch.yaml:2:3: dashboard.port must be a port between 1 and 65535 (got -1)"
        ),
        (
            "dashboard:\n  port: 70000",
            "rlwatch.yaml:2:3: dashboard.port must be a port between 1 and 65535 (got 70000)"
        ),
    ]

    @Test(arguments: outOfRange)
    func outOfRangeValueIsReportedWithItsPosition(yaml: String, message: String) throws {
        #expect(Self.errors(yaml) == [message])
    }

    @Test func boundaryValuesAreAccepted() throws {
        let yaml = """
            entropy_collapse: {threshold: 0, consecutive_steps: 0, warmup_steps: 0}
            kl_explosion: {rolling_window: 2, clip_region: 0, min_relative_increase: 0}
            reward_hacking: {dip_test_significance: 0.999, baseline_window: 0}
            reward_mean_drift: {min_drift_magnitude: 0}
            alerts: {cooldown_steps: 0, max_alerts_per_run: 0, email: {smtp_port: 65535}, webhook: {timeout_seconds: 0.001}}
            dashboard: {port: 1}
            advantage_variance: {rolling_window: 100000}
            """
        let config = try RLWatchConfig.parse(yaml: yaml).config
        #expect(config.klExplosion.rollingWindow == 2)
        #expect(config.advantageVariance.rollingWindow == 100_000)
        #expect(config.alerts.email.smtpPort == 65535)
        #expect(config.dashboard.port == 1)
    }

    static let typeMismatches: [(yaml: String, message: String)] = [
        (
            "entropy_collapse:\n  consecutive_steps: 2.5",
            "rlwatch.yaml:2:3: entropy_collapse.consecutive_steps must be an integer (got 2.5, a float)"
        ),
        (
            "entropy_collapse:\n  consecutive_steps: 50.0",
            "rlwatch.yaml:2:3: entropy_collapse.consecutive_steps must be an integer (got 50.0, a float; write it without a decimal point)"
        ),
        (
            "entropy_collapse:\n  warmup_steps: \"20\"",
            "rlwatch.yaml:2:3: entropy_collapse.warmup_steps must be an integer (got \"20\", a string; remove the quotes)"
        ),
        (
            "entropy_collapse:\n  warmup_steps: twenty",
            "rlwatch.yaml:2:3: entropy_collapse.warmup_steps must be an integer (got \"twenty\", a string)"
        ),
        (
            "entropy_collapse:\n  warmup_steps: 99999999999999999999",
            "rlwatch.yaml:2:3: entropy_collapse.warmup_steps must be an integer (got 99999999999999999999, an integer too large to represent)"
        ),
        (
            "entropy_collapse:\n  threshold: abc",
            "rlwatch.yaml:2:3: entropy_collapse.threshold must be a number (got \"abc\", a string)"
        ),
        (
            "entropy_collapse:\n  threshold: '0.5'",
            "rlwatch.yaml:2:3: entropy_collapse.threshold must be a number (got \"0.5\", a string; remove the quotes)"
        ),
        (
            // `entropy_collapse.threshold` may be null (unset: the relative floor decides); a required float may not.
            "entropy_collapse:\n  relative_threshold:",
            "rlwatch.yaml:2:3: entropy_collapse.relative_threshold must be a number (got null)"
        ),
        (
            "entropy_collapse:\n  enabled: \"true\"",
            "rlwatch.yaml:2:3: entropy_collapse.enabled must be true or false (got \"true\", a string; remove the quotes)"
        ),
        (
            "entropy_collapse:\n  enabled: 1",
            "rlwatch.yaml:2:3: entropy_collapse.enabled must be true or false (got 1, an integer)"
        ),
        (
            "entropy_collapse:\n  enabled: [true]",
            "rlwatch.yaml:2:3: entropy_collapse.enabled must be true or false (got a list)"
        ),
        (
            "run_id: [a, b]",
            "rlwatch.yaml:1:1: run_id must be a string (got a list)"
        ),
        (
            "alerts:\n  email:\n    smtp_password: yes",
            "rlwatch.yaml:3:5: alerts.email.smtp_password must be a string (got yes, a boolean; put it in quotes to use it as text)"
        ),
        (
            "alerts:\n  email:\n    to_addrs: a@b.com",
            "rlwatch.yaml:3:5: alerts.email.to_addrs must be a list of strings (got \"a@b.com\", a string; write [\"a@b.com\"])"
        ),
        (
            "alerts:\n  email:\n    to_addrs:\n      - a@b.com\n      - true",
            "rlwatch.yaml:5:9: alerts.email.to_addrs[1] must be a string (got true, a boolean)"
        ),
        (
            "alerts:\n  webhook:\n    headers: [Authorization]",
            "rlwatch.yaml:3:5: alerts.webhook.headers must be a mapping of names to strings (got a list)"
        ),
        (
            "alerts:\n  webhook:\n    headers:\n      X-Nested: {a: b}",
            "rlwatch.yaml:4:7: alerts.webhook.headers.X-Nested must be a string (got a mapping)"
        ),
        (
            "framework: 5",
            "rlwatch.yaml:1:1: framework must be a string (one of auto, trl, verl, openrlhf, manual) (got 5, an integer)"
        ),
        (
            "entropy_collapse: 5",
            "rlwatch.yaml:1:1: entropy_collapse must be a mapping of keys, or left empty for the defaults (got 5, an integer)"
        ),
        (
            "alerts:\n  slack: on",
            "rlwatch.yaml:2:3: alerts.slack must be a mapping of keys, or left empty for the defaults (got on, a boolean)"
        ),
        (
            "- entropy_collapse\n- kl_explosion",
            "rlwatch.yaml:1:1: the top level must be a mapping of sections and keys (got a list)"
        ),
        (
            "just text",
            "rlwatch.yaml:1:1: the top level must be a mapping of sections and keys (got \"just text\", a string)"
        ),
    ]

    @Test(arguments: typeMismatches)
    func wrongTypeIsReportedWithItsPosition(yaml: String, message: String) throws {
        #expect(Self.errors(yaml) == [message])
    }

    static let invalidChoices: [(yaml: String, message: String)] = [
        (
            "kl_explosion:\n  baseline_mode: rollin",
            "rlwatch.yaml:2:3: kl_explosion.baseline_mode must be one of rolling, frozen (got \"rollin\"); did you mean `rolling`?"
        ),
        (
            "advantage_variance:\n  baseline_mode: fixed",
            "rlwatch.yaml:2:3: advantage_variance.baseline_mode must be one of rolling, frozen (got \"fixed\")"
        ),
        (
            "gradient_norm_spike:\n  baseline_mode: Frozen",
            "rlwatch.yaml:2:3: gradient_norm_spike.baseline_mode must be one of rolling, frozen (got \"Frozen\"); did you mean `frozen`?"
        ),
        (
            "framework: TRL",
            "rlwatch.yaml:1:1: framework must be one of auto, trl, verl, openrlhf, manual (got \"TRL\"); did you mean `trl`?"
        ),
        (
            "framework: pytorch",
            "rlwatch.yaml:1:1: framework must be one of auto, trl, verl, openrlhf, manual (got \"pytorch\")"
        ),
        (
            "alerts:\n  webhook:\n    method: FETCH",
            "rlwatch.yaml:3:5: alerts.webhook.method must be one of POST, PUT, PATCH, GET, DELETE, HEAD, OPTIONS (got \"FETCH\")"
        ),
        (
            "alerts:\n  webhook:\n    method: POTS",
            "rlwatch.yaml:3:5: alerts.webhook.method must be one of POST, PUT, PATCH, GET, DELETE, HEAD, OPTIONS (got \"POTS\"); did you mean `POST`?"
        ),
    ]

    @Test(arguments: invalidChoices)
    func invalidChoiceIsReportedWithItsPosition(yaml: String, message: String) throws {
        #expect(Self.errors(yaml) == [message])
    }

    @Test func webhookMethodIsCaseInsensitiveAndNormalised() throws {
        let config = try RLWatchConfig.parse(yaml: "alerts:\n  webhook:\n    method: put").config
        #expect(config.alerts.webhook.method == "PUT")
    }

    @Test(arguments: RLWatchConfigTestSupport.frameworks)
    func everyFrameworkIsAccepted(framework: String) throws {
        #expect(try RLWatchConfig.parse(yaml: "framework: \(framework)").config.framework == framework)
    }

    static let unknownNames: [(yaml: String, message: String)] = [
        (
            "entropy_collapse:\n  warmup_step: 5",
            "rlwatch.yaml:2:3: unknown key `warmup_step` in section entropy_collapse; did you mean `warmup_steps`?"
        ),
        (
            "entropy_collapse:\n  warmupSteps: 5",
            "rlwatch.yaml:2:3: unknown key `warmupSteps` in section entropy_collapse; did you mean `warmup_steps`?"
        ),
        (
            "kl_explosion:\n  sigma: 5",
            "rlwatch.yaml:2:3: unknown key `sigma` in section kl_explosion; did you mean `sigma_multiplier`?"
        ),
        (
            "entropy_colapse:\n  threshold: 1",
            "rlwatch.yaml:1:1: unknown section `entropy_colapse`; did you mean `entropy_collapse`?"
        ),
        (
            "cooldown_steps: 5",
            "rlwatch.yaml:1:1: unknown section `cooldown_steps`; did you mean `alerts.cooldown_steps`?"
        ),
        (
            "alerts:\n  slak:\n    enabled: true",
            "rlwatch.yaml:2:3: unknown key `slak` in section alerts; did you mean `slack`?"
        ),
        (
            "alerts:\n  slack:\n    webhook: https://x",
            "rlwatch.yaml:3:5: unknown key `webhook` in section alerts.slack; did you mean `webhook_url`?"
        ),
        (
            "loss_nan:\n  bogus: 1",
            "rlwatch.yaml:2:3: unknown key `bogus` in section loss_nan (known: enabled, warmup_steps)"
        ),
        (
            "telemetry: true",
            "rlwatch.yaml:1:1: unknown section `telemetry` (known: run_id, framework, entropy_collapse, kl_explosion, reward_hacking, advantage_variance, loss_nan, gradient_norm_spike, reward_mean_drift, entropy_explosion, learning_signal_dead, length_truncation, rollout_mismatch, importance_ratio, clip_saturation, value_divergence, length_hacking, component_hacking, staleness, reward_stagnation, stall, crash, throughput, metrics, alerts, storage, dashboard, actions)"
        ),
        (
            "actions:\n  detectors:\n    los_nan: stop",
            "rlwatch.yaml:3:5: unknown key `los_nan` in section actions.detectors; did you mean `loss_nan`?"
        ),
        (
            "actions:\n  on_critical: halt",
            "rlwatch.yaml:2:3: actions.on_critical must be one of none, stop, save_and_stop (got \"halt\")"
        ),
        (
            "kl_explosion.sigma_multiplier: 4",
            "rlwatch.yaml:1:1: unknown section `kl_explosion.sigma_multiplier`; did you mean `kl_explosion`?"
        ),
    ]

    @Test(arguments: unknownNames)
    func unknownNameIsReportedWithSuggestion(yaml: String, message: String) throws {
        #expect(Self.errors(yaml) == [message])
    }

    @Test func unknownKeyIssueExposesKeyKindAndSuggestion() throws {
        let error = try #require(throws: ConfigError.self) {
            try RLWatchConfig.parse(yaml: "entropy_collapse:\n  warmup_step: 5")
        }
        let issue = try #require(error.issues.first)
        #expect(issue.kind == .unknownKey)
        #expect(issue.key == "entropy_collapse.warmup_step")
        #expect(issue.suggestion == "warmup_steps")
        #expect(issue.source == .file(path: "rlwatch.yaml", line: 2, column: 3))
        #expect(issue.message == "unknown key `warmup_step` in section entropy_collapse; did you mean `warmup_steps`?")
    }

    @Test func allProblemsAreReportedTogetherInFileOrder() throws {
        let yaml = """
            run_id: demo
            entropy_collapse:
              threshold: -1
              warmup_step: 3
            kl_explosion:
              sigma_multiplier: -1
              baseline_mode: sometimes
            framework: jax
            """
        let error = try #require(throws: ConfigError.self) { try RLWatchConfig.parse(yaml: yaml, file: "conf/rl.yaml") }
        #expect(error.issues.map(\.kind) == [.outOfRange, .unknownKey, .outOfRange, .invalidChoice, .invalidChoice])
        #expect(
            error.description == """
                conf/rl.yaml:3:3: entropy_collapse.threshold must be >= 0 (got -1)
                conf/rl.yaml:4:3: unknown key `warmup_step` in section entropy_collapse; did you mean `warmup_steps`?
                conf/rl.yaml:6:3: kl_explosion.sigma_multiplier must be > 0 (got -1)
                conf/rl.yaml:7:3: kl_explosion.baseline_mode must be one of rolling, frozen (got "sometimes")
                conf/rl.yaml:8:1: framework must be one of auto, trl, verl, openrlhf, manual (got "jax")
                """
        )
    }

    @Test func severalBadListItemsAreAllReported() {
        let errors = Self.errors("alerts:\n  discord:\n    mention_role_ids: [1, null, 2, [3]]")
        #expect(
            errors == [
                "rlwatch.yaml:3:27: alerts.discord.mention_role_ids[1] must be a string (got null)",
                "rlwatch.yaml:3:36: alerts.discord.mention_role_ids[3] must be a string (got a list)",
            ]
        )
    }

    @Test func duplicateKeyIsASyntaxError() throws {
        let error = try #require(throws: ConfigError.self) {
            try RLWatchConfig.parse(yaml: "entropy_collapse:\n  threshold: 1\n  threshold: 2")
        }
        #expect(error.issues.map(\.kind) == [.syntax])
        #expect(error.description == "rlwatch.yaml:2:3: invalid YAML: duplicate key `threshold` in the same mapping")
    }

    /// A "billion laughs": each anchor repeats the previous one nine times, `levels` deep.
    static func aliasBomb(levels: Int) -> String {
        var lines = ["l0: &l0 [x, x, x, x, x, x, x, x, x]"]
        for level in 1..<levels {
            lines.append("l\(level): &l\(level) [" + Array(repeating: "*l\(level - 1)", count: 9).joined(separator: ", ") + "]")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    @Test func aliasesThatMultiplyAreRefusedBeforeTheyExpand() throws {
        // 9^6 = 531,441 values once expanded, from 200 bytes.
        let started = ContinuousClock.now
        let error = try #require(throws: ConfigError.self) {
            try RLWatchConfig.parse(yaml: Self.aliasBomb(levels: 6), file: "bomb.yaml")
        }
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(error.issues.map(\.kind) == [.syntax])
        #expect(error.description.hasPrefix("bomb.yaml:"), "\(error)")
        #expect(error.description.contains("more than 100000 values once its aliases"), "\(error)")
        // Aliases that do not multiply are fine: a merge key and a shared list.
        let config = try RLWatchConfig.parse(
            yaml: """
                kl_explosion: &detector {warmup_steps: 7}
                gradient_norm_spike: {<<: *detector, rolling_window: 50}
                alerts:
                  discord: {mention_role_ids: &roles ["1", "2"]}
                """
        ).config
        #expect(config.gradientNormSpike.warmupSteps == 7)
    }

    @Test func malformedYAMLNamesFileAndLine() throws {
        let error = try #require(throws: ConfigError.self) {
            try RLWatchConfig.parse(yaml: "entropy_collapse:\n  threshold: 1\n warmup_steps: [1, 2\n", file: "x.yaml")
        }
        #expect(error.issues.count == 1)
        #expect(error.issues.first?.kind == .syntax)
        #expect(error.description.hasPrefix("x.yaml:3:"))
        #expect(error.description.contains("invalid YAML:"))
    }

    @Test func severalDocumentsAreASyntaxError() throws {
        let error = try #require(throws: ConfigError.self) {
            try RLWatchConfig.parse(yaml: "run_id: a\n---\nrun_id: b\n")
        }
        #expect(error.issues.first?.kind == .syntax)
        #expect(
            error.description
                == "rlwatch.yaml:2:1: invalid YAML: a config file holds a single YAML document; found a second one")
    }
}

enum RLWatchConfigTestSupport {
    static let frameworks = ["auto", "trl", "verl", "openrlhf", "manual"]
}

extension ConfigValidationTests {
    @Test func tabIndentationIsExplained() {
        #expect(
            Self.errors("entropy_collapse:\n\tthreshold: 1")
                == ["rlwatch.yaml:2:1: invalid YAML: a tab character; YAML indentation must use spaces"]
        )
    }
}
