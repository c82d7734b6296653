import Foundation
import RLWatch
import RLWatchCore
import RLWatchStore

/// The dashboard's HTML pages. Every value from the store is escaped through ``HTML``; charts are drawn by the
/// page script from an embedded JSON block (see ``ChartData``).
enum Pages {
    /// The most runs the runs list shows, and the most alert rows a run page lists (newest kept; exports have all).
    static let maxRuns = 500
    static let maxAlertRows = 2_000

    // MARK: Layout

    static func layout(title: String, body: String, data: JSONValue? = nil) -> String {
        var page = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width,initial-scale=1">
            <meta name="color-scheme" content="light dark">
            <title>\(HTML.escape(title)) · rlwatch</title>
            <link rel="stylesheet" href="/assets/dashboard.css?v=\(AssetFile.css.etagValue)">
            </head><body>
            <a class="skip" href="#main">Skip to content</a>
            <header class="top"><a class="brand" href="/">rlwatch</a><nav aria-label="Main"><a href="/">Runs</a><a href="/compare">Compare</a></nav></header>
            <main id="main">
            \(body)
            </main>

            """
        if let data {
            page += "<script type=\"application/json\" id=\"rlw-data\">\(HTML.scriptJSON(data))</script>\n"
        }
        page += "<script src=\"/assets/dashboard.js?v=\(AssetFile.javascript.etagValue)\"></script>\n</body></html>\n"
        return page
    }

    static func message(title: String, text: String) -> String {
        layout(title: title, body: "<h1>\(HTML.escape(title))</h1><p>\(HTML.escape(text))</p><p><a href=\"/\">All runs</a></p>")
    }

    static func time(_ epoch: Double) -> String {
        "<time datetime=\"\(HTML.escape(iso(epoch)))\">\(HTML.escape(formatLocalTime(epoch, "yyyy-MM-dd HH:mm:ss")))</time>"
    }

    static func iso(_ epoch: Double) -> String {
        ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: epoch))
    }

    /// The run's state badge; `id` is set on the run page, where live updates change it.
    static func state(_ state: RunState, id: String? = nil) -> String {
        let idAttribute = id.map { " id=\"\($0)\"" } ?? ""
        return "<span class=\"badge \(state.rawValue)\"\(idAttribute) title=\"\(HTML.escape(state.title))\">\(state.rawValue)</span>"
    }

    // MARK: Runs list

    static func runsList(_ runs: [RunOverview], query: String, total: Int) -> String {
        var body = """
            <h1>Runs</h1>
            <form class="filters" method="get" action="/" role="search">
            <label>Filter runs<input type="search" id="run-filter" name="q" value="\(HTML.escape(query))" placeholder="run id or framework"></label>
            <button type="submit">Filter</button></form>

            """
        if runs.isEmpty {
            body += "<p>No runs found\(query.isEmpty ? "" : " matching the filter"). Start one with <code>rlwatch demo</code> or <code>rlwatch serve</code>.</p>"
            return layout(title: "Runs", body: body)
        }
        body += """
            <form method="get" action="/compare">
            <div class="table-wrap"><table id="runs-table"><caption class="sr-only">Runs, newest first</caption>
            <thead><tr><th scope="col"><span class="sr-only">Compare</span></th><th scope="col">Run</th><th scope="col">Framework</th>
            <th scope="col">Started</th><th scope="col" class="num">Last step</th><th scope="col">Health</th><th scope="col" class="num">Alerts</th></tr></thead><tbody>

            """
        for item in runs {
            let id = item.run.runID
            let search = (id + " " + item.run.framework).lowercased()
            let state = item.state == .finished ? "" : " " + Self.state(item.state)
            body += """
                <tr data-run="\(HTML.escape(id))" data-search="\(HTML.escape(search))" data-state="\(item.state.rawValue)"\(item.stalled ? " data-stalled=\"true\"" : "")>\
                <td><input type="checkbox" name="run" value="\(HTML.escape(id))" aria-label="Compare \(HTML.escape(id))"></td>\
                <td><a class="run-link" href="\(HTML.escape(HTML.runLink(id)))">\(HTML.escape(id))</a>\(state)</td>\
                <td>\(HTML.escape(item.run.framework))</td><td>\(time(item.run.startedAt))</td>\
                <td class="num">\(item.lastStep.map(String.init) ?? "–")</td>\
                <td><span class="badge health-\(item.health.rawValue)">\(item.health.rawValue)</span></td>\
                <td class="num">\(item.delivered)</td></tr>

                """
        }
        body += "</tbody></table></div>"
        if total > runs.count { body += "<p class=\"meta\">Showing the newest \(runs.count) of \(total) runs; filter to find older ones.</p>" }
        body += "<p><button type=\"submit\">Compare selected runs</button></p></form>"
        return layout(title: "Runs", body: body)
    }

    // MARK: Run page

    static func run(_ view: RunView, filters: AlertTableFilters, eventsURL: String) -> String {
        let run = view.run
        let id = run.runID
        let delivered = view.delivered
        let critical = delivered.count { $0.alert.severity == .critical }
        let health = view.diagnosis.health
        let last = view.lastRow?.metrics.step
        let body = """
            <nav aria-label="Breadcrumb" class="meta"><a href="/">Runs</a> › run</nav>
            <h1 class="run-id">\(HTML.escape(id))</h1>
            <p class="meta">\(HTML.escape(run.framework)) · started \(time(run.startedAt))\
            \(run.finishedAt.map { " · finished \(time($0))" } ?? "") · \(state(view.state, id: "run-state"))\
             <span class="live" id="live-status" aria-live="polite"></span></p>
            <section class="tiles" aria-label="Summary">
            \(tile("Steps", "tile-steps", String(view.rowCount)))
            \(tile("Last step", "tile-last-step", last.map(String.init) ?? "–"))
            \(tile("Alerts", "tile-alerts", String(delivered.count)))
            \(tile("Critical", "tile-critical", String(critical)))
            \(tile("Warnings", "tile-warnings", String(delivered.count - critical)))
            \(tile("Health", "tile-health", health.rawValue, valueClass: "health-\(health.rawValue)"))
            \(tile("Last healthy step", "tile-last-healthy", view.diagnosis.lastHealthyStep.map(String.init) ?? "–"))
            \(tile("Resume from", "tile-resume-from", view.diagnosis.resumeFrom.map { "\($0.name) (step \($0.step))" } ?? "–"))
            </section>
            <p class="exports">Export: <a href="\(HTML.escape(exportLink("metrics.csv", [id])))">metrics CSV</a>\
            <a href="\(HTML.escape(exportLink("metrics.jsonl", [id])))">metrics JSONL</a>\
            <a href="\(HTML.escape(exportLink("alerts.csv", [id])))">alerts CSV</a>\
            <a href="\(HTML.escape("/compare?" + HTML.repeated("run", [id])))">compare with…</a></p>
            \(chartGrid())
            <h2 id="timeline-heading">Alert timeline</h2>
            <figure class="chart timeline" id="timeline" aria-labelledby="timeline-heading"><div class="plot"></div></figure>
            \(alertTable(delivered.map { ($0, nil) }, filters: filters, hidden: [("id", id)], compare: false))
            <h2>Diagnosis</h2>
            <p class="health-\(health.rawValue)"><strong>\(HTML.escape(health.rawValue.uppercased()))</strong> — \(HTML.escape(view.diagnosis.assessment))</p>
            <p>\(diagnosisLine(view.diagnosis))</p>
            \(actionsTable(view.actions))
            <details><summary>Run configuration (secrets redacted)</summary>
            <pre class="config">\(HTML.escape(ConfigRedaction.pretty(run.configJSON)))</pre></details>
            <noscript><p>Charts and live updates need JavaScript; tables and exports work without it.</p></noscript>
            """
        let counts: JSONValue = .object([
            ("alerts", .int(delivered.count)), ("critical", .int(critical)), ("warnings", .int(delivered.count - critical)),
            ("anyAlert", .bool(!view.alerts.isEmpty)),
            ("anyCritical", .bool(view.alerts.contains { $0.alert.severity == .critical })),
        ])
        let live: JSONValue? =
            run.finishedAt == nil
            ? .object([
                ("url", .string(eventsURL)),
                ("columns", .array(ChartSpec.liveColumns.map { .string($0) })),
                ("counts", counts),
            ]) : nil
        return layout(title: id, body: body, data: ChartData.page([view], live: live))
    }

    static func diagnosisLine(_ diagnosis: Diagnosis) -> String {
        var parts: [String] = []
        if let step = diagnosis.lastHealthyStep {
            parts.append("Last healthy step: <strong>\(step)</strong> (roll back to a checkpoint at or before it)")
        } else {
            parts.append("Last healthy step: – (no critical alert)")
        }
        if let step = diagnosis.firstCriticalStep { parts.append("first critical at step \(step)") }
        if let resume = diagnosis.resumeFrom {
            parts.append(
                "resume from <strong>\(HTML.escape(resume.name)) (step \(resume.step))</strong> <code>\(HTML.escape(resume.path))</code>")
        }
        return parts.joined(separator: "; ") + "."
    }

    /// What was done about the run's alerts: training stopped by the client, commands run, dry runs.
    static func actionsTable(_ actions: [AlertActionRecord]) -> String {
        guard !actions.isEmpty else { return "" }
        var out = "<h2>Actions taken</h2>\n<table id=\"actions-table\"><thead><tr><th>Time</th><th>Action</th><th>By</th>"
            + "<th>Alert</th><th>Why</th><th>Result</th><th>Output</th></tr></thead><tbody>\n"
        for action in actions {
            out += "<tr><td>\(time(action.time))</td><td>\(HTML.escape(action.action))</td><td>\(HTML.escape(action.actor))</td>"
                + "<td>\(HTML.escape(action.severity)) \(HTML.escape(action.detector)) at step \(action.step)</td>"
                + "<td>\(HTML.escape(action.reason))</td><td>\(HTML.escape(action.result))</td>"
                + "<td><pre>\(HTML.escape(String(action.output.prefix(500))))</pre></td></tr>\n"
        }
        return out + "</tbody></table>"
    }

    static func tile(_ label: String, _ id: String, _ value: String, valueClass: String = "") -> String {
        "<div class=\"tile\"><span class=\"label\">\(HTML.escape(label))</span><span class=\"value \(valueClass)\" id=\"\(id)\">\(HTML.escape(value))</span></div>"
    }

    static func chartGrid() -> String {
        var out = "<h2>Metrics</h2><section class=\"charts\" aria-label=\"Metric charts\">\n"
        for spec in ChartSpec.all {
            let id = spec.id
            // The log-scale toggle is a plain checkbox the page script reads; without the script it does nothing.
            let toggle =
                spec.offersLogScale
                ? "<label class=\"scale\"><input type=\"checkbox\" class=\"log-toggle\" data-chart=\"\(id)\"> log scale</label>" : ""
            out += "<figure class=\"chart\" id=\"chart-\(id)\"><figcaption><span>\(HTML.escape(spec.title))</span>\(toggle)</figcaption><div class=\"plot\"></div></figure>\n"
        }
        return out + "</section>"
    }

    static func exportLink(_ file: String, _ runs: [String]) -> String {
        "/export/\(file)?" + HTML.repeated("run", runs)
    }

    /// The alert history table with its filter form. In compare mode each row names its run.
    static func alertTable(
        _ records: [(record: AlertRecord, run: String?)], filters: AlertTableFilters, hidden: [(String, String)], compare: Bool
    ) -> String {
        let detectors = Set(records.map(\.record.alert.detector.rawValue)).union(filters.detector.map { [$0] } ?? []).sorted()
        var out = "<h2 id=\"alerts-heading\">Alert history</h2>\n<form class=\"filters\" id=\"alert-filters\" method=\"get\" action=\"\(compare ? "/compare" : "/run")\" aria-label=\"Filter alerts\">"
        for (name, value) in hidden { out += "<input type=\"hidden\" name=\"\(name)\" value=\"\(HTML.escape(value))\">" }
        out += "<label>Detector<select name=\"detector\"><option value=\"\">All</option>"
        for detector in detectors {
            out += "<option\(filters.detector == detector ? " selected" : "")>\(HTML.escape(detector))</option>"
        }
        out += "</select></label><label>Severity<select name=\"severity\"><option value=\"\">All</option>"
        for severity in ["warning", "critical"] {
            out += "<option\(filters.severity == severity ? " selected" : "")>\(severity)</option>"
        }
        out += "</select></label>"
        out += "<label>From step<input type=\"number\" name=\"from\" value=\"\(filters.from.map(String.init) ?? "")\"></label>"
        out += "<label>To step<input type=\"number\" name=\"to\" value=\"\(filters.to.map(String.init) ?? "")\"></label>"
        out += "<button type=\"submit\">Apply</button> <span class=\"meta\" id=\"alerts-shown\" aria-live=\"polite\"></span></form>\n"
        let sorted = records.sorted { ($0.record.alert.step, $0.record.id ?? 0) < ($1.record.alert.step, $1.record.id ?? 0) }
        let shown = sorted.suffix(maxAlertRows)
        if sorted.count > shown.count {
            out += "<p class=\"meta\">Showing the last \(shown.count) of \(sorted.count) alerts; the alerts CSV has all of them.</p>"
        }
        out += "<div class=\"table-wrap\"><table id=\"alerts-table\" aria-labelledby=\"alerts-heading\"><thead><tr>"
        out += "<th scope=\"col\" class=\"num\">Step</th>"
        if compare { out += "<th scope=\"col\">Run</th>" }
        out += "<th scope=\"col\">Detector</th><th scope=\"col\">Severity</th><th scope=\"col\">Message</th><th scope=\"col\">Recommendation</th></tr></thead><tbody>\n"
        for (record, run) in shown {
            let alert = record.alert
            let hidden = !filters.matches(alert)
            out += "<tr data-detector=\"\(HTML.escape(alert.detector.rawValue))\" data-severity=\"\(alert.severity.rawValue)\" data-step=\"\(alert.step)\" data-alert-id=\"\(record.id.map(String.init) ?? "")\"\(hidden ? " hidden" : "")>"
            out += "<td class=\"num\">\(alert.step)</td>"
            if compare { out += "<td>\(HTML.escape(run ?? ""))</td>" }
            out += "<td>\(HTML.escape(alert.detector.rawValue))</td><td><span class=\"badge sev-\(alert.severity.rawValue)\">\(alert.severity.rawValue)</span></td>"
            out += "<td class=\"msg\">\(HTML.escape(alert.message))</td><td class=\"msg\">\(HTML.escape(alert.recommendation))</td></tr>\n"
        }
        out += "</tbody></table></div><p id=\"alerts-empty\"\(records.isEmpty ? "" : " hidden")>No alerts triggered.</p>"
        return out
    }

    // MARK: Compare page

    static func comparePicker(_ runs: [RunRecord], selected: [String]) -> String {
        var body = "<h1>Compare runs</h1><p>Pick two or more runs to overlay.</p><form method=\"get\" action=\"/compare\"><fieldset><legend>Runs</legend>"
        for run in runs.prefix(maxRuns) {
            let id = run.runID
            body += "<div><label><input type=\"checkbox\" name=\"run\" value=\"\(HTML.escape(id))\"\(selected.contains(id) ? " checked" : "")> \(HTML.escape(id)) <span class=\"meta\">(\(HTML.escape(run.framework)), \(time(run.startedAt)))</span></label></div>"
        }
        body += "</fieldset><p><button type=\"submit\">Compare</button></p></form>"
        return layout(title: "Compare runs", body: body)
    }

    static func compare(_ views: [RunView], filters: AlertTableFilters) -> String {
        let ids = views.map(\.run.runID)
        var body = "<nav aria-label=\"Breadcrumb\" class=\"meta\"><a href=\"/\">Runs</a> › compare</nav><h1>Compare \(views.count) runs</h1>"
        body += "<ul class=\"legend\" aria-label=\"Runs\">"
        for (index, view) in views.enumerated() {
            body += "<li><span class=\"swatch run-color-\(index % ChartData.palette.count)\"></span><a href=\"\(HTML.escape(HTML.runLink(view.run.runID)))\">\(HTML.escape(view.run.runID))</a></li>"
        }
        body += "</ul><div class=\"table-wrap\"><table id=\"compare-summary\"><thead><tr><th scope=\"col\">Run</th><th scope=\"col\" class=\"num\">Steps</th><th scope=\"col\" class=\"num\">Alerts</th><th scope=\"col\" class=\"num\">Critical</th><th scope=\"col\">Health</th><th scope=\"col\" class=\"num\">Last healthy step</th></tr></thead><tbody>"
        for view in views {
            let delivered = view.delivered
            let health = view.diagnosis.health.rawValue
            body += "<tr><td>\(HTML.escape(view.run.runID))</td><td class=\"num\">\(view.rowCount)</td><td class=\"num\">\(delivered.count)</td><td class=\"num\">\(delivered.count { $0.alert.severity == .critical })</td><td><span class=\"badge health-\(health)\">\(health)</span></td><td class=\"num\">\(view.diagnosis.lastHealthyStep.map(String.init) ?? "–")</td></tr>"
        }
        body += "</tbody></table></div>"
        body += "<p class=\"exports\">Export: <a href=\"\(HTML.escape(exportLink("metrics.csv", ids)))\">metrics CSV</a><a href=\"\(HTML.escape(exportLink("metrics.jsonl", ids)))\">metrics JSONL</a><a href=\"\(HTML.escape(exportLink("alerts.csv", ids)))\">alerts CSV</a></p>"
        body += chartGrid()
        body += "<h2 id=\"timeline-heading\">Alert timeline</h2><figure class=\"chart timeline\" id=\"timeline\" aria-labelledby=\"timeline-heading\"><div class=\"plot\"></div></figure>"
        var records: [(record: AlertRecord, run: String?)] = []
        for view in views { records += view.delivered.map { ($0, view.run.runID) } }
        body += alertTable(records, filters: filters, hidden: ids.map { ("run", $0) }, compare: true)
        return layout(title: "Compare", body: body, data: ChartData.page(views, live: nil))
    }
}

/// The alert history filters, from the page's query (`detector`, `severity`, `from`, `to`).
struct AlertTableFilters: Sendable {
    var detector: String?
    var severity: String?
    var from: Int?
    var to: Int?

    func matches(_ alert: Alert) -> Bool {
        if let detector, alert.detector.rawValue != detector { return false }
        if let severity, alert.severity.rawValue != severity { return false }
        if let from, alert.step < from { return false }
        if let to, alert.step > to { return false }
        return true
    }
}
