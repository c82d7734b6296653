import Foundation
import Logging
import RLWatchCore
import RLWatchIngest
import RLWatchStore

/// `rlwatch watch`: polls the logs a trainer writes and feeds their new steps through the ``RunPipeline`` (as
/// `replay` feeds finished logs), storing each source's position in the same transaction as the steps it covers.
///
/// Lifecycle: ``start(targets:config:runID:store:sinks:options:logger:report:)`` picks the run id, checks
/// the store, restores the detectors from the run's stored rows and each source from its checkpoint;
/// ``pollOnce(until:)`` reads everything new once; ``run(clock:until:)`` polls until the logs are read (no
/// follow) or it is told to stop (follow); ``finish()`` marks the run finished. A restarted watch of the same paths
/// continues the same run where the stored steps end: no step lost, none counted twice, no old alert
/// raised again.
///
/// Not `Sendable`: one task drives a watcher. A ``WatchStopSignal`` stops ``run(clock:until:)`` between
/// two batches, with everything read so far stored.
public final class Watcher {
    /// How a watch reads.
    public struct Options: Sendable {
        /// Keep polling for new data (`--follow`), or read what is there and stop (`--no-follow`).
        public var follow: Bool
        /// The pause between two polls when following.
        public var pollInterval: Duration
        /// A malformed line stops the watch instead of being skipped with a warning.
        public var strict: Bool
        /// The most steps judged and stored in one transaction.
        public var batchSize: Int
        /// Also say which detectors get no input (after the note naming each metric's key).
        public var explain: Bool
        /// Name each metric's logged key once the first steps are read.
        public var describeKeys: Bool
        /// The wall clock of the liveness detectors (when data arrived, how long the files have been quiet).
        public var wallClock = AnyWallClock.system
        /// The processes that have one of the watched files open now (nil: cannot tell). Not whether the run
        /// ended: TensorBoard's writer without TensorFlow (what TRL uses) opens, appends and closes the file at
        /// every write, so a file nobody holds may belong to a hung trainer. A process seen holding a file that
        /// is later gone, with no end-of-training summary written, is said to have died.
        public var fileHolders: @Sendable ([String]) -> Set<Int32>? = { OpenFileProbe.holders(of: $0) }
        /// Whether a process is still alive (a stopped one is).
        public var processAlive: @Sendable (Int32) -> Bool = { OpenFileProbe.isAlive($0) }
        /// The least wall-clock time between two looks at which processes hold the files (each reads `/proc`).
        public var holderProbeInterval: Double = 5

        public init(
            follow: Bool, pollInterval: Duration = .seconds(1), strict: Bool = false, batchSize: Int = 4096,
            explain: Bool = false, describeKeys: Bool = true
        ) {
            self.follow = follow
            self.pollInterval = pollInterval
            self.strict = strict
            self.batchSize = max(1, batchSize)
            self.explain = explain
            self.describeKeys = describeKeys
        }
    }

    /// What a watch did.
    public struct Summary: Sendable {
        /// Steps read and judged by this watch (restored ones not included).
        public var steps = 0
        /// Rows restored from the store when the watch started.
        public var restoredSteps = 0
        /// The step number of the last restored row: where the resumed run continues.
        public var restoredThroughStep: Int?
        public var delivered: [Alert] = []
        public var suppressed = 0

        /// What this watch judged.
        public var tally: RunTally { RunTally(steps: steps, delivered: delivered, suppressed: suppressed) }

        /// The most severe delivered alert, if any.
        public var worstSeverity: Severity? { tally.worstSeverity }

        /// The closing line of a text watch.
        public func line(runID: String) -> String {
            tally.line("Watched", runID: runID, qualifier: "new ", restored: restoredSteps)
        }
    }

