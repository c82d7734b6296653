import RLWatchCore
import RLWatchIngest

/// One labelled log of a real-run corpus: where it is, how to read it, and what happened in it.
///
/// Labels come from the log's numbers and its authors' notes, never from what rlwatch says (see the corpus
/// README): the failure ``events`` a monitor must catch, and the ``healthyStretches`` on which any alert is a
/// false alarm. Steps between them are unlabelled, and alerts there count neither way.
public struct CorpusRun: Sendable, Hashable {
    public enum Format: String, Sendable, CaseIterable {
        case jsonl
        case trainerState = "trainer-state"
        case csv
    }

    /// Where a log was taken from.
    public struct Source: Sendable, Hashable {
        public var repo: String
        public var path: String
        public var commit: String
        public var url: String?

        public init(repo: String, path: String, commit: String, url: String? = nil) {
            (self.repo, self.path, self.commit, self.url) = (repo, path, commit, url)
        }
    }

    public var id: String
    /// The log's path, resolved against the corpus directory.
    public var file: String
    public var format: Format
    public var framework: String
    public var source: Source
    public var selection: RowSelection
    /// The `metrics.keys` mapping a user would write for the log's custom key names.
    public var keys: [String: String]
    /// Whether the whole run is healthy (no events; every step a healthy stretch unless stretches are given).
    public var healthy: Bool
    /// Training steps between log rows, when the labeller stated it (otherwise the median step gap).
    public var interval: Int?
    public var events: [LabelledEvent]
    public var healthyStretches: [StepStretch]
    public var notes: String?
    /// Where the entry is written: `file:line` of its manifest.
    public var location: String

    public init(
        id: String, file: String, format: Format, framework: String, source: Source, selection: RowSelection,
        keys: [String: String], healthy: Bool, interval: Int?, events: [LabelledEvent], healthyStretches: [StepStretch],
        notes: String?, location: String
    ) {
        self.id = id
        self.file = file
        self.format = format
        self.framework = framework
        self.source = source
        self.selection = selection
        self.keys = keys
        self.healthy = healthy
        self.interval = interval
        self.events = events
        self.healthyStretches = healthyStretches
        self.notes = notes
        self.location = location
    }
}

/// A failure in a labelled run.
public struct LabelledEvent: Sendable, Hashable {
    public var kind: String
    /// The first step a competent engineer watching the run would act on.
    public var onset: Int
    /// The earliest step an alert counts as a catch of this event (a precursor); `onset` by default.
    public var from: Int
    /// The latest step at which an alert still helps: a catch up to here is on time.
    public var latest: Int
    /// The end of the episode: a catch up to here is late; alerts up to here belong to the event.
    public var end: Int
    /// Detectors whose alert is a legitimate catch.
    public var detectors: Set<DetectorID>
    /// Whether a miss counts against the monitor (false: an ambiguous failure, where only a catch counts).
    public var required: Bool
    public var reason: String

    public init(
        kind: String, onset: Int, from: Int, latest: Int, end: Int, detectors: Set<DetectorID>, required: Bool,
        reason: String
    ) {
        self.kind = kind
        self.onset = onset
        self.from = from
        self.latest = latest
        self.end = end
        self.detectors = detectors
        self.required = required
        self.reason = reason
    }

    /// Whether `step` lies in the event's window `[from, end]`.
    public func covers(_ step: Int) -> Bool { step >= from && step <= end }
}

/// A stretch of steps `[from, to]` (inclusive) labelled healthy, with the reason read off the numbers.
public struct StepStretch: Sendable, Hashable {
    public var from: Int
    public var to: Int
    public var reason: String

    public init(from: Int, to: Int, reason: String) {
        (self.from, self.to, self.reason) = (from, to, reason)
    }

    public func contains(_ step: Int) -> Bool { step >= from && step <= to }
}
