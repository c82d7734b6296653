import Foundation
import RLWatch
import RLWatchCore
import RLWatchSQLite
import RLWatchStore
import RLWatchTesting
import Testing

/// The dashboard in a real headless Chromium against a real server and SQLite store.
///
/// Serialized: each test starts a browser, and the machine running the suite may have two cores.
@Suite(.serialized) struct BrowserTests {
    @Test func runPageShowsChartsMarkersTableAndScreenshot() async throws {
        guard Chromium.require() != nil else { return }
        try await withSQLiteStore { store, directory in
            let alerts = try await seedCollapsingRun(store, runID: "grpo-collapse")
            let detectors = Set(alerts.map(\.alert.detector))
            #expect(detectors.isSuperset(of: [.entropyCollapse, .klExplosion, .lossNaN]), "\(detectors)")
            try await withServe(store: store) { client in
                let base = client.baseURL.absoluteString
                let list = try await Chromium.dumpDOM(base + "/")
                #expect(list.contains("grpo-collapse"))
                #expect(list.contains("health-critical"))

                let dom = try await Chromium.dumpDOM(base + "/run?id=grpo-collapse")
                // Eight charts drawn by the script, the entropy chart with its collapse threshold.
                for metric in ["entropy", "kl_divergence", "reward_mean", "reward_std", "advantage_std", "loss", "learning_rate", "grad_norm"] {
                    #expect(dom.contains("data-chart=\"\(metric)\""), "chart \(metric) missing")
                }
                #expect(dom.contains("class=\"threshold\""))
                #expect(dom.contains("class=\"band\""), "reward mean ± std band")
                // One marker per delivered alert on its detector's chart and one on the timeline, one table row each.
                #expect(occurrences(of: "class=\"marker sev-", in: dom) == 2 * alerts.count)
                #expect(occurrences(of: "<tr data-detector=", in: dom) == alerts.count)
                for record in alerts {
                    let marker = "data-detector=\"\(record.alert.detector.rawValue)\" data-step=\"\(record.alert.step)\""
                    #expect(occurrences(of: marker, in: dom) >= 2, "no marker for \(marker)")
                    #expect(dom.contains(HTMLText.escape(record.alert.recommendation)))
                }
                #expect(dom.contains("id=\"tile-steps\">500<"))
                #expect(dom.contains("id=\"tile-health\">critical<"))
                #expect(dom.contains("Last healthy step"))

                let shot = directory.appendingPathComponent("run.png")
                try await Chromium.screenshot(base + "/run?id=grpo-collapse", to: shot)
                let colours = try distinctColours(png: shot)
                #expect(colours > 20, "the screenshot looks blank (\(colours) colours)")
                if let out = ProcessInfo.processInfo.environment["RLWATCH_SCREENSHOT_DIR"] {
                    try? FileManager.default.copyItem(at: shot, to: URL(fileURLWithPath: out).appendingPathComponent("run-\(UUID().uuidString).png"))
                }
            }
        }
    }

    @Test func comparePageOverlaysRunsWithOneColourEach() async throws {
        guard Chromium.require() != nil else { return }
        try await withSQLiteStore { store, _ in
            let first = try await seedCollapsingRun(store, runID: "run-a", steps: 450)
            let second = try await seedCollapsingRun(store, runID: "run-b", steps: 300)
            try await withServe(store: store) { client in
                let dom = try await Chromium.dumpDOM(client.baseURL.absoluteString + "/compare?run=run-a&run=run-b")
                #expect(occurrences(of: "data-run=\"run-a\"", in: dom) == 8)
                #expect(occurrences(of: "data-run=\"run-b\"", in: dom) == 8)
                #expect(dom.contains("stroke=\"#1f77b4\"") && dom.contains("stroke=\"#ff7f0e\""))
                #expect(occurrences(of: "<tr data-detector=", in: dom) == first.count + second.count)
                #expect(dom.contains("run-a — entropy_collapse"), "combined timeline rows name their run")
                #expect(dom.contains("/export/metrics.csv?run=run-a&amp;run=run-b"))
            }
        }
    }

