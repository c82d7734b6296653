import ArgumentParser
import Foundation
import RLWatch
import RLWatchCore
import RLWatchEval

extension RLWatchCommand {
    struct Eval: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Score the detectors on a labelled corpus of real runs: failures caught, missed, false alarms.",
            discussion: """
                CORPUS is a directory with manifest.yaml or manifest.d/*.yaml (or one manifest file): YAML lists \
                of labelled logs (see Tests/Fixtures/RealRuns/README.md). Every log is replayed with the default \
                configuration (or --config) plus its own key mapping, and the delivered alerts are scored against \
                its labels. With --baseline, exits 1 when the score falls below the committed one.
                """)

        enum Format: String, ExpressibleByArgument, CaseIterable { case text, json }

        @Argument(help: "The corpus directory (or a manifest file).")
        var corpus: String

        @Option(help: "Output: text (a table per run and the totals) or json.")
        var format: Format = .text

        @Option(name: .customLong("config"), help: "Replay with this rlwatch.yaml instead of the default configuration.")
        var configPath: String?

        @Option(help: "Exit 1 when the score is below the one in this baseline file (eval-baseline.json).")
        var baseline: String?

        @Option(name: .customLong("write-baseline"), help: "Write this evaluation's score to a baseline file.")
        var writeBaseline: String?

        @Option(
            help: ArgumentHelp(
                "Score the alerts in this JSONL file instead of replaying the logs (another monitor's, e.g. rlwatch 0.5.1).",
                discussion: "One {\"run\", \"step\", \"detector\", \"severity\"} object per line."))
        var alerts: String?

        @Option(help: "Only the runs whose id contains this text.")
        var only: String?

        @Flag(name: .shortAndLong, help: "List every event's catch, every false alarm and every unscored alert.")
        var verbose = false

        func run() async throws {
            var config = RLWatchConfig()
            if let configPath {
                do {
                    config = try ConfigLoader(environment: [:]).load(configPath: configPath).config
                } catch {
                    printError("error: \(error.description)")
                    throw ExitStatus.badInput
                }
            }
            let runs: [CorpusRun]
            var baselineValue: EvalBaseline?
            var external: [String: [Alert]]?
            do {
                external = try alerts.map(CorpusEvaluator.externalAlerts)
                runs = try CorpusManifest.load(corpus).filter { only == nil || $0.id.contains(only!) }
                baselineValue = try baseline.map(EvalBaseline.load)
            } catch let error as ManifestError {
                printError("error: \(error)")
                throw ExitStatus.badInput
            }
            let evaluator = CorpusEvaluator(config: config)
            var evaluations: [RunEvaluation] = []
            for run in runs {
                do {
                    if let external {
                        evaluations.append(try CorpusEvaluator.evaluate(run, externalAlerts: external[run.id] ?? []))
                    } else {
                        evaluations.append(try evaluator.evaluate(run))
                    }
                } catch {
                    printError("error: \(run.location): run \(run.id): \(error)")
                    throw ExitStatus.badInput
                }
            }
            let report = EvalReport(evaluations)
            switch format {
            case .text: print(report.text(verbose: verbose), terminator: "")
            case .json: print(report.json().prettyPrinted())
            }
            if let writeBaseline {
                let text = EvalBaseline(report.total).json.prettyPrinted() + "\n"
                do {
                    try text.write(toFile: writeBaseline, atomically: true, encoding: .utf8)
                } catch {
                    printError("error: cannot write \(writeBaseline): \(error.localizedDescription)")
                    throw ExitStatus.failure
                }
            }
            if let baselineValue, let regression = baselineValue.regression(report.total) {
                printError("eval: \(regression)")
                throw ExitStatus.failure
            }
        }
    }
}
