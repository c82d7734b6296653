/// The typed value of one configuration key, whatever its source.
enum ConfigFieldValue: Sendable, Hashable {
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case strings([String])
    case stringMap([String: String])
    /// An optional key that is not set (`threshold: null`, or never written).
    case null
}

/// Allowed range of an integer key.
enum IntRule: Sendable {
    case nonNegative
    case atLeast(Int)
    case port
    /// A count of observations a detector keeps in memory, for every run it watches: at least `minimum`, at most
    /// ``maximumWindow``.
    case window(atLeast: Int)

    /// The largest window a key may ask for. Each detector keeps its window in memory for each run it watches,
    /// and a server takes run configs from its clients: `rolling_window: 4000000000` made one request allocate
    /// 32 GB and abort the server. 100,000 observations is far beyond any useful baseline (the defaults are
    /// 20–100) and costs under 2 MB a window.
    static let maximumWindow = 100_000

    /// The constraint text when `value` breaks the rule, nil when it is fine.
    func violation(_ value: Int) -> String? {
        switch self {
        case .nonNegative: value >= 0 ? nil : ">= 0"
        case .atLeast(let minimum): value >= minimum ? nil : ">= \(minimum)"
        case .port: (1...65535).contains(value) ? nil : "a port between 1 and 65535"
        case .window(let minimum):
            if value < minimum {
                ">= \(minimum)"
            } else if value > Self.maximumWindow {
                "<= \(Self.maximumWindow) (a window is kept in memory for every run)"
            } else {
                nil
            }
        }
    }
}

/// Allowed range of a float key; every float key must also be finite.
enum DoubleRule: Sendable {
    case any
    case positive
    case nonNegative
    case openUnitInterval
    /// A fraction that may be 1 (every completion truncated, every group without variance): 0 < x ≤ 1.
    case unitFraction

    /// The constraint text when `value` breaks the rule, nil when it is fine. Written so that NaN fails.
    func violation(_ value: Double) -> String? {
        guard value.isFinite else { return "a finite number" }
        switch self {
        case .any: return nil
        case .positive: return value > 0 ? nil : "> 0"
        case .nonNegative: return value >= 0 ? nil : ">= 0"
        case .openUnitInterval: return value > 0 && value < 1 ? nil : "between 0 and 1 (exclusive)"
        case .unitFraction: return value > 0 && value <= 1 ? nil : "> 0 and <= 1"
        }
    }
}

/// Where a key's value lives in `RLWatchConfig`; Sendable so the schema table can be a global constant.
typealias ConfigKeyPath<Value> = any WritableKeyPath<RLWatchConfig, Value> & Sendable

/// One key of `rlwatch.yaml`: its dotted name, type, range, documentation and where it lives in `RLWatchConfig`.
///
/// The table in ``ConfigSchema`` is the single description of the file format: parsing, validation, the `init`
/// template, `config show`, JSON rendering and redaction all walk it, so adding a key means adding one line.
struct ConfigField: Sendable {
    enum Kind: Sendable {
        case bool
        case int(IntRule)
        case double(DoubleRule)
        /// A float that may be left unset (null); `example` is what the `init` template shows, commented out.
        case optionalDouble(DoubleRule, example: Double)
        case string
        /// A string restricted to `values`; with `caseInsensitive`, input is normalised to the listed spelling.
        case choice(values: [String], caseInsensitive: Bool)
        case strings
        case stringMap
        /// A map of logged keys to metric names: each value one of `names`, or null (stored as "").
        /// With `allowedKeys`, a key outside it is an unknown key (`actions.detectors` takes detector names only).
        case metricKeyMap(names: [String], reservedKeys: [String], allowedKeys: [String]?)
    }

    enum Secrecy: Sendable {
        case none
        /// The whole value is a credential (a password, a URL with a token in it).
        case value
        /// A map whose values are credentials (webhook headers such as `Authorization`).
        case mapValues
    }

    /// `["alerts", "slack", "webhook_url"]`.
    let path: [String]
    /// `alerts.slack.webhook_url`.
    let key: String
    /// One line for the `init` template.
    let comment: String
    let kind: Kind
    let secrecy: Secrecy
    let get: @Sendable (RLWatchConfig) -> ConfigFieldValue
    let set: @Sendable (inout RLWatchConfig, ConfigFieldValue) -> Void