    @Test func hostileRunIDsAndMessagesRenderAsText() async throws {
        guard Chromium.require() != nil else { return }
        try await withSQLiteStore { store, _ in
            let hostile = "<img src=x onerror=alert(1)>"
            try await store.registerRun(RunRecord(runID: hostile, framework: "<b>trl</b>", startedAt: Date().timeIntervalSince1970, configJSON: "{}"))
            let alert = Alert(
                step: 3, detector: .lossNaN, severity: .critical, message: "<script>window.pwned=1</script> & \"quoted\"",
                metricValues: ["loss": .double(.nan)], recommendation: "</td><img src=y onerror=alert(2)>")
            try await store.append(
                steps: (0..<5).map { StoredStep(runID: hostile, segment: 0, timestamp: Date().timeIntervalSince1970, metrics: MetricStep(step: $0, loss: 1)) },
                alerts: [AlertRecord(runID: hostile, timestamp: Date().timeIntervalSince1970, alert: alert, disposition: .delivered)])
            try await withServe(store: store) { client in
                let base = client.baseURL.absoluteString
                for url in [base + "/", base + "/run?id=" + query(hostile), base + "/compare?run=" + query(hostile) + "&run=" + query(hostile)] {
                    let dom = try await Chromium.dumpDOM(url)
                    #expect(!dom.contains("<img"), "an <img> element was created from data on \(url)")
                    #expect(!dom.contains("<script>window"), "a script element was created from data on \(url)")
                    #expect(!dom.contains("<b>trl"), "markup from data on \(url)")
                }
                let page = try await Chromium.dumpDOM(base + "/run?id=" + query(hostile))
                #expect(page.contains("&lt;img src=x onerror=alert(1)&gt;"), "the run id is shown as text")
                #expect(page.contains("&lt;script&gt;window.pwned=1&lt;/script&gt;"), "the message is shown as text")
            }
        }
    }

