import Foundation
import RLWatchCore

/// The header row of a CSV log: the key each column's cells are read under, and the column holding the step.
///
/// Two kinds of CSV are common. A trainer's own (`step,loss,kl,…`), whose names are the logged keys. And W&B's
/// "Export CSV" of a run's charts, whose columns are named `<run name> - <key>` with `<run name> - <key>__MIN` and
/// `__MAX` beside them (the chart's range band) and a `Step` column: those are read as the key the trainer logged
/// (without TRL's `train/` prefix, as a TensorBoard tag is), the bands left out, and only the first run's columns
/// read (an export of several runs' charts holds each run's column side by side).
public struct CSVHeader: Sendable, Hashable, Codable {
    /// The key of each column, in order; nil for a column that is not read.
    public var keys: [String?]
    /// The key whose column holds the step number.
    public var stepKey: String
    /// The run a W&B export's columns were read from, if the header is one.
    public var exportedRun: String?

    /// The step columns tried, in order, when the asked-for step key is the default `step` and not in the header.
    public static let stepColumns = ["step", "_step", "global_step", "Step", "train/global_step"]

    /// Reads a header row.
    ///
    /// - Parameters:
    ///   - cells: the header's cells.
    ///   - stepKey: the column holding the step (`--step-key`); when it is the default `step` and the header has no
    ///     such column, the first of ``stepColumns`` it has.
    public init(cells: [String], stepKey: String = "step") {
        var chosenStep = stepKey
        if stepKey == "step", !cells.contains(stepKey), let other = Self.stepColumns.first(where: cells.contains) {
            chosenStep = other
        }
        self.stepKey = chosenStep
        let others = cells.filter { $0 != chosenStep }
        let runs = others.compactMap { cell in cell.range(of: " - ").map { String(cell[..<$0.lowerBound]) } }
        guard !others.isEmpty, runs.count == others.count, let run = runs.first else {
            keys = cells
            exportedRun = nil
            return
        }
        exportedRun = run
        keys = cells.map { cell in
            if cell == chosenStep { return cell }
            guard cell.hasPrefix(run + " - ") else { return nil }
            let key = String(cell.dropFirst(run.count + 3))
            if key.hasSuffix("__MIN") || key.hasSuffix("__MAX") { return nil }
            return key.hasPrefix("train/") ? String(key.dropFirst("train/".count)) : key
        }
    }

    /// One data row's cells by key: a number, a non-finite spelling as its value, any other text as it is; empty
    /// cells (not logged at this step) left out.
    ///
    /// - Throws: ``SelectedRowsError`` when the row has another number of cells than the header.
    public func row(_ cells: [String], file: String, line: Int) throws(SelectedRowsError) -> [String: JSONValue] {
        guard cells.count == keys.count else {
            throw SelectedRowsError(file: file, line: line, message: "\(cells.count) cells, the header has \(keys.count)")
        }
        var row: [String: JSONValue] = [:]
        for (key, cell) in zip(keys, cells) where !cell.isEmpty {
            guard let key else { continue }
            row[key] = (Double(cell) ?? TrainerStateReader.nonFinite(cell)).map(JSONValue.double) ?? .string(cell)
        }
        return row
    }
}