    private init(
        _ key: String,
        _ comment: String,
        kind: Kind,
        secrecy: Secrecy = .none,
        get: @escaping @Sendable (RLWatchConfig) -> ConfigFieldValue,
        set: @escaping @Sendable (inout RLWatchConfig, ConfigFieldValue) -> Void
    ) {
        self.key = key
        self.path = key.split(separator: ".").map(String.init)
        self.comment = comment
        self.kind = kind
        self.secrecy = secrecy
        self.get = get
        self.set = set
    }

    static func bool(_ key: String, _ keyPath: ConfigKeyPath<Bool>, _ comment: String)
        -> ConfigField
    {
        ConfigField(key, comment, kind: .bool, get: { .bool($0[keyPath: keyPath]) }) { config, value in
            if case .bool(let value) = value { config[keyPath: keyPath] = value }
        }
    }

    static func int(
        _ key: String,
        _ keyPath: ConfigKeyPath<Int>,
        _ rule: IntRule,
        _ comment: String
    ) -> ConfigField {
        ConfigField(key, comment, kind: .int(rule), get: { .int($0[keyPath: keyPath]) }) { config, value in
            if case .int(let value) = value { config[keyPath: keyPath] = value }
        }
    }

    static func double(
        _ key: String,
        _ keyPath: ConfigKeyPath<Double>,
        _ rule: DoubleRule,
        _ comment: String
    ) -> ConfigField {
        ConfigField(key, comment, kind: .double(rule), get: { .double($0[keyPath: keyPath]) }) { config, value in
            if case .double(let value) = value { config[keyPath: keyPath] = value }
        }
    }

    static func optionalDouble(
        _ key: String,
        _ keyPath: ConfigKeyPath<Double?>,
        _ rule: DoubleRule,
        example: Double,
        _ comment: String
    ) -> ConfigField {
        ConfigField(
            key, comment, kind: .optionalDouble(rule, example: example),
            get: { $0[keyPath: keyPath].map(ConfigFieldValue.double) ?? .null }
        ) { config, value in
            switch value {
            case .double(let value): config[keyPath: keyPath] = value
            case .null: config[keyPath: keyPath] = nil
            default: break
            }
        }
    }

    static func string(
        _ key: String,
        _ keyPath: ConfigKeyPath<String>,
        secret: Bool = false,
        _ comment: String
    ) -> ConfigField {
        ConfigField(
            key, comment, kind: .string, secrecy: secret ? .value : .none, get: { .string($0[keyPath: keyPath]) }
        ) { config, value in
            if case .string(let value) = value { config[keyPath: keyPath] = value }
        }
    }

    static func choice(
        _ key: String,
        _ keyPath: ConfigKeyPath<String>,
        _ values: [String],
        caseInsensitive: Bool = false,
        _ comment: String
    ) -> ConfigField {
        ConfigField(
            key,
            comment,
            kind: .choice(values: values, caseInsensitive: caseInsensitive),
            get: { .string($0[keyPath: keyPath]) }
        ) { config, value in
            if case .string(let value) = value { config[keyPath: keyPath] = value }
        }
    }

    static func baselineMode(
        _ key: String,
        _ keyPath: ConfigKeyPath<BaselineMode>,
        _ comment: String
    ) -> ConfigField {
        ConfigField(
            key,
            comment,
            kind: .choice(values: BaselineMode.allCases.map(\.rawValue), caseInsensitive: false),
            get: { .string($0[keyPath: keyPath].rawValue) }
        ) { config, value in
            if case .string(let raw) = value, let mode = BaselineMode(rawValue: raw) { config[keyPath: keyPath] = mode }
        }
    }

    static func strings(
        _ key: String,
        _ keyPath: ConfigKeyPath<[String]>,
        _ comment: String
    ) -> ConfigField {
        ConfigField(key, comment, kind: .strings, get: { .strings($0[keyPath: keyPath]) }) { config, value in
            if case .strings(let value) = value { config[keyPath: keyPath] = value }
        }
    }

