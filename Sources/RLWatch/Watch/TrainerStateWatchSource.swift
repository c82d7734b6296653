import Foundation
import RLWatchCore
import RLWatchIngest

/// A TRL / Hugging Face `trainer_state.json`, which the trainer rewrites whole at each checkpoint save: a
/// file, or a directory holding one (directly, or in its `checkpoint-*` directories, whose newest is read).
///
/// Every rewrite holds the whole `log_history`, so a poll re-reads the document when it changed and hands
/// over only the training entries not seen yet. "Seen" is decided by content, not by count: the source keeps
/// a short fingerprint of every entry it handed over, and the new entries are those after the longest
/// common prefix. A document that no longer starts with what was read (a resume from an earlier checkpoint
/// rewrites the history after that checkpoint; a new run rewrites all of it) is said so, and its entries after
/// the common prefix are read as a new segment.
///
/// The trainer writes the file in place, not atomically, so a document that does not parse is taken to be
/// mid-write and read again at the next change; it is reported only if it stays broken.
final class TrainerStateWatchSource: WatchSource {
    /// The stored position: JSON of this.
    struct State: Codable, Hashable {
        /// The document read last (a `checkpoint-*/trainer_state.json` for a directory).
        var document: String?
        /// One 8-hex-digit fingerprint per training entry handed over, in order, concatenated.
        var digests: String
    }

    /// What tells a rewrite of the document from the version read last.
    private struct Signature: Equatable {
        var path: String
        var modified: Date?
        var size: Int?
        var inode: Int?
    }

    let id: String
    private let isDirectory: Bool
    private let keyMap: MetricKeyMap
    private var document: String?
    /// The fingerprints of the entries handed over, in order.
    private var handedOver: [String] = []
    /// The entries of the version read last, with their fingerprints.
    private var cached: (signature: Signature, entries: [RawMetricsLine], digests: [String])?
    /// A version that did not parse, what was wrong with it, and whether that was reported.
    private var failed: (signature: Signature, description: String, reported: Bool)?
    private var reportedMissing = false
    /// Whether the end of training (`global_step` ≥ `max_steps`) was reported.
    private var reportedEnd = false
    private var keysReported = 0

    /// - Parameters:
    ///   - path: the document's or the directory's absolute path, also the checkpoint's source.
    ///   - keyMap: how logged keys become metrics.
    init(path: String, keyMap: MetricKeyMap) {
        id = path
        var directory: ObjCBool = false
        isDirectory = FileManager.default.fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
        self.keyMap = keyMap
    }

    func resume(from state: String) throws {
        let saved = try StateJSON.decode(State.self, from: state)
        document = saved.document
        handedOver = Self.split(saved.digests)
    }

