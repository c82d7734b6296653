import Foundation
import RLWatchCore
import RLWatchIngest
import SwiftProtobuf

/// A W&B run's metrics, from its transaction log: `rlwatch watch wandb/` (the newest run, and each newer one as it
/// appears) or a `run-<id>.wandb` file.
///
/// Every `wandb.log` call is a history record: one row, one whole step (`HistoryStep.num`, else the `_step` item).
/// Items are `key` (or `nested_key`, joined with `/`) and `value_json`, which may be a bare `NaN` or `Infinity`;
/// W&B's own items (`_step`, `_runtime`, `_timestamp`, `_wandb…`) are bookkeeping, not metrics; values that are
/// not numbers (media, tables, text) are left out. The exit record ends the run: exit code 0 finished it, any
/// other crashed it.
public final class WandbLog: TrackerLog {
    struct Position: Codable, Hashable {
        /// The transaction log being read (a run directory's `.wandb` file).
        var file: String?
        /// The offset after the last complete record read.
        var offset: Int64 = 0
        var ended = false
    }

    /// The watched path: a `.wandb` file, a run directory, or a `wandb/` directory (or one holding it).
    public let path: String
    private var state = Position()

    public init(path: String) {
        self.path = path
    }

    public var position: String { StateJSON.encode(state) ?? "{}" }

    public func resume(from position: String) throws {
        state = try StateJSON.decode(Position.self, from: position)
    }

    public func read(limit: Int, final: Bool, strict: Bool) throws(TrackerError) -> TrackerRead {
        var read = TrackerRead()
        read.rowsAreSteps = true
        guard let file = Self.currentFile(path) else { return read }
        if state.file != file {
            if state.file != nil { read.switched = true }
            read.infos.append("following the W&B run \(file)")
            state = Position(file: file)
        }
        let scan: WandbTransactionLog.Scan
        do {
            scan = try WandbTransactionLog(path: file).scan(from: state.offset, maxRecords: limit, stopAtCorrupt: strict)
        } catch let error as TrackerError {
            throw error
        } catch let error as WandbTransactionLog.NotALog {
            read.failure = "\(file): \(error.message)"
            return read
        } catch {
            throw TrackerError(path: file, message: "\(error)")
        }
        for (offset, why) in scan.corrupt {
            let text = "\(file) at offset \(offset): a corrupt chunk (\(why))"
            if strict {
                read.failure = text
            } else {
                read.warnings.append("skipped \(text)")
            }
        }
        for payload in scan.records {
            guard let record = try? WandbInternal_Record(serializedBytes: payload) else {
                read.warnings.append("skipped a W&B record in \(file) that does not decode")
                continue
            }
            switch record.recordType {
            case .history(let history)?:
                if let row = Self.row(history) { read.rows.append(row) }
            case .exit(let exit)?:
                guard !state.ended else { break }
                state.ended = true
                let code = Int(exit.exitCode)
                read.end =
                    code == 0
                    ? .finished("the W&B run exited with code 0")
                    : .crashed(exitCode: code, "the W&B run exited with code \(code)")
            case .run(let run)?:
                let name = run.displayName.isEmpty ? run.runID : "\(run.displayName) (\(run.runID))"
                if !name.isEmpty { read.infos.append("W&B run \(name), project \(run.project)") }
            case nil:
                continue
            }
        }
        state.offset = scan.next
        read.hasMore = scan.hasMore
        return read
    }

    /// One history record as a row; nil for a record with no step.
    static func row(_ history: WandbInternal_HistoryRecord) -> TrackerRow? {
        var step: Int? = history.hasStep ? Int(history.step.num) : nil
        var wallTime = 0.0
        var values: [String: Double] = [:]
        values.reserveCapacity(history.item.count)
        for item in history.item {
            let key = item.nestedKey.isEmpty ? item.key : item.nestedKey.joined(separator: "/")
            guard let value = trackerNumber(Substring(item.valueJson)) else { continue }
            if key.hasPrefix("_") {
                if key == "_step", step == nil, value.isFinite { step = Int(value) }
                if key == "_timestamp" { wallTime = value }
                continue
            }
            values[key] = value
        }
        guard let step else { return nil }
        return TrackerRow(step: step, wallTime: wallTime, values: values)
    }

    /// The transaction log a path stands for now: the file itself; a run directory's `.wandb` file; for a `wandb/`
    /// directory, the run `latest-run` links to, else the newest `run-*` / `offline-run-*` (by the date in its name);
    /// for a directory holding `wandb/`, the same inside it. Nil while there is none.
    public static func currentFile(_ path: String) -> String? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return nil }
        guard isDirectory.boolValue else { return path }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        func child(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }
        if let log = names.filter({ $0.hasSuffix(".wandb") }).sorted().last { return child(log) }
        let runs = names.filter(TrackerFiles.isWandbRunDirectory).sorted { runDate($0) < runDate($1) }
        let linked = names.contains("latest-run") ? (try? FileManager.default.destinationOfSymbolicLink(atPath: child("latest-run"))) : nil
        // `latest-run` is rewritten when a run starts; a newer run directory than its target wins (a link not yet updated).
        let newest = runs.last
        let chosen: String?
        if let linked, let newest, runDate((linked as NSString).lastPathComponent) >= runDate(newest) {
            chosen = linked.hasPrefix("/") ? linked : child(linked)
        } else {
            chosen = newest.map(child) ?? linked.map { $0.hasPrefix("/") ? $0 : child($0) }
        }
        if let chosen, chosen != path, let inner = currentFile(chosen), inner.hasSuffix(".wandb") { return inner }
        if names.contains("wandb") { return currentFile(child("wandb")) }
        return nil
    }

    /// `run-20240101_120000-abc` and `offline-run-…` ordered by date, then id.
    private static func runDate(_ name: String) -> String {
        name.hasPrefix("offline-") ? String(name.dropFirst("offline-".count)) : name
    }
}