    public let runID: String
    /// Judges, stores and tallies the steps read.
    public let pipeline: RunPipeline
    public var monitor: Monitor { pipeline.monitor }
    /// What this watch did so far.
    public var summary: Summary {
        let tally = pipeline.tally
        return Summary(
            steps: tally.steps, restoredSteps: restoredSteps, restoredThroughStep: restoredThroughStep,
            delivered: tally.delivered, suppressed: tally.suppressed)
    }
    private var restoredSteps = 0
    private var restoredThroughStep: Int?
    let targets: [WatchTarget]
    private let store: any Store
    let options: Options
    private let keyMap: MetricKeyMap
    let report: (WatchNote) -> Void
    private var sources: [any WatchSource] = []
    private var known: Set<String> = []
    private var coverage = WatchCoverage()
    private var explained = false
    /// Whether a poll has run: sources found after it are new files, said so.
    private var polled = false
    /// `run_stalled` and `throughput_drop` for a followed run, on arrival times.
    private var liveness: LivenessTracker
    /// Whether a source said the trainer ended training (its end-of-training summary): not stalled, finished.
    private var writerEnded = false
    /// The processes seen holding a watched file, and when the holders were last looked up.
    private var writers: Set<Int32> = []
    private var lastHolderProbe: Double?
    /// The trainer's checkpoint folders found so far, and when they were last looked for.
    var checkpointFolders: Set<String> = []
    var lastCheckpointScan: Double?

    private init(
        runID: String, monitor: Monitor, targets: [WatchTarget], store: any Store, options: Options,
        keyMap: MetricKeyMap, report: @escaping (WatchNote) -> Void
    ) {
        self.runID = runID
        pipeline = RunPipeline(monitor: monitor)
        self.targets = targets
        self.store = store
        self.options = options
        self.keyMap = keyMap
        self.report = report
        liveness = LivenessTracker(config: monitor.config)
    }

    /// Opens a watch: picks the run id, resumes the run and each source where the store says they stopped.
    ///
    /// - Parameters:
    ///   - targets: the watched files and directories.
    ///   - config: the resolved configuration (its `run_id`, if set, names the run when `runID` is nil).
    ///   - runID: `--run-id`; nil: the config's, else one derived from the paths (``WatchRunID``).
    ///   - store: where steps, alerts and checkpoints go.
    ///   - sinks: where delivered alerts are printed.
    ///   - report: receives progress, warnings and the key note, in order.
    ///   - queueDeliveries: write an outbox entry per enabled alert channel with each delivered alert (an alert
    ///     dispatcher beside the watch sends them).
    /// - Throws: ``WatchError`` when the run holds steps that no watch of these paths stored; the store's
    ///   errors.
    public static func start(
        targets: [WatchTarget], config: RLWatchConfig, runID: String? = nil, store: any Store,
        sinks: [any AlertSink] = [], options: Options, logger: Logger = .current,
        queueDeliveries: Bool = false, report: @escaping (WatchNote) -> Void
    ) async throws -> Watcher {
        let chosen = runID.flatMap { $0.isEmpty ? nil : $0 } ?? (config.runID.isEmpty ? nil : config.runID)
        let id = chosen ?? WatchRunID.derive(from: targets.map(\.path))
        let stored = try await store.run(id: id) != nil ? try await store.stepCount(runID: id) : 0

        var checkpoints: [String: SourceCheckpoint] = [:]
        for target in targets {
            for source in target.sourceIDs() {
                if let checkpoint = try await store.checkpoint(source: source) { checkpoints[source] = checkpoint }
            }
        }
        if stored > 0, !checkpoints.values.contains(where: { $0.runID == id }) {
            throw WatchError.runHasOtherSteps(runID: id, steps: stored)
        }
        let framework = targets.lazy.compactMap(\.kind.format.framework).first
        let monitor = try await Monitor(
            config: config, runID: id, framework: framework ?? config.framework, store: store, sinks: sinks,
            queueDeliveries: queueDeliveries, logger: logger, clock: options.wallClock)
        let watcher = Watcher(
            runID: id, monitor: monitor, targets: targets, store: store, options: options,
            keyMap: MetricKeyMap(overrides: config.metrics.keys), report: report)
        if stored > 0 {
            let history = try await store.steps(runID: id)
            monitor.restore(from: history)
            watcher.restoredSteps = history.count
            watcher.restoredThroughStep = history.last?.metrics.step
            if let last = history.last {
                // Silent since the last row stored: a trainer that hung while no watch ran is found.
                watcher.liveness = LivenessTracker(config: config, lastStep: last.metrics.step, lastArrival: last.timestamp)
            }
        }
        watcher.discover(checkpoints: checkpoints)
        return watcher
    }

