import Foundation
import RLWatch
import RLWatchAlerts
import RLWatchCore
import RLWatchIngest
import RLWatchStore
import RLWatchServer
import RLWatchTensorBoard
import RLWatchTrackers

/// One input rlwatch reads from outside, driven with arbitrary bytes.
///
/// Each target feeds the bytes to the reader exactly as the product does and checks what must hold whatever the
/// input: the reader returns or throws its typed error (never traps), an error names what is wrong, and what a
/// reader accepts can go on through the detectors without trapping. A violated property stops the process with
/// `preconditionFailure`, which libFuzzer reports as a crash with the input that caused it.
///
/// `scripts/fuzz` runs each target coverage-guided (libFuzzer, with AddressSanitizer) from the seeds in
/// `Fuzz/Corpus/<target>/`; `FuzzRegressionTests` runs every committed seed through every target in the
/// normal test suite, so an input that once crashed stays a test.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// One line of a JSONL metrics log (`replay`, `watch`, stdin), through ``MetricsLineParser``.
    case metricsLine = "metrics-line"
    /// A whole JSONL metrics file through ``MetricsJSONLReader`` with veRL's key map (its file logger's lines).
    case jsonlFile = "jsonl-file"
    /// The body of `POST /api/v1/runs/{run}/steps`, through the server's batch decoder.
    case stepBatch = "step-batch"
    /// A TensorBoard event file (TFRecord frames of `Event` protos), through ``TensorBoardEventReader``.
    case tensorboard
    /// A Hugging Face `trainer_state.json`, through ``TrainerStateReader``.
    case trainerState = "trainer-state"
    /// A CSV or JSONL file read with a row selection, through ``SelectedRowsReader`` (replay's CSV path).
    case selectedRows = "selected-rows"
    /// An `rlwatch.yaml`, through the YAML loader and the schema's validation.
    case configYAML = "config-yaml"
    /// A webhook `template_json` with an alert's values substituted, then checked as strict JSON.
    case webhookTemplate = "webhook-template"
    /// A sequence of steps (step numbers anywhere in Int's range, any Double) through every detector and the
    /// alert policy: the arithmetic on steps and values must never trap.
    case analyzer
    /// A W&B transaction log (LevelDB framing of `Record` protos), through ``WandbLog`` as `watch` reads it.
    case wandb

    /// Runs one input.
    public func run(_ data: [UInt8]) {
        switch self {
        case .metricsLine: Self.metricsLine(data)
        case .jsonlFile: Self.withFile(data, name: "metrics.jsonl") { Self.jsonlFile($0) }
        case .stepBatch: Self.stepBatch(data)
        case .tensorboard: Self.withFile(data, name: "events.out.tfevents.1.host") { Self.tensorboard($0) }
        case .trainerState: Self.withFile(data, name: "trainer_state.json") { Self.trainerState($0) }
        case .selectedRows: Self.selectedRows(data)
        case .configYAML: Self.configYAML(data)
        case .webhookTemplate: Self.webhookTemplate(data)
        case .analyzer: Self.analyzer(data)
        case .wandb: Self.withFile(data, name: "run-fuzz.wandb") { Self.wandb($0) }
        }
    }

    // MARK: Targets

    private static func metricsLine(_ data: [UInt8]) {
        var parser = MetricsLineParser()
        let parsed = data.withUnsafeBytes { bytes in Result { () throws(MetricsLineError) in try parser.parse(bytes) } }
        switch parsed {
        case .success(let step): analyze([step])
        case .failure(let error): requireDescribed(error)
        }
        var raw = MetricsLineParser()
        _ = data.withUnsafeBytes { bytes in try? raw.parseRaw(bytes) }
    }

    private static func jsonlFile(_ path: String) {
        var steps: [MetricStep] = []
        let reader = MetricsJSONLReader(path: path, keyMap: MetricKeyMap(overrides: [:]))
        do {
            try reader.forEachLine { line, result in
                precondition(line >= 1, "line numbers are 1-based")
                switch result {
                case .success(let step): if steps.count < 256 { steps.append(step) }
                case .failure(let error): requireDescribed(error)
                }
            }
        } catch {
            requireDescribed(error)
        }
        analyze(steps)
    }

    private static func stepBatch(_ data: [UInt8]) {
        let decoder = StepBatchDecoder(maxRewardsPerStep: 4096, maxStepsPerBatch: 1000)
        for format in [StepBatchDecoder.Format.sniff, .jsonArray, .ndjson] {
            do {
                let steps = try decoder.decode(data, format: format)
                precondition(steps.count <= 1000, "a batch over the step cap was accepted")
                analyze(Array(steps.prefix(256)))
            } catch {
                requireDescribed(error)
            }
        }
    }

    private static func tensorboard(_ path: String) {
        var reader = TensorBoardEventReader(path: path, maximumRecordLength: 1 << 20)
        var assembler = TensorBoardStepAssembler()
        var steps: [MetricStep] = []
        var polls = 0
        while polls < 64 {
            polls += 1
            do {
                let poll = try reader.poll(maxBytes: 4096)
                precondition(poll.endOffset >= poll.startOffset, "the reader went backwards")
                for step in assembler.add(poll.scalars) where steps.count < 256 {
                    steps.append(MetricKeyMap.builtIn.makeStep(step: step.step, values: step.values))
                }
                if poll.reachedEnd { break }
            } catch {
                requireDescribed(error)
                // What `watch` does with a corrupt record: skip it and go on, or stop when nothing can be skipped.
                guard reader.skipCorruptRecord() else { break }
            }
        }
        if let last = assembler.flush(), steps.count < 256 {
            steps.append(MetricKeyMap.builtIn.makeStep(step: last.step, values: last.values))
        }
        analyze(steps)
    }

    private static func wandb(_ path: String) {
        let log = WandbLog(path: path)
        var steps: [MetricStep] = []
        for _ in 0..<64 {
            let read: TrackerRead
            do {
                read = try log.read(limit: 16, final: true, strict: false)
            } catch {
                requireDescribed(error)
                break
            }
            if let failure = read.failure { precondition(!failure.isEmpty, "an empty failure") }
            for row in read.rows where steps.count < 256 {
                steps.append(MetricKeyMap.builtIn.makeStep(step: row.step, values: row.values))
            }
            if !read.hasMore { break }
        }
        analyze(steps)
    }

    private static func trainerState(_ path: String) {
        let reader = TrainerStateReader(path: path)
        var steps: [MetricStep] = []
        do {
            _ = try reader.progress()
            try reader.forEachStep { step in if steps.count < 256 { steps.append(step) } }
        } catch {
            requireDescribed(error)
        }
        analyze(steps)
    }

    private static func selectedRows(_ data: [UInt8]) {
        for format in SelectedRowsReader.Format.allCases {
            withFile(data, name: "rows.\(format.rawValue)") { path in
                var steps: [MetricStep] = []
                do {
                    try SelectedRowsReader(path: path, format: format).forEachLine { line in
                        if steps.count < 256 { steps.append(MetricKeyMap.builtIn.makeStep(step: line.step, values: line.values)) }
                    }
                } catch {
                    requireDescribed(error)
                }
                analyze(steps)
            }
        }
    }

    private static func configYAML(_ data: [UInt8]) {
        guard let text = String(validating: data, as: UTF8.self) else { return }
        do {
            let resolved = try RLWatchConfig.parse(yaml: text, file: "fuzz.yaml")
            // An accepted configuration must be usable: detectors built from it run a few steps.
            let analyzer = RunAnalyzer(config: resolved.config)
            for step in 1...8 {
                _ = analyzer.process(MetricStep(step: step, entropy: 1, klDivergence: 0.01, rewardMean: 0.5, loss: 1))
            }
        } catch {
            requireDescribed(error)
        }
    }

    private static func webhookTemplate(_ data: [UInt8]) {
        // The first line is the template; the rest is an alert message (any text a metric key may carry).
        let text = String(decoding: data, as: UTF8.self)
        let parts = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
        let template = String(parts.first ?? "")
        let message = parts.count > 1 ? String(parts[1]) : ""
        let body = WebhookChannel.substitute(
            template, ["message": WebhookChannel.escaped(message), "step": "1", "detector": "\"kl_explosion\""])
        if let problem = JSONReader.problem(in: body) {
            precondition(!problem.message.isEmpty, "the strict reader rejected a body without saying why")
        }
        // The escaped message is always a valid JSON string body.
        precondition(
            JSONReader.problem(in: "\"" + WebhookChannel.escaped(message) + "\"") == nil, "escaped text is not a JSON string")
    }

    private static func analyzer(_ data: [UInt8]) {
        var bytes = ByteReader(data)
        var steps: [MetricStep] = []
        var step = 0
        while !bytes.isAtEnd, steps.count < 512 {
            let flags = bytes.byte()
            // Mostly small forward moves; sometimes a jump anywhere in Int's range (restarts, overflow edges).
            if flags & 0x80 != 0 {
                step = Int(truncatingIfNeeded: bytes.uint64())
            } else {
                step &+= Int(Int8(bitPattern: bytes.byte()))
            }
            var metrics = MetricStep(step: step)
            for (bit, metric) in MetricName.allCases.enumerated() where flags & (1 << (bit % 7)) != 0 {
                metrics[metric] = bytes.double()
            }
            if flags & 0x40 != 0 {
                let count = Int(bytes.byte() % 16)
                metrics.rewards = (0..<count).map { _ in bytes.double() }
                for key in ["frac_reward_zero_std", "completions/clipped_ratio", "completions/mean_length"] {
                    metrics.extras[key] = bytes.double()
                }
            }
            steps.append(metrics)
        }
        analyze(steps)
    }

    // MARK: Shared

    /// Runs steps through every detector with short warm-ups, so a few dozen steps reach every rule.
    private static func analyze(_ steps: [MetricStep]) {
        guard !steps.isEmpty else { return }
        let analyzer = RunAnalyzer(config: fuzzConfig, remembersRecentSteps: true)
        var records: [AlertRecord] = []
        for step in steps {
            _ = analyzer.isRepeat(step)
            let analyzed = analyzer.process(step)
            for outcome in analyzed.outcomes {
                precondition(!outcome.alert.message.isEmpty, "an alert without a message")
                precondition(!outcome.alert.recommendation.isEmpty, "an alert without a recommendation")
                records.append(AlertRecord(runID: "fuzz", timestamp: 0, alert: outcome.alert, disposition: outcome.disposition))
            }
        }
        // What `diagnose` and the dashboard's run page do with the stored steps and alerts.
        let diagnosis = Diagnosis(
            run: RunRecord(runID: "fuzz", framework: "custom", startedAt: 0, configJSON: "{}"), steps: steps,
            alerts: records)
        _ = DiagnosisRenderer.text(diagnosis)
        _ = DiagnosisRenderer.markdown(diagnosis)
        _ = DiagnosisRenderer.json(diagnosis)
    }

    private static let fuzzConfig: RLWatchConfig = {
        let yaml = """
            entropy_collapse: {warmup_steps: 2}
            kl_explosion: {warmup_steps: 2, rolling_window: 8}
            reward_hacking: {warmup_steps: 2}
            gradient_norm_spike: {warmup_steps: 2}
            """
        return (try? RLWatchConfig.parse(yaml: yaml).config) ?? RLWatchConfig()
    }()

    private static func requireDescribed(_ error: any Error) {
        let text = String(describing: error)
        precondition(!text.isEmpty, "an error without a description: \(type(of: error))")
    }

    /// Writes the bytes to a file of this process's own and runs `body` with its path.
    private static func withFile(_ data: [UInt8], name: String, _ body: (String) -> Void) {
        let directory = scratchDirectory
        let path = directory + "/" + name
        FileManager.default.createFile(atPath: path, contents: Data(data))
        body(path)
    }

    private static let scratchDirectory: String = {
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        let path = base + "/rlwatch-fuzz-\(getpid())"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()
}

/// Reads fixed-size values from the fuzzer's bytes, giving zeros past the end.
private struct ByteReader {
    private let data: [UInt8]
    private var index = 0

    init(_ data: [UInt8]) { self.data = data }

    var isAtEnd: Bool { index >= data.count }

    mutating func byte() -> UInt8 {
        guard index < data.count else { return 0 }
        defer { index += 1 }
        return data[index]
    }

    mutating func uint64() -> UInt64 {
        (0..<8).reduce(0) { value, shift in value | UInt64(byte()) << (8 * UInt64(shift)) }
    }

    /// A value from a palette of the ones that break arithmetic, or any bit pattern.
    mutating func double() -> Double {
        let selector = byte()
        switch selector % 8 {
        case 0: return Double(bitPattern: uint64())
        case 1: return [.nan, .infinity, -.infinity, 0, -0.0, .greatestFiniteMagnitude, .leastNonzeroMagnitude,
                        -.greatestFiniteMagnitude][Int(byte() % 8)]
        default: return Double(Int8(bitPattern: byte())) / Double(max(1, Int(selector)))
        }
    }
}
