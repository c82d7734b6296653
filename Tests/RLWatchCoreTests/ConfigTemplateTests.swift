import Foundation
import RLWatchCore
import Testing

@Suite struct ConfigTemplateTests {
    @Test func defaultTemplateParsesBackToDefaults() throws {
        let resolved = try RLWatchConfig.parse(yaml: ConfigTemplate.defaultYAML)
        #expect(resolved.config == RLWatchConfig())
    }

    @Test func templateWritesEveryKeyInRLWatch051OrderWithAComment() throws {
        let lines = ConfigTemplate.defaultYAML.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        // The key lines, with their indentation, in order.
        let keyLines = lines.filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("#") && $0.contains(":") }
        let expectedOrder = [
            "run_id", "framework",
            // `threshold` is written commented out (unset by default: the relative floor decides).
            "entropy_collapse", "  enabled", "  relative_threshold", "  baseline_window", "  consecutive_steps",
            "  warmup_steps",
            "kl_explosion", "  enabled", "  sigma_multiplier", "  clip_region", "  rolling_window", "  warmup_steps",
            "  baseline_mode", "  min_relative_increase", "  critical_ratio", "  min_kl", "  warning_kl", "  critical_kl",
            "reward_hacking", "  enabled", "  variance_multiplier", "  dip_test_significance", "  baseline_window",
            "  warmup_steps", "  saturation_std_fraction", "  saturation_reward_rise", "  saturation_kl_multiplier",
            "  saturation_min_kl", "  saturation_consecutive_steps",
            "advantage_variance", "  enabled", "  std_multiplier", "  rolling_window", "  warmup_steps",
            "  baseline_mode",
            "loss_nan", "  enabled", "  warmup_steps",
            "gradient_norm_spike", "  enabled", "  sigma_multiplier", "  rolling_window", "  warmup_steps",
            "  baseline_mode", "  min_relative_increase", "  critical_ratio",
            "reward_mean_drift", "  enabled", "  consecutive_steps", "  warmup_steps", "  min_drift_magnitude",
            // The detectors rlwatch 0.5.1 does not have, after its seven.
            "entropy_explosion", "  enabled", "  warning_ratio", "  critical_ratio", "  consecutive_steps",
            "  baseline_window", "  warmup_steps",
            "learning_signal_dead", "  enabled", "  frac_zero_std_threshold", "  consecutive_steps", "  warmup_steps",
            "length_truncation", "  enabled", "  warning_ratio", "  critical_ratio", "  rising_ratio", "  consecutive_steps",
            "  warmup_steps",
            "rollout_mismatch", "  enabled", "  warning_ratio", "  critical_ratio", "  min_mismatch", "  high_mismatch",
            "  min_effective_sample_size", "  consecutive_steps", "  baseline_window", "  warmup_steps",
            "importance_ratio", "  enabled", "  low_mean", "  critical_low_mean", "  high_mean", "  critical_high_mean",
            "  max_ratio", "  masked_fraction", "  consecutive_steps", "  warmup_steps",
            "clip_saturation", "  enabled", "  warning_fraction", "  critical_fraction", "  consecutive_steps",
            "  warmup_steps",
            "value_divergence", "  enabled", "  min_explained_variance", "  critical_explained_variance", "  loss_ratio",
            "  consecutive_steps", "  baseline_window", "  warmup_steps",
            "length_hacking", "  enabled", "  length_ratio", "  critical_length_ratio", "  min_correlation", "  window",
            "  baseline_window", "  consecutive_steps", "  warmup_steps",
            "component_hacking", "  enabled", "  saturation_window", "  saturation_tolerance", "  min_rise", "  min_fall",
            "  baseline_window", "  consecutive_steps", "  warmup_steps",
            "staleness", "  enabled", "  warning_ratio", "  critical_ratio", "  min_staleness", "  min_dropped_per_step",
            "  consecutive_steps", "  baseline_window", "  warmup_steps",
            "reward_stagnation", "  enabled", "  window_steps", "  kl_ratio", "  min_kl", "  min_progress", "  warmup_steps",
            // The liveness detectors (judged on arrival times); their optional times are commented out.
            "stall", "  enabled", "  min_after_seconds", "  interval_multiplier", "  critical_multiplier",
            "  forget_after_seconds", "  check_interval_seconds",
            "crash", "  enabled",
            "throughput", "  enabled", "  drop_fraction", "  window_seconds", "  sustained_seconds", "  warmup_seconds",
            "metrics", "  keys",
            "alerts",
            "  slack", "    enabled", "    webhook_url", "    channel", "    mention_users",
            "  email", "    enabled", "    smtp_host", "    smtp_port", "    smtp_user", "    smtp_password",
            "    from_addr", "    to_addrs", "    security", "    ca_cert_file",
            "  discord", "    enabled", "    webhook_url", "    username", "    avatar_url", "    mention_role_ids",
            "  webhook", "    enabled", "    url", "    method", "    headers", "    template_json",
            "    timeout_seconds",
            "  cooldown_steps", "  max_alerts_per_run",
            "  pagerduty", "    enabled", "    routing_key", "    url",
            "  retry", "    max_attempts", "    initial_backoff_seconds", "    max_backoff_seconds",
            "    lease_seconds",
            "storage", "  log_dir", "  db_name", "  url", "  retention_days",
            "dashboard", "  port", "  host",
            "actions", "  on_critical", "  detectors", "  min_severity", "  command", "  shell", "  timeout_seconds",
            "  dry_run",
        ]
        #expect(keyLines.map { String($0.prefix(while: { $0 != ":" })) } == expectedOrder)

