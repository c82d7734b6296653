import Foundation
import RLWatchCore
import RLWatchStore

/// The data block a page embeds for its script: downsampled series per chart, alert markers, run colours.
///
/// Non-finite values are the strings `"NaN"`, `"Infinity"`, `"-Infinity"` (as in the API); a kept point whose
/// metric was not logged is `null`.
enum ChartData {
    /// Buckets per series (see ``Downsampler``): at most about 4 points each, so ≤ 2,000 points per line for any
    /// run length, a few more for alert steps and non-finite values.
    static let buckets = 500

    /// The colour of the i-th run of a comparison (d3's category10, which reads on light and dark backgrounds).
    static let palette = [
        "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
    ]

    static func color(_ index: Int) -> String { palette[index % palette.count] }

    /// The page's data block.
    ///
    /// - Parameters:
    ///   - runs: the runs shown, in legend order.
    ///   - live: where the page's script subscribes to updates, or nil.
    static func page(_ runs: [RunView], live: JSONValue?) -> JSONValue {
        let charts: [JSONValue] = ChartSpec.all.map { spec in
            var members: [(String, JSONValue)] = [
                ("id", .string(spec.id)),
                ("title", .string(spec.title)),
                ("log", .bool(spec.offersLogScale)),
                (
                    "series",
                    .array(
                        runs.enumerated().map { index, view in
                            .object([("run", .int(index))] + (view.series[spec.id] ?? []))
                        })
                ),
            ]
            if let fallback = spec.fallback { members.append(("fallback", .string(fallback))) }
            if spec.id == MetricName.entropy.rawValue, runs.count == 1, let threshold = runs[0].collapseThreshold {
                members.append(("threshold", .object([("value", .double(threshold.value)), ("label", .string(threshold.label))])))
            }
            return .object(members)
        }
        var alerts: [JSONValue] = []
        for (index, view) in runs.enumerated() {
            for record in view.delivered { alerts.append(alert(record, run: index, charted: view.charted)) }
        }
        var checkpoints: [JSONValue] = []
        for (index, view) in runs.enumerated() {
            for checkpoint in view.checkpoints {
                checkpoints.append(
                    .object([
                        ("run", .int(index)), ("step", .int(checkpoint.step)), ("name", .string(checkpoint.name)),
                        ("path", .string(checkpoint.path)),
                    ]))
            }
        }
        return .object([
            ("checkpoints", .array(checkpoints)),
            ("runs", .array(runs.enumerated().map { index, view in
                .object([("id", .string(view.run.runID)), ("color", .string(color(index)))])
            })),
            ("charts", .array(charts)),
            ("alerts", .array(alerts)),
            ("lanes", .array(timelineLanes.map { .string($0.rawValue) })),
            ("live", live ?? .null),
        ])
    }

    /// The alert timeline's lanes on a run page, drawn from the start whether or not they fired: every detector
    /// rlwatch ships (metric detectors, then liveness). A detector outside this list gets a lane when it fires.
    static let timelineLanes: [DetectorID] = DetectorID.all + DetectorID.liveness

    /// An alert as the page script draws it (markers, timeline, table rows added live).
    ///
    /// - Parameter charted: the charts the run has values for (nil: all), which picks a fallback chart for an
    ///   alert whose own chart the run never logged (see ``ChartSpec/fallback``).
    static func alert(_ record: AlertRecord, run: Int, charted: Set<String>? = nil) -> JSONValue {
        let alert = record.alert
        return .object([
            ("run", .int(run)),
            ("id", record.id.map { .int(Int($0)) } ?? .null),
            ("step", .int(alert.step)),
            ("detector", .string(alert.detector.rawValue)),
            ("severity", .string(alert.severity.rawValue)),
            ("message", .string(alert.message)),
            ("recommendation", .string(alert.recommendation)),
            ("chart", .string(ChartSpec.chart(for: alert.detector, charted: charted))),
            ("delivered", .bool(record.disposition.isDelivered)),
        ])
    }