    static func stringMap(
        _ key: String,
        _ keyPath: ConfigKeyPath<[String: String]>,
        secretValues: Bool,
        _ comment: String
    ) -> ConfigField {
        ConfigField(
            key,
            comment,
            kind: .stringMap,
            secrecy: secretValues ? .mapValues : .none,
            get: { .stringMap($0[keyPath: keyPath]) }
        ) { config, value in
            if case .stringMap(let value) = value { config[keyPath: keyPath] = value }
        }
    }
}

extension ConfigField {
    static func metricKeyMap(
        _ key: String,
        _ keyPath: ConfigKeyPath<[String: String]>,
        names: [String],
        reservedKeys: [String],
        allowedKeys: [String]? = nil,
        _ comment: String
    ) -> ConfigField {
        ConfigField(
            key, comment, kind: .metricKeyMap(names: names, reservedKeys: reservedKeys, allowedKeys: allowedKeys),
            get: { .stringMap($0[keyPath: keyPath]) }
        ) { config, value in
            if case .stringMap(let value) = value { config[keyPath: keyPath] = value }
        }
    }
}

/// The keys of `rlwatch.yaml` in rlwatch 0.5.1's order (our additions last in their section, the sections of the
/// detectors 0.5.1 does not have after its seven), with the comments the `init` template writes.
enum ConfigSchema {
    static let frameworks = ["auto", "trl", "verl", "openrlhf", "manual"]
    static let httpMethods = ["POST", "PUT", "PATCH", "GET", "DELETE", "HEAD", "OPTIONS"]

