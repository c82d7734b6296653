import Foundation
import RLWatchIngest

/// The run id a watch uses when none is given: stable for the same watched paths, so that a restarted
/// watch continues the same run.
///
/// `watch-<name>-<8 hex digits>`: the name is the file name of the first path in sorted order (its directory's name for files
/// named by convention, such as `trainer_state.json` or TensorBoard event files), the digits a hash of
/// all the absolute paths in sorted order.
public enum WatchRunID {
    /// The run id for these absolute paths.
    public static func derive(from paths: [String]) -> String {
        let sorted = paths.sorted()
        var hash = FNV1a()
        for path in sorted { hash.add(path + "\n") }
        let first = sorted.first ?? "watch"
        var name = (first as NSString).lastPathComponent
        if name == "trainer_state.json" || InputFormat.isEventFile(name: name) {
            name = ((first as NSString).deletingLastPathComponent as NSString).lastPathComponent
        }
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        let cleaned = String(name.map { allowed.contains($0) ? $0 : "_" }.prefix(48))
        return "watch-\(cleaned.isEmpty ? "log" : cleaned)-\(hash.hex.suffix(8))"
    }
}
