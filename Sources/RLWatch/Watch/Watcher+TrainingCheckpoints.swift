import Foundation
import RLWatchCore

extension Watcher {
    /// How often the folders beside the watched files are listed again, in seconds.
    static let checkpointScanInterval = 5.0

    /// The folders where a trainer puts its checkpoints, for the watched paths: a watched file's folder and the one
    /// above it (TRL/HF write `output_dir/checkpoint-N` beside `output_dir/runs/…`; veRL `…/global_step_N`), a watched
    /// folder itself and the one above it.
    static func checkpointParents(of paths: [String]) -> [String] {
        var parents: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
            let url = URL(fileURLWithPath: path).standardizedFileURL
            let folder = exists && isDirectory.boolValue ? url : url.deletingLastPathComponent()
            for candidate in [folder, folder.deletingLastPathComponent()] where !parents.contains(candidate.path) {
                parents.append(candidate.path)
            }
        }
        return parents
    }

    /// The checkpoint folders (`checkpoint-N`, `global_step_N`) directly inside `parents`, by path.
    static func checkpointFolders(in parents: [String]) -> [String: Int] {
        var found: [String: Int] = [:]
        for parent in parents {
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: parent) else { continue }
            for name in names {
                guard let step = TrainingCheckpoint.step(ofFolderNamed: name) else { continue }
                let path = parent == "/" ? "/" + name : parent + "/" + name
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
                    found[path] = step
                }
            }
        }
        return found
    }

    /// Records the checkpoint folders that appeared beside the watched files since the last look (at most every
    /// ``checkpointScanInterval`` seconds while following). A store failure is reported and retried next time.
    func findTrainingCheckpoints() async {
        let now = options.wallClock.now.secondsSince1970
        if let last = lastCheckpointScan, now - last < Self.checkpointScanInterval { return }
        lastCheckpointScan = now
        let found = Self.checkpointFolders(in: Self.checkpointParents(of: targets.map(\.path)))
        for (path, step) in found.sorted(by: { $0.value < $1.value }) where !checkpointFolders.contains(path) {
            do {
                if try await monitor.recordCheckpoint(step: step, path: path, at: now) {
                    report(WatchNote(.info, "checkpoint \(path) (step \(step))"))
                }
                checkpointFolders.insert(path)
            } catch {
                report(WatchNote(.warning, "could not record checkpoint \(path): \(error); trying again at the next poll"))
            }
        }
    }
}