    func poll(_ options: WatchPollOptions) throws -> WatchPoll {
        guard let current = currentDocument() else {
            defer { reportedMissing = true }
            return WatchPoll(
                notes: reportedMissing ? [] : [WatchNote(.info, "no \(TrainerStateReader.fileName) in \(id) yet; waiting")])
        }
        reportedMissing = false
        let signature = Self.signature(of: current)
        var poll = WatchPoll()

        if let cached, cached.signature == signature, handedOver.count == cached.entries.count {
            return poll  // unchanged, all handed over
        }
        if cached?.signature != signature {
            if let failed, failed.signature == signature, !options.final, !options.strict {
                // Still the version that did not parse: not a write in progress after all.
                if !failed.reported {
                    poll.notes.append(
                        WatchNote(.warning, "\(failed.description); waiting for the trainer to rewrite it"))
                    self.failed?.reported = true
                }
                return poll
            }
            let entries: [RawMetricsLine]
            do {
                entries = try TrainerStateReader(path: current, keyMap: keyMap).trainingEntries()
            } catch {
                if options.final || options.strict { poll.failure = .badInput(error.description) }
                failed = (signature, error.description, false)
                return poll
            }
            failed = nil
            cached = (signature, entries, entries.map(Self.digest))
            // The Trainer writes `max_steps` into every trainer_state.json; the one whose `global_step` reached it
            // was saved at the end of training: the run finished, it is not stalled.
            if !reportedEnd, let progress = try? TrainerStateReader(path: current).progress(), progress.maxSteps > 0,
                progress.globalStep >= progress.maxSteps
            {
                reportedEnd = true
                poll.ended = "global_step \(progress.globalStep) reached max_steps \(progress.maxSteps) in \(current)"
            }
        }
        guard let cached else { return poll }

        var common = 0
        while common < handedOver.count, common < cached.digests.count, handedOver[common] == cached.digests[common] {
            common += 1
        }
        var moved = current != document
        if common < handedOver.count {
            let after = common == 0 ? "from its first entry on" : "after step \(cached.entries[common - 1].step)"
            poll.notes.append(
                WatchNote(
                    .warning,
                    "\(current) no longer continues the log_history read so far (it differs \(after): a resume "
                        + "from an earlier checkpoint, or a new run); reading its new entries as a new segment"))
            handedOver.removeSubrange(common...)
            moved = true
        }
        let end = min(cached.entries.count, common + options.limit)
        for index in common..<end {
            let entry = cached.entries[index]
            if keysReported < options.keysWanted {
                keysReported += 1
                poll.keys += entry.values.keys
                if entry.rewards != nil { poll.keys.append("rewards") }
            }
            poll.steps.append(keyMap.makeStep(step: entry.step, values: entry.values, rewards: entry.rewards))
            handedOver.append(cached.digests[index])
        }
        poll.hasMore = end < cached.entries.count
        if moved || end > common {
            document = current
            poll.state = Self.encode(State(document: current, digests: handedOver.joined()))
        }
        return poll
    }

    /// The document to read: the file itself, or the newest `trainer_state.json` of the directory.
    private func currentDocument() -> String? {
        guard isDirectory else { return FileManager.default.fileExists(atPath: id) ? id : nil }
        let manager = FileManager.default
        var candidates: [String] = []
        let own = (id as NSString).appendingPathComponent(TrainerStateReader.fileName)
        if manager.fileExists(atPath: own) { candidates.append(own) }
        for name in (try? manager.contentsOfDirectory(atPath: id)) ?? [] where name.hasPrefix("checkpoint-") {
            let path = (id as NSString).appendingPathComponent(name + "/" + TrainerStateReader.fileName)
            if manager.fileExists(atPath: path) { candidates.append(path) }
        }
        return candidates.max { left, right in
            let leftDate = Self.signature(of: left).modified ?? .distantPast
            let rightDate = Self.signature(of: right).modified ?? .distantPast
            return (leftDate, Self.checkpointNumber(left)) < (rightDate, Self.checkpointNumber(right))
        }
    }

    private static func checkpointNumber(_ path: String) -> Int {
        let directory = ((path as NSString).deletingLastPathComponent as NSString).lastPathComponent
        guard directory.hasPrefix("checkpoint-") else { return Int.max }
        return Int(directory.dropFirst("checkpoint-".count)) ?? -1
    }

    private static func signature(of path: String) -> Signature {
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        return Signature(
            path: path, modified: attributes?[.modificationDate] as? Date,
            size: (attributes?[.size] as? NSNumber)?.intValue,
            inode: (attributes?[.systemFileNumber] as? NSNumber)?.intValue)
    }

    /// A fingerprint of an entry: its step and every logged value, in key order.
    private static func digest(_ entry: RawMetricsLine) -> String {
        var hash = FNV1a()
        hash.add(UInt64(bitPattern: Int64(entry.step)))
        for key in entry.values.keys.sorted() {
            hash.add(key)
            hash.add(entry.values[key]?.bitPattern ?? 0)
        }
        for reward in entry.rewards ?? [] { hash.add(reward.bitPattern) }
        return String(hash.hex.suffix(8))
    }

    private static func split(_ digests: String) -> [String] {
        var result: [String] = []
        result.reserveCapacity(digests.utf8.count / 8)
        var index = digests.startIndex
        while index < digests.endIndex {
            let next = digests.index(index, offsetBy: 8, limitedBy: digests.endIndex) ?? digests.endIndex
            result.append(String(digests[index..<next]))
            index = next
        }
        return result
    }

    private static func encode(_ state: State) -> String {
        StateJSON.encode(state) ?? "{}"
    }
}