    // swift-format-ignore
    static let fields: [ConfigField] = [
        .string("run_id", \.runID, "Run identifier; empty generates run_<YYYYmmdd_HHMMSS>_<6 hex digits>."),
        .choice("framework", \.framework, frameworks,
                "Training framework: auto (detect), trl, verl, openrlhf or manual."),

        .bool("entropy_collapse.enabled", \.entropyCollapse.enabled, "Run this detector."),
        .optionalDouble("entropy_collapse.threshold", \.entropyCollapse.threshold, .nonNegative, example: 1.0,
                        "Absolute floor (>= 0), as in rlwatch 0.5.1; unset (null): relative_threshold decides."),
        .double("entropy_collapse.relative_threshold", \.entropyCollapse.relativeThreshold, .openUnitInterval,
                "Without threshold: entropy below this fraction of the run's early baseline counts as collapsed."),
        .int("entropy_collapse.baseline_window", \.entropyCollapse.baselineWindow, .window(atLeast: 1),
             "Baseline = median of this many first finite entropy observations (1-100000)."),
        .int("entropy_collapse.consecutive_steps", \.entropyCollapse.consecutiveSteps, .nonNegative,
             "Critical after this many training steps in a row below the floor; warning at half (>= 0)."),
        .int("entropy_collapse.warmup_steps", \.entropyCollapse.warmupSteps, .nonNegative,
             "Training steps to see before this detector may fire (>= 0)."),

        .bool("kl_explosion.enabled", \.klExplosion.enabled, "Run this detector."),
        .double("kl_explosion.sigma_multiplier", \.klExplosion.sigmaMultiplier, .positive,
                "Warning needs this many robust standard deviations above the baseline median; critical 1.5x (> 0)."),
        .double("kl_explosion.clip_region", \.klExplosion.clipRegion, .nonNegative,
                "PPO clip region, reported in alerts for context only (>= 0)."),
        .int("kl_explosion.rolling_window", \.klExplosion.rollingWindow, .window(atLeast: 2),
             "Observations in the baseline window (2-100000)."),
        .int("kl_explosion.warmup_steps", \.klExplosion.warmupSteps, .nonNegative,
             "Training steps to see before this detector may fire (>= 0)."),
        .baselineMode("kl_explosion.baseline_mode", \.klExplosion.baselineMode,
                      "rolling: the last rolling_window values; frozen: the first full window, kept for the run."),
        .double("kl_explosion.min_relative_increase", \.klExplosion.minRelativeIncrease, .nonNegative,
                "Warning: KL at least (1 + this) x the baseline median on two observations in a row (>= 0)."),
        .double("kl_explosion.critical_ratio", \.klExplosion.criticalRatio, .positive,
                "Critical: KL at least this many times the baseline median, on its own step (> 0)."),
        .double("kl_explosion.min_kl", \.klExplosion.minKL, .nonNegative,
                "Never alert against the baseline on a KL below this (per-token nats; 0 turns the floor off; >= 0)."),
        .double("kl_explosion.warning_kl", \.klExplosion.warningKL, .nonNegative,
                "A KL at or above this on two observations in a row is a warning from step 1 (0: off; >= 0)."),
        .double("kl_explosion.critical_kl", \.klExplosion.criticalKL, .nonNegative,
                "A KL at or above this (nats per token) is critical from step 1, baseline or not (0: off; >= 0)."),

        .bool("reward_hacking.enabled", \.rewardHacking.enabled, "Run this detector."),
        .double("reward_hacking.variance_multiplier", \.rewardHacking.varianceMultiplier, .positive,
                "Warning when reward variance exceeds the baseline by this factor; critical above 2x (> 0)."),
        .double("reward_hacking.dip_test_significance", \.rewardHacking.dipTestSignificance, .openUnitInterval,
                "Dip-test p-value below which per-sample rewards count as bimodal (between 0 and 1)."),
        .int("reward_hacking.baseline_window", \.rewardHacking.baselineWindow, .window(atLeast: 0),
             "Reward variances kept for the baseline (0-100000)."),
        .int("reward_hacking.warmup_steps", \.rewardHacking.warmupSteps, .nonNegative,
             "Training steps to see before this detector may fire (>= 0)."),
        .double("reward_hacking.saturation_std_fraction", \.rewardHacking.saturationStdFraction, .unitFraction,
                "Saturation: reward std at or below this fraction of its early baseline (> 0, <= 1)."),
        .double("reward_hacking.saturation_reward_rise", \.rewardHacking.saturationRewardRise, .nonNegative,
                "Saturation: reward mean at least this many baseline stds above its baseline mean (>= 0)."),
        .double("reward_hacking.saturation_kl_multiplier", \.rewardHacking.saturationKLMultiplier, .positive,
                "Saturation: KL at this many times its early baseline and rising; 3x that level: critical (> 0)."),
        .double("reward_hacking.saturation_min_kl", \.rewardHacking.saturationMinKL, .nonNegative,
                "Saturation: and KL at least this absolute value (>= 0)."),
        .int("reward_hacking.saturation_consecutive_steps", \.rewardHacking.saturationConsecutiveSteps, .atLeast(1),
             "Saturation: training steps in a row the condition must hold (>= 1)."),

        .bool("advantage_variance.enabled", \.advantageVariance.enabled, "Run this detector."),
        .double("advantage_variance.std_multiplier", \.advantageVariance.stdMultiplier, .positive,
                "Warning when advantage std exceeds the baseline mean by this factor; critical above 2x (> 0)."),
        .int("advantage_variance.rolling_window", \.advantageVariance.rollingWindow, .window(atLeast: 2),
             "Observations in the baseline window (2-100000)."),
        .int("advantage_variance.warmup_steps", \.advantageVariance.warmupSteps, .nonNegative,
             "Training steps to see before this detector may fire (>= 0)."),
        .baselineMode("advantage_variance.baseline_mode", \.advantageVariance.baselineMode,
                      "rolling: the last rolling_window values; frozen: the first full window, kept for the run."),

        .bool("loss_nan.enabled", \.lossNaN.enabled, "Run this detector."),
        .int("loss_nan.warmup_steps", \.lossNaN.warmupSteps, .nonNegative,
             "Training steps to see before this detector may fire (>= 0)."),

        .bool("gradient_norm_spike.enabled", \.gradientNormSpike.enabled, "Run this detector."),
        .double("gradient_norm_spike.sigma_multiplier", \.gradientNormSpike.sigmaMultiplier, .positive,
                "Warning needs this many robust standard deviations above the baseline median; critical 1.5x (> 0)."),
        .int("gradient_norm_spike.rolling_window", \.gradientNormSpike.rollingWindow, .window(atLeast: 2),
             "Observations in the baseline window (2-100000)."),
        .int("gradient_norm_spike.warmup_steps", \.gradientNormSpike.warmupSteps, .nonNegative,
             "Training steps to see before this detector may fire (>= 0)."),
        .baselineMode("gradient_norm_spike.baseline_mode", \.gradientNormSpike.baselineMode,
                      "rolling: the last rolling_window values; frozen: the first full window, kept for the run."),
        .double("gradient_norm_spike.min_relative_increase", \.gradientNormSpike.minRelativeIncrease, .nonNegative,
                "Warning: grad norm at least (1 + this) x the baseline median on two observations in a row (>= 0)."),
        .double("gradient_norm_spike.critical_ratio", \.gradientNormSpike.criticalRatio, .positive,
                "Critical: grad norm at least this many times the baseline median, on its own step (> 0)."),

        .bool("reward_mean_drift.enabled", \.rewardMeanDrift.enabled, "Run this detector."),
        .int("reward_mean_drift.consecutive_steps", \.rewardMeanDrift.consecutiveSteps, .nonNegative,
             "Warning after the mean reward moves the same way for this many training steps (>= 0)."),
        .int("reward_mean_drift.warmup_steps", \.rewardMeanDrift.warmupSteps, .nonNegative,
             "Training steps to see before this detector may fire (>= 0)."),
        .double("reward_mean_drift.min_drift_magnitude", \.rewardMeanDrift.minDriftMagnitude, .nonNegative,
                "Smallest total change over those steps that counts as drift (>= 0)."),

        .bool("entropy_explosion.enabled", \.entropyExplosion.enabled, "Run this detector."),
        .double("entropy_explosion.warning_ratio", \.entropyExplosion.warningRatio, .positive,
                "Warning when entropy exceeds this many times its early baseline (> 0)."),
        .double("entropy_explosion.critical_ratio", \.entropyExplosion.criticalRatio, .positive,
                "Critical when entropy exceeds this many times its early baseline (> 0)."),
        .int("entropy_explosion.consecutive_steps", \.entropyExplosion.consecutiveSteps, .atLeast(1),
             "Training steps in a row each level must hold before it alerts (>= 1)."),
        .int("entropy_explosion.baseline_window", \.entropyExplosion.baselineWindow, .window(atLeast: 1),
             "Baseline = median of this many first finite entropy observations, which are not judged (1-100000)."),
        .int("entropy_explosion.warmup_steps", \.entropyExplosion.warmupSteps, .nonNegative,
             "Training steps to see before this detector may fire (>= 0)."),

        .bool("learning_signal_dead.enabled", \.learningSignalDead.enabled, "Run this detector."),
        .double("learning_signal_dead.frac_zero_std_threshold", \.learningSignalDead.fracZeroStdThreshold,
                .unitFraction, "frac_reward_zero_std at or above this counts as no learning signal (> 0, <= 1)."),
        .int("learning_signal_dead.consecutive_steps", \.learningSignalDead.consecutiveSteps, .atLeast(1),
             "Warning after this many training steps of dead signal (one lone live row allowed); 3x: critical (>= 1)."),
        .int("learning_signal_dead.warmup_steps", \.learningSignalDead.warmupSteps, .nonNegative,
             "Training steps to see before this detector may fire (>= 0)."),

        .bool("length_truncation.enabled", \.lengthTruncation.enabled, "Run this detector."),
        .double("length_truncation.warning_ratio", \.lengthTruncation.warningRatio, .unitFraction,
                "Warning when at least this fraction of completions hits the max length (> 0, <= 1)."),
        .double("length_truncation.critical_ratio", \.lengthTruncation.criticalRatio, .unitFraction,
                "Critical when at least this fraction of completions hits the max length (> 0, <= 1)."),
        .double("length_truncation.rising_ratio", \.lengthTruncation.risingRatio, .nonNegative,
                "Warning also at this fraction when it is 4x the early level and reward is flat (0: off; >= 0)."),
        .int("length_truncation.consecutive_steps", \.lengthTruncation.consecutiveSteps, .atLeast(1),
             "Training steps in a row each level must hold before it alerts (>= 1)."),
        .int("length_truncation.warmup_steps", \.lengthTruncation.warmupSteps, .nonNegative,
             "Training steps to see before this detector may fire (>= 0)."),

        .bool("stall.enabled", \.stall.enabled, "Alert when a run stops sending steps (serve and watch)."),
        .optionalDouble("stall.after_seconds", \.stall.afterSeconds, .positive, example: 600,
                        "Warning after this many seconds without a step; null: max(min_after_seconds, interval_multiplier x median step interval)."),
        .double("stall.min_after_seconds", \.stall.minAfterSeconds, .positive,
                "Shortest automatic warning time in seconds (> 0)."),
        .double("stall.interval_multiplier", \.stall.intervalMultiplier, .positive,
                "Automatic warning time = this many median intervals between steps (> 0)."),
        .optionalDouble("stall.critical_after_seconds", \.stall.criticalAfterSeconds, .positive, example: 1800,
                        "Critical after this many seconds without a step; null: critical_multiplier x the warning time."),
        .double("stall.critical_multiplier", \.stall.criticalMultiplier, .positive,
                "Automatic critical time = this many warning times (> 0)."),
        .double("stall.forget_after_seconds", \.stall.forgetAfterSeconds, .positive,
                "A run silent this long is abandoned: not tracked again after a restart (> 0)."),
        .double("stall.check_interval_seconds", \.stall.checkIntervalSeconds, .positive,
                "How often the watchdog checks the live runs, in seconds (> 0)."),

        .bool("crash.enabled", \.crash.enabled,
              "Critical alert when the client reports that the training process died (uncaught exception, exit code)."),

        .bool("throughput.enabled", \.throughput.enabled,
              "Alert when steps/min (or tokens/s) stays far below the run's own median."),
        .double("throughput.drop_fraction", \.throughput.dropFraction, .openUnitInterval,
                "Warning when the rate stays below this fraction of the run's median (between 0 and 1)."),
        .double("throughput.window_seconds", \.throughput.windowSeconds, .positive,
                "The rate is measured over this many seconds of arrivals (> 0)."),
        .double("throughput.sustained_seconds", \.throughput.sustainedSeconds, .nonNegative,
                "The rate must stay low this long before it alerts, in seconds (>= 0)."),
        .double("throughput.warmup_seconds", \.throughput.warmupSeconds, .nonNegative,
                "The run's first seconds build the baseline and are not judged (>= 0)."),

        .metricKeyMap("metrics.keys", \.metrics.keys, names: MetricsConfig.targets,
                      reservedKeys: MetricsConfig.structuralKeys,
                      "Logged key -> rlwatch metric, beating the built-in aliases, e.g. {\"my/entropy\": entropy}; null: unmapped."),

        .bool("alerts.slack.enabled", \.alerts.slack.enabled,
              "Send alerts to Slack; set automatically when webhook_url is set, unless written as false here."),
        .string("alerts.slack.webhook_url", \.alerts.slack.webhookURL, secret: true,
                "Slack incoming-webhook URL (a secret: prefer RLWATCH_SLACK_WEBHOOK_URL)."),
        .string("alerts.slack.channel", \.alerts.slack.channel, "Slack channel name, such as #training-alerts."),
        .strings("alerts.slack.mention_users", \.alerts.slack.mentionUsers, "Slack user IDs to mention."),

        .bool("alerts.email.enabled", \.alerts.email.enabled,
              "Send alerts by email; set automatically when to_addrs is set, unless written as false here."),
        .string("alerts.email.smtp_host", \.alerts.email.smtpHost, "SMTP server host name."),
        .int("alerts.email.smtp_port", \.alerts.email.smtpPort, .port, "SMTP port (1-65535)."),
        .string("alerts.email.smtp_user", \.alerts.email.smtpUser,
                "SMTP login; rlwatch logs in only when both user and password are set."),
        .string("alerts.email.smtp_password", \.alerts.email.smtpPassword, secret: true,
                "SMTP password (a secret: prefer RLWATCH_SMTP_PASSWORD)."),
        .string("alerts.email.from_addr", \.alerts.email.fromAddr, "Sender address."),
        .strings("alerts.email.to_addrs", \.alerts.email.toAddrs, "Recipient addresses."),
        .choice("alerts.email.security", \.alerts.email.security, ["starttls", "tls", "none"],
                "starttls (port 587), tls (implicit TLS, port 465) or none (local relay only; never sends a password)."),
        .string("alerts.email.ca_cert_file", \.alerts.email.caCertFile,
                "PEM file of CA certificates to trust for the SMTP server; empty uses the system's."),

        .bool("alerts.discord.enabled", \.alerts.discord.enabled,
              "Send alerts to Discord; set automatically when webhook_url is set, unless written as false here."),
        .string("alerts.discord.webhook_url", \.alerts.discord.webhookURL, secret: true,
                "Discord webhook URL (a secret: prefer RLWATCH_DISCORD_WEBHOOK_URL)."),
        .string("alerts.discord.username", \.alerts.discord.username, "Name the alerts are posted under."),
        .string("alerts.discord.avatar_url", \.alerts.discord.avatarURL,
                "Avatar image URL; empty keeps the webhook's own."),
        .strings("alerts.discord.mention_role_ids", \.alerts.discord.mentionRoleIDs,
                 "Role IDs mentioned on critical alerts."),

        .bool("alerts.webhook.enabled", \.alerts.webhook.enabled,
              "Send alerts to an HTTP endpoint; set automatically when url is set, unless written as false here."),
        .string("alerts.webhook.url", \.alerts.webhook.url, secret: true,
                "Endpoint URL (a secret: prefer RLWATCH_WEBHOOK_URL)."),
        .choice("alerts.webhook.method", \.alerts.webhook.method, httpMethods, caseInsensitive: true,
                "HTTP method: POST, PUT, PATCH, GET, DELETE, HEAD or OPTIONS."),
        .stringMap("alerts.webhook.headers", \.alerts.webhook.headers, secretValues: true,
                   "Extra request headers, such as Authorization (values are secrets)."),
        .string("alerts.webhook.template_json", \.alerts.webhook.templateJSON,
                "Body template with ${detector}, ${severity}, ${step}, ${metrics_json}, ...; empty sends the default."),
        .double("alerts.webhook.timeout_seconds", \.alerts.webhook.timeoutSeconds, .positive,
                "Request timeout in seconds (> 0)."),

        .int("alerts.cooldown_steps", \.alerts.cooldownSteps, .nonNegative,
             "The same detector at the same severity does not re-fire within this many steps (>= 0)."),
        .int("alerts.max_alerts_per_run", \.alerts.maxAlertsPerRun, .nonNegative,
             "At most this many alerts are delivered per run; later ones are stored as suppressed (>= 0)."),

        .bool("alerts.pagerduty.enabled", \.alerts.pagerduty.enabled,
              "Page PagerDuty on critical alerts; set automatically when routing_key is set, unless written as false here."),
        .string("alerts.pagerduty.routing_key", \.alerts.pagerduty.routingKey, secret: true,
                "Events API v2 routing key (a secret: prefer RLWATCH_PAGERDUTY_ROUTING_KEY)."),
        .string("alerts.pagerduty.url", \.alerts.pagerduty.url, "Events API endpoint."),

        .int("alerts.retry.max_attempts", \.alerts.retry.maxAttempts, .atLeast(1),
             "Delivery attempts per alert and channel, the first included (>= 1)."),
        .double("alerts.retry.initial_backoff_seconds", \.alerts.retry.initialBackoffSeconds, .positive,
                "Wait before the first retry; later waits double, with jitter (> 0)."),
        .double("alerts.retry.max_backoff_seconds", \.alerts.retry.maxBackoffSeconds, .positive,
                "Longest wait between attempts, Retry-After included (> 0)."),
        .double("alerts.retry.lease_seconds", \.alerts.retry.leaseSeconds, .positive,
                "How long a delivery being sent is reserved; a crashed sender's is retried after it (> 0)."),

        .string("storage.log_dir", \.storage.logDir, "Directory holding the metrics database."),
        .string("storage.db_name", \.storage.dbName, "Database file name inside log_dir."),
        .string("storage.url", \.storage.url, secret: true,
                "Shared database, postgres://USER@HOST:PORT/DB?sslmode=require (prefer RLWATCH_DATABASE_URL); empty: SQLite."),
        .int("storage.retention_days", \.storage.retentionDays, .nonNegative,
             "Delete metric rows older than this many days, keeping runs and alerts; 0 keeps everything (>= 0)."),

        .int("dashboard.port", \.dashboard.port, .port, "Dashboard port (1-65535)."),
        .string("dashboard.host", \.dashboard.host,
                "Dashboard bind address; 127.0.0.1 keeps it on this machine, 0.0.0.0 exposes it."),

        .choice("actions.on_critical", \.actions.onCritical, ActionsConfig.TrainingAction.allCases.map(\.rawValue),
                "Python client, on a matching alert: none (notify only), stop, or save_and_stop (checkpoint, then stop)."),
        .metricKeyMap("actions.detectors", \.actions.detectors,
                      names: ActionsConfig.TrainingAction.allCases.map(\.rawValue), reservedKeys: [],
                      allowedKeys: (DetectorID.all + DetectorID.liveness).map(\.rawValue),
                      "Per-detector override of on_critical, e.g. {loss_nan: stop, reward_hacking: none}."),
        .choice("actions.min_severity", \.actions.minSeverity, Severity.allCases.map(\.rawValue),
                "The least severe alert that triggers an action: critical or warning."),
        .strings("actions.command", \.actions.command,
                 "watch/serve: program and arguments run once per matching alert, alert JSON on stdin; empty: none."),
        .bool("actions.shell", \.actions.shell, "Run command through /bin/sh -c (its items joined by spaces)."),
        .double("actions.timeout_seconds", \.actions.timeoutSeconds, .positive,
                "The command is killed after this many seconds (> 0)."),
        .bool("actions.dry_run", \.actions.dryRun, "Log and record what would be done, and do nothing."),
    ]