    /// The log-scale toggle of the grad norm chart: a 2.7e7 spike no longer flattens the rest (the axis spans
    /// decades, labelled 1, 10, … 1e+7); the linear axes print every tick at one precision; the detector-input
    /// charts are drawn; a `run_crashed` alert arriving live turns the green "open" badge into "crashed" (and the
    /// close that comes with it does not make it "finished").
    /// The Content-Security-Policy allows no inline style: the comparison legend and the alert markers must get
    /// their run colours from the stylesheet and the script, which a browser enforcing the policy still applies.
    @Test func runColoursApplyUnderTheStrictContentSecurityPolicy() async throws {
        guard Chromium.require() != nil else { return }
        try await withSQLiteStore { store, _ in
            _ = try await seedCollapsingRun(store, runID: "run-a", steps: 300)
            _ = try await seedCollapsingRun(store, runID: "run-b", steps: 300)
            try await withServe(store: store) { client in
                let policy = try #require(try await client.get("/compare?run=run-a&run=run-b").headers["content-security-policy"])
                #expect(policy.contains("style-src 'self';") && !policy.contains("unsafe-inline"), "\(policy)")
                let page = try await DevToolsSession.open(client.baseURL.absoluteString + "/compare?run=run-a&run=run-b")
                defer { page.close() }
                try await page.waitUntil("document.querySelectorAll('.legend .swatch').length === 2")
                let swatches = try #require(try await page.evaluate(
                    "Array.from(document.querySelectorAll('.legend .swatch')).map(function (s) { return getComputedStyle(s).backgroundColor; }).join(' ')") as? String)
                #expect(swatches == "rgb(31, 119, 180) rgb(255, 127, 14)", "legend colours: \(swatches)")
                try await page.waitUntil("document.querySelectorAll('svg circle.marker').length > 0")
                let fills = try #require(try await page.evaluate(
                    "Array.from(new Set(Array.from(document.querySelectorAll('svg circle.marker')).map(function (m) { return getComputedStyle(m).fill; }))).sort().join(' ')") as? String)
                #expect(fills.contains("rgb(31, 119, 180)") && fills.contains("rgb(255, 127, 14)"), "marker fills: \(fills)")
            }
        }
    }

    @Test func logScaleToggleTickLabelsAndLiveStallBadge() async throws {
        guard Chromium.require() != nil else { return }
        try await withSQLiteStore { store, _ in
            try await withServe(store: store) { client in
                let opened = try await client.post("/api/v1/runs", json: ["run_id": "spiky", "framework": "trl"])
                #expect(opened.status == 201, "\(opened)")
                var steps: [[String: Any]] = []
                for index in 0..<40 {
                    let loss: Double = 0.05 + Double(index) * 0.0025
                    let gradNorm: Double = index == 20 ? 2.7e7 : 0.5 + Double(index % 3)
                    steps.append([
                        "step": index, "loss": loss, "grad_norm": gradNorm, "completions/clipped_ratio": 0.1,
                        "frac_reward_zero_std": 0.2, "completions/mean_length": 700,
                    ])
                }
                let posted = try await client.post("/api/v1/runs/spiky/steps", json: steps)
                #expect(posted.status == 200, "\(posted)")
                let page = try await DevToolsSession.open(client.baseURL.absoluteString + "/run?id=spiky")
                defer { page.close() }
                try await page.waitUntil("document.querySelector('svg[data-chart=\"grad_norm\"]') !== null")
                try await page.waitUntil("document.getElementById('live-status').textContent === 'live'")
                for id in ["frac_reward_zero_std", "clipped_ratio", "mean_completion_length"] {
                    #expect(try await page.evaluate("document.querySelector('svg[data-chart=\"\(id)\"] path.line') !== null") as? Bool == true, "\(id)")
                }
                let labels = { (id: String) in
                    "Array.from(document.querySelectorAll('svg[data-chart=\"\(id)\"] text.ytick')).map(function (t) { return t.textContent; }).join(' ')"
                }
                let loss = try #require(try await page.evaluate(labels("loss")) as? String)
                let decimals = Set(loss.split(separator: " ").map { $0.split(separator: ".").last?.count ?? 0 })
                #expect(decimals.count == 1, "loss ticks at one precision: \(loss)")
                #expect(try await page.evaluate("document.querySelector('svg[data-chart=\"grad_norm\"]').getAttribute('data-scale')") as? String == "linear")
                _ = try await page.evaluate("document.querySelector('input.log-toggle[data-chart=\"grad_norm\"]').click()")
                try await page.waitUntil("document.querySelector('svg[data-chart=\"grad_norm\"]').getAttribute('data-scale') === 'log'")
                let log = try #require(try await page.evaluate(labels("grad_norm")) as? String)
                #expect(log.contains("1e+7") && log.contains("1"), "log ticks: \(log)")
                #expect(try await page.evaluate("document.querySelector('svg[data-chart=\"loss\"]').getAttribute('data-scale')") as? String == "linear")

                #expect(try await page.evaluate("document.getElementById('run-state').className") as? String == "badge open")
                _ = try await client.post("/api/v1/runs/spiky/crash", json: ["exception_type": "", "message": "", "exit_code": 137])
                try await page.waitUntil("document.getElementById('run-state').textContent === 'crashed'")
                #expect(try await page.evaluate("document.getElementById('run-state').className") as? String == "badge crashed")
            }
        }
    }

    @Test func openRunPageShowsNewStepsAndAlertsWithoutReload() async throws {
        guard Chromium.require() != nil else { return }
        try await withSQLiteStore { store, _ in
            try await withServe(store: store) { client in
                let opened = try await client.post("/api/v1/runs", json: ["run_id": "live-run-1", "framework": "manual"])
                #expect(opened.status == 201, "\(opened)")
                var options = SyntheticRuns.HealthyOptions()
                options.steps = 120
                options.seed = 3
                let healthy = SyntheticRuns.healthy(options)
                let path = "/api/v1/runs/" + query("live-run-1") + "/steps"
                let first = try await client.post(path, json: healthy.prefix(60).map(stepObject))
                #expect(first.status == 200, "\(first)")

                let page = try await DevToolsSession.open(client.baseURL.absoluteString + "/run?id=" + query("live-run-1"))
                defer { page.close() }
                try await page.waitUntil("document.getElementById('tile-steps') !== null && document.querySelector('svg[data-chart=\"loss\"]') !== null")
                #expect(try await page.evaluate("document.getElementById('tile-steps').textContent") as? String == "60")
                _ = try await page.evaluate("window.__sameDocument = 'yes'")
                try await page.waitUntil("document.getElementById('live-status').textContent === 'live'")
                // Every detector has its timeline lane before anything fires, so the first alert moves nothing.
                let lanes = "Array.from(document.querySelectorAll('#timeline text.lane')).map(function (t) { return t.getAttribute('data-lane'); }).join(',')"
                let expectedLanes = (DetectorID.all + DetectorID.liveness).map(\.rawValue).joined(separator: ",")
                #expect(try await page.evaluate(lanes) as? String == expectedLanes)
                #expect(try await page.evaluate("document.querySelectorAll('#timeline text.lane.fired').length") as? Int == 0)
                let layout = "JSON.stringify([document.getElementById('timeline').getBoundingClientRect().height, document.getElementById('timeline').nextElementSibling.getBoundingClientRect().top + window.scrollY])"
                let layoutBefore = try await page.evaluate(layout) as? String

                var rest = Array(healthy.dropFirst(60))
                rest[10].loss = .nan
                let second = try await client.post(path, json: rest.map(stepObject))
                #expect(second.status == 200, "\(second)")
                #expect(second.text.contains("loss_nan"), "\(second)")

                try await page.waitUntil("document.querySelector('#alerts-table tr[data-detector=\"loss_nan\"]') !== null")
                try await page.waitUntil("document.querySelector('svg[data-chart=\"loss\"] circle.marker[data-detector=\"loss_nan\"]') !== null")
                #expect(try await page.evaluate("window.__sameDocument") as? String == "yes", "the page was reloaded")
                try await page.waitUntil("document.querySelector('#timeline circle.marker[data-detector=\"loss_nan\"]') !== null")
                #expect(try await page.evaluate(lanes) as? String == expectedLanes)
                #expect(try await page.evaluate("document.querySelector('#timeline text.lane.fired').getAttribute('data-lane')") as? String == "loss_nan")
                #expect(try await page.evaluate(layout) as? String == layoutBefore, "the timeline and what follows it did not move")
                #expect(try await page.evaluate("document.getElementById('tile-steps').textContent") as? String == "120")
                #expect(try await page.evaluate("document.getElementById('tile-health').textContent") as? String == "critical")
                let row = try await page.evaluate("document.querySelector('#alerts-table tr[data-detector=\"loss_nan\"]').textContent") as? String
                #expect(row?.contains("\(rest[10].step)") == true)
                // Shut the server down with the page still subscribed: the stream must end, not hold the shutdown.
            }
        }
    }

    @Test func longRunPageIsDownsampledAndFast() async throws {
        guard Chromium.require() != nil else { return }
        try await withSQLiteStore { store, _ in
            let runID = "long-100k"
            try await store.registerRun(RunRecord(runID: runID, framework: "verl", startedAt: Date().timeIntervalSince1970, configJSON: "{}"))
            let spikeStep = 73_421
            var batch: [StoredStep] = []
            for step in 0..<100_000 {
                let wobble = Double((step * 7919) % 1000) / 1000
                var metrics = MetricStep(
                    step: step, entropy: 2 - Double(step) / 100_000 + 0.05 * wobble, klDivergence: 0.01 + 0.001 * wobble,
                    rewardMean: 0.5 + 0.1 * wobble, rewardStd: 0.2, advantageStd: 1, loss: 0.3 + 0.01 * wobble,
                    gradNorm: step == spikeStep ? 500 : 1 + 0.1 * wobble, learningRate: 1e-6)
                if step == 90_000 { metrics.loss = .infinity }
                batch.append(StoredStep(runID: runID, segment: 0, timestamp: 1_700_000_000 + Double(step), metrics: metrics))
                if batch.count == 10_000 {
                    try await store.append(steps: batch, alerts: [])
                    batch.removeAll()
                }
            }
            let alert = Alert(step: 55_555, detector: .klExplosion, severity: .warning, message: "kl", metricValues: [:], recommendation: "r")
            try await store.append(steps: [], alerts: [AlertRecord(runID: runID, timestamp: 1_700_060_000, alert: alert, disposition: .delivered)])
            let clock = ContinuousClock()
            let readStart = clock.now
            let all = try await store.steps(runID: runID)
            print("reading the 100k rows from SQLite: \(readStart.duration(to: clock.now)) (\(all.count) rows)")
            try await withServe(store: store) { client in
                let start = clock.now
                let reply = try await client.get("/run?id=" + runID)
                let serverTime = start.duration(to: clock.now)
                #expect(reply.status == 200)
                let html = reply.text
                print("100k-step run page: \(html.utf8.count) bytes, served in \(serverTime)")
                #expect(html.utf8.count < 1_500_000, "the page must not carry every row")
                #expect(html.contains("[\(spikeStep)") || html.contains(",\(spikeStep),") || html.contains(",\(spikeStep)]"), "the spike step is kept")
                #expect(html.contains("500.0"), "the spike value is kept")
                #expect(html.contains("\"Infinity\""), "the non-finite loss is kept")
                #expect(html.contains("55555"), "the alert step is kept")

                let page = try await DevToolsSession.open(client.baseURL.absoluteString + "/run?id=" + runID)
                defer { page.close() }
                try await page.waitUntil("document.readyState === 'complete' && document.querySelector('svg[data-chart=\"grad_norm\"]') !== null")
                let timing = try await page.evaluate(
                    "(() => { const n = performance.getEntriesByType('navigation')[0]; return [n.responseEnd - n.startTime, n.loadEventEnd - n.startTime]; })()")
                print("100k-step run page in Chromium: [response end, load event end] ms = \(timing ?? "?")")
                let marker = try await page.evaluate("document.querySelectorAll('svg[data-chart=\"kl_divergence\"] circle.marker').length") as? Int
                #expect(marker == 1)
            }
        }
    }
}

/// How Chromium serialises a text node, for building expected strings.
enum HTMLText {
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }
}

/// A step as a client sends it; non-finite values as strings.
func stepObject(_ step: MetricStep) -> [String: Any] {
    func number(_ value: Double) -> Any {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "Infinity" : "-Infinity" }
        return value
    }
    var object: [String: Any] = ["step": step.step]
    for name in MetricName.allCases {
        if let value = step[name] { object[name.rawValue] = number(value) }
    }
    return object
}