    /// Reads everything new in every source once (several batches if there is much), and stores it.
    ///
    /// - Returns: the number of steps read.
    /// - Throws: ``WatchError`` for malformed input under `strict` (after storing what came before it), or
    ///   when a source cannot be read; the store's errors.
    /// - Parameter stop: ends a long read between two batches.
    @discardableResult
    public func pollOnce(until stop: WatchStopSignal? = nil) async throws -> Int {
        var checkpoints: [String: SourceCheckpoint] = [:]
        for target in targets where target.isDirectory {
            for id in target.kind.list(target.path) where !known.contains(id) {
                if let checkpoint = try await store.checkpoint(source: id) { checkpoints[id] = checkpoint }
            }
        }
        discover(checkpoints: checkpoints)
        polled = true
        // Before the steps: an alert raised by this poll can then name a checkpoint saved up to now.
        await findTrainingCheckpoints()

        let before = pipeline.tally.steps
        let pollOptions = WatchPollOptions(
            limit: options.batchSize, final: !options.follow, strict: options.strict,
            keysWanted: explained ? 0 : 20, stopping: stopping)
        var more = true
        defer { stopping = false }
        while more {
            more = false
            for source in sources {
                if !stopping, stop?.isStopped == true || Task.isCancelled { return pipeline.tally.steps - before }
                let poll = try source.poll(pollOptions)
                for note in poll.notes { report(note) }
                if !explained, !poll.steps.isEmpty {
                    coverage.add(keys: poll.keys)
                    for step in poll.steps { coverage.add(step) }
                    explain()
                }
                if !poll.steps.isEmpty || poll.state != nil {
                    let checkpoint = poll.state.map {
                        SourceCheckpoint(source: source.id, runID: runID, state: $0)
                    }
                    try await pipeline.judge(poll.steps, checkpoint: checkpoint)
                    if options.follow, !poll.steps.isEmpty {
                        await record(liveness.stepsArrived(poll.steps, at: options.wallClock.now.secondsSince1970))
                    }
                }
                if let ended = poll.ended { writerFinished(ended, source: source.id) }
                if let crash = poll.crashed { await writerCrashed(crash, source: source.id) }
                if let failure = poll.failure { throw failure }
                more = more || poll.hasMore
            }
        }
        return pipeline.tally.steps - before
    }

    /// Says once, before the first steps are judged, which key feeds which metric (and with `explain`,
    /// which detectors get no input).
    private func explain() {
        explained = true
        if options.describeKeys || options.explain {
            report(WatchNote(.explanation, WatchExplanation.keyNote(coverage, keyMap: keyMap)))
        }
        if options.explain {
            for line in WatchExplanation.lines(coverage, config: monitor.config) {
                report(WatchNote(.explanation, line))
            }
        }
    }

    /// Polls until the logs are read (no follow) or `stop` is set (follow).
    ///
    /// A stop ends the pause between polls, or a long read between two batches; everything read so far is
    /// stored. (Cancelling the task stops it too, but the store may then refuse the last write.)
    /// - Parameters:
    ///   - clock: what the pause between polls is measured on.
    ///   - stop: set by a signal handler or a test.
    /// - Returns: what the watch did.
    /// - Throws: as ``pollOnce(until:)``.
    public func run<C: Clock>(clock: C, until stop: WatchStopSignal = WatchStopSignal()) async throws -> Summary
    where C.Duration == Duration {
        while !stop.isStopped, !Task.isCancelled {
            try await pollOnce(until: stop)
            guard options.follow else { break }
            await checkLiveness()
            await stop.pause(for: options.pollInterval, on: clock)
        }
        if options.follow, stop.isStopped, !Task.isCancelled {
            // Stopped while following: the last step may be held back only because the next has not started.
            try await stopPoll()
        }
        return summary
    }

    /// Runs the watch (``run(clock:until:)`` on the continuous clock) to its end, then marks the run finished whatever
    /// happened: a watch that stopped at bad input or a store failure still leaves a finished run.
    public func runAndFinish(until stop: WatchStopSignal) async -> Result<Summary, any Error> {
        let result: Result<Summary, any Error>
        do {
            result = .success(try await run(clock: ContinuousClock(), until: stop))
        } catch {
            result = .failure(error)
        }
        await finish()
        return result
    }