    /// One line above each section in the `init` template.
    static let sectionComments: [String: String] = [
        "entropy_collapse": "Policy entropy staying far below the run's early level for many steps in a row.",
        "kl_explosion": "KL divergence spiking far above its baseline.",
        "reward_hacking": "Reward variance exploding, or per-sample rewards turning bimodal.",
        "advantage_variance": "Advantage standard deviation blowing up relative to its baseline.",
        "loss_nan": "Loss becoming NaN or infinite (critical on every such step).",
        "gradient_norm_spike": "Gradient norm spiking above its baseline.",
        "reward_mean_drift": "Mean reward drifting the same way for many steps in a row.",
        "entropy_explosion": "Policy entropy rising far above its own early baseline.",
        "learning_signal_dead": "Every GRPO group's rewards identical (frac_reward_zero_std ~1): nothing is learned.",
        "length_truncation": "Completions cut at the maximum completion length (clipped ratio near 1).",
        "stall": "A run that stops sending steps (a hang, a job killed without a trace).",
        "crash": "A training process that dies, as its Python client reports.",
        "throughput": "A run slowing down: steps per minute (or tokens per second) well below its own median.",
        "metrics": "Your own metric names: which logged key feeds which rlwatch metric.",
        "alerts": "Where alerts are sent, and how often.",
        "alerts.slack": "Slack incoming webhook.",
        "alerts.email": "Email over SMTP.",
        "alerts.discord": "Discord webhook.",
        "alerts.webhook": "Any HTTP endpoint; the body is JSON.",
        "alerts.pagerduty": "PagerDuty Events API v2 (critical alerts only).",
        "alerts.retry": "Retries of failed deliveries.",
        "storage": "Where metrics and alerts are stored.",
        "dashboard": "The web dashboard.",
        "actions": "Acting on alerts (opt-in): stop training, run a command. Default: notify only.",
    ]

    static let fieldsByKey: [String: ConfigField] = Dictionary(
        fields.map { ($0.key, $0) },
        uniquingKeysWith: { first, _ in first }
    )

    /// Whether some key lives under `path` (`["alerts"]`, `["alerts", "slack"]`).
    static func isSection(_ path: [String]) -> Bool {
        fields.contains { $0.path.count > path.count && Array($0.path.prefix(path.count)) == path }
    }

    /// The names directly under `path` (keys and subsections), in schema order.
    static func names(under path: [String]) -> [String] {
        var seen: Set<String> = []
        var names: [String] = []
        for field in fields where field.path.count > path.count && Array(field.path.prefix(path.count)) == path {
            let name = field.path[path.count]
            if seen.insert(name).inserted { names.append(name) }
        }
        return names
    }
}