    /// A run's downsampled line for every chart (computed once per read of the run, see ``RunViewCache``).
    static func series(rows: [StoredStep], alerts: [AlertRecord]) -> [String: [(String, JSONValue)]] {
        var out: [String: [(String, JSONValue)]] = [:]
        let delivered = alerts.filter { $0.disposition.isDelivered }
        let charted = charted(rows: rows)
        for spec in ChartSpec.all { out[spec.id] = series(rows: rows, delivered: delivered, spec: spec, charted: charted) }
        return out
    }

    /// The ids of the charts that `rows` have at least one value for.
    static func charted(rows: [StoredStep]) -> Set<String> {
        var out = Set<String>()
        for spec in ChartSpec.all where rows.contains(where: { spec.value($0.metrics) != nil }) { out.insert(spec.id) }
        return out
    }

    /// One run's line on one chart: `s` (steps), `v` (values) and, for the reward mean, `sd` (the reward std at
    /// the same points, for the ±std band).
    private static func series(rows: [StoredStep], delivered: [AlertRecord], spec: ChartSpec, charted: Set<String>)
        -> [(String, JSONValue)]
    {
        let marked = Set(
            delivered.filter { ChartSpec.chart(for: $0.alert.detector, charted: charted) == spec.id }.map(\.alert.step))
        var keep = Set<Int>()
        if !marked.isEmpty {
            for (index, row) in rows.enumerated() where marked.contains(row.metrics.step) { keep.insert(index) }
        }
        let value = spec.value
        let rewardMean = spec.id == MetricName.rewardMean.rawValue
        let chosen = Downsampler.indices(count: rows.count, buckets: buckets, keep: keep) { value(rows[$0].metrics) }
        var steps: [JSONValue] = []
        var values: [JSONValue] = []
        var stds: [JSONValue] = []
        steps.reserveCapacity(chosen.count)
        values.reserveCapacity(chosen.count)
        for index in chosen {
            let metrics = rows[index].metrics
            steps.append(.int(metrics.step))
            values.append(display(value(metrics)))
            if rewardMean { stds.append(display(metrics.rewardStd)) }
        }
        var members: [(String, JSONValue)] = [("s", .array(steps)), ("v", .array(values))]
        if rewardMean, stds.contains(where: { $0 != .null }) { members.append(("sd", .array(stds))) }
        return members
    }

    /// The entropy level under which `entropy_collapse` counts a step, from the run's stored config: the absolute
    /// `threshold` when one is set, else `relative_threshold` × the median of the first `baseline_window` entropy
    /// observations (the detector's own baseline).
    static func collapseThreshold(run: RunRecord, rows: [StoredStep]) -> (value: Double, label: String)? {
        guard let section = (try? JSONReader.parse(run.configJSON, mode: .pythonLenient))?["entropy_collapse"],
            section["enabled"] != .bool(false)
        else { return nil }
        if let threshold = section["threshold"]?.number {
            return (threshold, "Collapse threshold (\(formatNumber(threshold)))")
        }
        guard let relative = section["relative_threshold"]?.number else { return nil }
        let window = section["baseline_window"]?.integer ?? 10
        let early = rows.lazy.compactMap { $0.metrics.entropy }.filter(\.isFinite).prefix(max(1, window))
        let sorted = Array(early).sorted()
        guard sorted.count >= max(1, window) else { return nil }
        let median = sorted.count % 2 == 1
            ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        let value = relative * median
        return (value, "Collapse threshold (\(format(relative)) × baseline \(format(median)) = \(format(value)))")
    }

    static func format(_ value: Double) -> String { String(format: "%.4g", value) }

    /// A value as drawn: 6 significant digits (far finer than a pixel, and half the bytes of 17); non-finite
    /// values and nil as they are. Exports and the API keep the exact values.
    static func display(_ value: Double?) -> JSONValue {
        guard let value else { return .null }
        guard value.isFinite, value != 0, let short = Double(String(format: "%.6g", value)) else { return .double(value) }
        return .double(short)
    }
}