        // Every key line (not section headers) is directly preceded by a one-line comment at the same indentation.
        for (index, line) in lines.enumerated() where keyLines.contains(line) && !line.hasSuffix(":") {
            let indent = line.prefix(while: { $0 == " " })
            #expect(index > 0 && lines[index - 1].hasPrefix(indent + "# "), "no comment above \(line)")
        }
    }

    @Test func templateShowsDefaultValues() {
        let yaml = ConfigTemplate.defaultYAML
        #expect(yaml.contains("\nrun_id: \"\"\n"))
        #expect(yaml.contains("\nframework: auto\n"))
        #expect(yaml.contains("\n  baseline_mode: rolling\n"))
        #expect(yaml.contains("\n  critical_kl: 5.0\n"))
        #expect(yaml.contains("\n  dip_test_significance: 0.05\n"))
        #expect(yaml.contains("\n    smtp_host: smtp.gmail.com\n"))
        #expect(yaml.contains("\n    to_addrs: []\n"))
        #expect(yaml.contains("\n    headers: {}\n"))
        #expect(yaml.contains("\n    timeout_seconds: 10.0\n"))
        #expect(yaml.contains("\n  log_dir: ./rlwatch_logs\n"))
        #expect(yaml.contains("\n  host: 127.0.0.1\n"))
    }

    @Test func showAnnotatesEverySourceAndRedacts() throws {
        let resolved = try ResolvedConfig.resolve([
            .yaml(
                "kl_explosion:\n  sigma_multiplier: 4\nalerts:\n  email:\n    smtp_password: hunter2",
                file: "rlwatch.yaml"),
            .environment(["RLWATCH_SLACK_WEBHOOK_URL": "https://hooks.slack.com/secret"]),
            .flags([.logDir("/tmp/x")]),
        ])
        let text = ConfigTemplate.show(resolved)
        #expect(!text.contains("hunter2"))
        #expect(!text.contains("hooks.slack.com"))
        let lines = text.split(separator: "\n").map(String.init)
        func line(_ prefix: String) -> String? { lines.first { $0.hasPrefix(prefix) } }
        #expect(lines.first == "# rlwatch configuration as resolved; secrets shown as ***")
        #expect(lines.dropFirst().first == "# config file: rlwatch.yaml")
        #expect(line("  sigma_multiplier: 4.0")?.hasSuffix("# from: rlwatch.yaml:2:3") == true)
        #expect(line("  warmup_steps: 20")?.hasSuffix("# from: default") == true)
        #expect(line("    smtp_password: \"***\"")?.hasSuffix("# from: rlwatch.yaml:5:5") == true)
        #expect(line("    webhook_url: \"***\"")?.hasSuffix("# from: env RLWATCH_SLACK_WEBHOOK_URL") == true)
        #expect(
            line("    enabled: true")?.hasSuffix("# from: auto-enabled because alerts.slack.webhook_url is set") == true
        )
        #expect(line("  log_dir: /tmp/x")?.hasSuffix("# from: flag --log-dir") == true)
        // Every key line carries a source.
        let keyLines = lines.filter { !$0.hasPrefix("#") && !$0.hasSuffix(":") }
        // One per schema key: 78 in the first port, + entropy_collapse.relative_threshold and baseline_window,
        // + the five reward_hacking saturation keys, + metrics.keys, + alerts.pagerduty (3) and alerts.retry (3),
        // + alerts.email.security and ca_cert_file, + storage.url and retention_days, + stall (8), crash (1) and
        // throughput (5), + kl_explosion.critical_ratio, warning_kl and critical_kl, gradient_norm_spike.critical_ratio
        // and length_truncation.rising_ratio, + the actions section (7). `threshold` and the optional stall times are
        // shown (as null) although the template comments them out. + the sections of rollout_mismatch (8),
        // importance_ratio (8), clip_saturation (4) and value_divergence (6), + length_hacking (8),
        // component_hacking (8), staleness (8) and reward_stagnation (6).
        #expect(keyLines.count == 184)
        #expect(keyLines.allSatisfy { $0.contains("# from: ") })
    }

    @Test func showOutputParsesBackToTheRedactedConfig() throws {
        let resolved = try ResolvedConfig.resolve([
            .overrides(
                [
                    "run_id": "a \"quoted\" run: yes",
                    "alerts.webhook.headers": ["Authorization": "Bearer x", "X-Empty": ""],
                    "alerts.webhook.template_json": "{\n  \"d\": \"${detector}\"\n}",
                    "alerts.discord.mention_role_ids": ["1", "true", "null"],
                    "reward_hacking.dip_test_significance": 0.00001,
                ],
                source: .override(label: "test")
            )
        ])
        let reparsed = try RLWatchConfig.parse(yaml: ConfigTemplate.show(resolved)).config
        #expect(reparsed == resolved.config.redacted())
    }
}