    /// Whether the poll running is the last one of a stopped watch (``WatchPollOptions/stopping``).
    private var stopping = false

    /// The last poll of a watch that was told to stop: reads what is new and hands over a step whose records are
    /// all written but that waits for the next step to start, so it is stored (and judged) instead of lost.
    /// A step still being written stays in the stored position for the next watch.
    public func stopPoll() async throws {
        stopping = true
        try await pollOnce()
    }

    /// A source said the trainer ended training: the run is finished, not stalled (until data arrives again).
    private func writerFinished(_ what: String, source: String) {
        liveness.finish()
        guard !writerEnded else { return }
        writerEnded = true
        report(WatchNote(.info, "\(source): \(what): the run finished; it is not reported as stalled"))
    }

    /// A source said the run crashed (its tracker recorded a failed exit): `run_crashed` is raised and the run is
    /// not reported stalled as well.
    private func writerCrashed(_ crash: CrashReport, source: String) async {
        writerEnded = true
        report(WatchNote(.warning, "\(source): the tracker recorded that the run crashed"))
        await record(liveness.crashed(crash))
    }

    /// Raises a stall when the watched files have been quiet too long and the trainer did not say training ended.
    ///
    /// "Finished" is what the trainer writes (TRL's end-of-training summary, see ``WatchPoll/ended``), never that
    /// no process holds the files: TensorBoard's writer without TensorFlow closes the file after every write, so
    /// a hung (SIGSTOPped) trainer holds nothing open. A process seen holding a watched file that has exited
    /// without that summary is said at once (it crashed or was killed); the stall follows at the stall limit.
    public func checkLiveness() async {
        let now = options.wallClock.now.secondsSince1970
        if !writerEnded, lastHolderProbe.map({ now - $0 >= options.holderProbeInterval }) ?? true {
            lastHolderProbe = now
            if let holders = options.fileHolders(sources.map(\.id)) { writers.formUnion(holders) }
            let gone = writers.filter { !options.processAlive($0) }
            if !gone.isEmpty {
                writers.subtract(gone)
                report(
                    WatchNote(
                        .warning,
                        "the process that wrote the watched files (pid \(gone.sorted().map(String.init).joined(separator: ", "))) "
                            + "exited without an end-of-training summary: the trainer crashed or was killed; the run is "
                            + "reported as stalled once its files stay quiet past the stall limit"))
            }
        }
        // Only the delivered ones count: a stall held back by the policy is checked again at every poll.
        await record(liveness.check(at: now), countingSuppressed: false)
    }

    /// Stores liveness findings through the pipeline; a store failure is reported, not thrown.
    private func record(_ findings: [LivenessFinding], countingSuppressed: Bool = true) async {
        guard !findings.isEmpty else { return }
        do {
            try await pipeline.record(
                findings, at: options.wallClock.now.secondsSince1970, countingSuppressed: countingSuppressed)
        } catch {
            report(WatchNote(.warning, "could not store \(findings.count) liveness alert(s): \(error)"))
        }
    }

    /// Marks the run finished in the store (a later watch of it reopens it).
    public func finish() async {
        try? await store.finishRun(id: runID, at: options.wallClock.now.secondsSince1970)
    }

    /// Adds the sources not tracked yet, resumed from their checkpoints when those belong to this run.
    private func discover(checkpoints: [String: SourceCheckpoint]) {
        for target in targets {
            for id in target.sourceIDs() where !known.contains(id) {
                known.insert(id)
                let source = target.kind.make(id)
                if let checkpoint = checkpoints[id] {
                    if checkpoint.runID == runID {
                        do {
                            try source.resume(from: checkpoint.state)
                        } catch {
                            report(
                                WatchNote(.warning, "the stored position of \(id) is unreadable; reading it from the start"))
                        }
                    } else {
                        report(
                            WatchNote(
                                .info, "\(id) was last watched as run \(checkpoint.runID); reading it from the start for run \(runID)"))
                    }
                } else if polled {
                    report(WatchNote(.info, "new file \(id)"))
                }
                sources.append(source)
            }
        }
    }
}
