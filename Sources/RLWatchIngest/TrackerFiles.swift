import Foundation

/// Tells the local files of experiment trackers apart — W&B, MLflow, Trackio — by their content first, then by
/// their names: what ``InputFormat/detect(path:)`` asks before anything else.
///
/// A W&B transaction log starts with `:W&B`. MLflow's and Trackio's stores are both SQLite databases: their
/// schema, stored as SQL text in the first pages, tells them apart (MLflow's `metrics` table has `run_uuid`,
/// Trackio's has `run_name`), so a Trackio project named `mlflow.db` is still read as Trackio.
public enum TrackerFiles {
    /// The first bytes of a W&B transaction log.
    public static let wandbMagic: [UInt8] = Array(":W&B".utf8)
    /// The first bytes of a SQLite database.
    static let sqliteMagic: [UInt8] = Array("SQLite format 3".utf8) + [0]
    /// How much of a database is searched for its schema (the schema lives in the first pages).
    static let schemaBytes = 1 << 20

    /// The tracker format of a file by its content; nil for any other file (or an empty one).
    public static func format(ofFile path: String) -> InputFormat? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        let head = [UInt8]((try? handle.read(upToCount: 16)) ?? Data())
        if head.starts(with: wandbMagic) { return .wandb }
        guard head.starts(with: sqliteMagic) else { return nil }
        let schema = String(decoding: (try? handle.read(upToCount: schemaBytes)) ?? Data(), as: UTF8.self)
        if schema.contains("run_uuid"), schema.contains("experiments") { return .mlflow }
        if schema.contains("run_name"), schema.contains("CREATE TABLE metrics") { return .trackio }
        return nil
    }

    /// Whether a directory name is a W&B run's (`run-<date>-<id>`, `offline-run-<date>-<id>`).
    public static func isWandbRunDirectory(_ name: String) -> Bool {
        name.hasPrefix("run-") || name.hasPrefix("offline-run-")
    }

    /// The tracker format of a directory: W&B for a `wandb/` directory (its `latest-run` link or `run-*`
    /// directories), a W&B run directory, or a directory holding `wandb/`; MLflow for a directory holding
    /// `mlflow.db` or `mlruns/`, an `mlruns/` file store (experiment directories with `meta.yaml`) or one of its
    /// runs; Trackio for a directory holding a Trackio database. Nil otherwise.
    public static func format(ofDirectory directory: String, names: [String]) -> InputFormat? {
        func child(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
        func list(_ path: String) -> [String] { (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] }
        if names.contains("latest-run") || names.contains(where: { $0.hasSuffix(".wandb") }) { return .wandb }
        if names.contains(where: isWandbRunDirectory),
            names.contains(where: { isWandbRunDirectory($0) && list(child($0)).contains { $0.hasSuffix(".wandb") } })
        {
            return .wandb
        }
        if names.contains("wandb"), format(ofDirectory: child("wandb"), names: list(child("wandb"))) == .wandb {
            return .wandb
        }
        if names.contains("mlflow.db") || names.contains("mlruns") { return .mlflow }
        if names.contains("meta.yaml"), names.contains("metrics") { return .mlflow }
        for name in names where !name.hasPrefix(".") && list(child(name)).contains("meta.yaml") {
            // A run (of an experiment directory) holds `metrics/`; an experiment (of `mlruns/`) holds runs.
            let inner = list(child(name))
            if inner.contains("metrics") || inner.contains(where: { list(child(name + "/" + $0)).contains("metrics") }) {
                return .mlflow
            }
        }
        for name in names where name.hasSuffix(".db") && format(ofFile: child(name)) == .trackio { return .trackio }
        return nil
    }
}
