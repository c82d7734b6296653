import Foundation
import RLWatchCore
import RLWatchSQLite
import RLWatchStore
import Testing

@testable import RLWatchDashboard

@Suite struct DashboardUnitTests {
    @Test func downsamplingKeepsSpikesAlertStepsAndNonFiniteValues() {
        let count = 100_000
        var values = (0..<count).map { Double?(sin(Double($0) / 500)) }
        values[31_337] = 40
        values[31_338] = -40
        values[77_777] = .nan
        values[5] = nil
        let kept = Downsampler.indices(count: count, buckets: 500, keep: [12_345]) { values[$0] }
        #expect(kept.count <= 4 * 500 + 2)
        #expect(kept == kept.sorted())
        #expect(Set(kept).isSuperset(of: [31_337, 31_338, 77_777, 12_345, 0, count - 1]))
        #expect(!kept.contains(5))
        #expect(Downsampler.indices(count: 4, buckets: 10) { [1, nil, 3, 4][$0] } == [0, 2, 3])
    }

    @Test(arguments: [[0, 1, 2, 3], [5, 10, 400, 100_000], [0, 7, 3, 9, 2], [-20, -3], [1_000_000_000_000]])
    func latestStepFindsTheLargestStepWithoutReadingTheRun(steps: [Int]) async throws {
        let store = InMemoryStore()
        try await store.registerRun(RunRecord(runID: "r", framework: "manual", startedAt: 0, configJSON: "{}"))
        try await store.append(
            steps: steps.enumerated().map { StoredStep(runID: "r", segment: 0, timestamp: Double($0.offset), metrics: MetricStep(step: $0.element)) },
            alerts: [])
        let latest = try await store.latestStep(runID: "r")
        #expect(latest?.metrics.step == steps.max())
        #expect(try await store.latestStep(runID: "missing") == nil)
    }

    @Test func escapingCoversTextAttributesAndInlineJSON() {
        #expect(HTML.escape(#"<img src=x onerror="a('1')">&"#) == "&lt;img src=x onerror=&quot;a(&#39;1&#39;)&quot;&gt;&amp;")
        let json = HTML.scriptJSON(.object([("id", .string("</script><script>alert(1)</script>"))]))
        #expect(!json.contains("<"))
        #expect(HTML.queryValue("a b/c?&=#é") == "a%20b%2Fc%3F%26%3D%23%C3%A9")
    }

    @Test func csvQuotesFieldsThatNeedIt() {
        #expect(Exports.csvLine(["a", "b,c", "say \"hi\"", "x\ny", "NaN"]) == "a,\"b,c\",\"say \"\"hi\"\"\",\"x\ny\",NaN\r\n")
        #expect(Exports.number(.infinity) == "Infinity" && Exports.number(-.infinity) == "-Infinity" && Exports.number(nil) == "")
    }

    /// Issue 20: a run id `=HYPERLINK(…)` started a live formula in `/export/*.csv`.
    @Test func csvCellsThatASpreadsheetWouldRunAreNeutralised() {
        #expect(Exports.csvLine(["=HYPERLINK(\"http://x\",\"y\")", "+1+2", "-2+3", "@SUM(A1)", "\tx", "\rx"])
            == "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",'+1+2,'-2+3,'@SUM(A1),'\tx,\"'\rx\"\r\n")
        // Numbers stay numbers, so that exports read back exactly.
        #expect(Exports.csvLine(["-0.5", "-Infinity", "-3", "1e-300", "+4", "a=b", ""]) == "-0.5,-Infinity,-3,1e-300,+4,a=b,\r\n")
    }

    @Test func configSecretsAreMaskedEvenInOldDatabases() {
        let config = #"{"alerts":{"email":{"smtp_password":"hunter2","to":["a@b"]},"webhook":{"url":"https://h/secret","headers":{"X-Key":"k"}},"slack":{"webhook_url":"https://hooks/x"}},"entropy_collapse":{"threshold":null}}"#
        let shown = ConfigRedaction.pretty(config)
        for secret in ["hunter2", "https://h/secret", "\"k\"", "https://hooks/x"] { #expect(!shown.contains(secret), "\(secret) shown") }
        #expect(shown.contains("a@b"))
        #expect(shown.contains("entropy_collapse"))
        // rlwatch 0.5.1 wrote Python's bare NaN: the store reads its columns leniently, and so does this page.
        let python = ConfigRedaction.pretty(#"{"kl": {"threshold": NaN, "webhook_url": "https://hooks/y"}, "a": 1}"#)
        #expect(python == "{\n  \"a\": 1,\n  \"kl\": {\n    \"threshold\": \"NaN\",\n    \"webhook_url\": \"***\"\n  }\n}", "\(python)")
        #expect(ConfigRedaction.pretty("{nope") == "(the stored configuration is not JSON and is not shown)")
        #expect(ConfigRedaction.pretty(#""just text""#) == "{}")
    }
}

@Suite struct LatestStepSQLiteTests {
    @Test func sqliteAnswersFromTheIndexAndAgreesWithTheGenericSearch() async throws {
        try await withSQLiteStore { store, _ in
            try await store.registerRun(RunRecord(runID: "r", framework: "manual", startedAt: 0, configJSON: "{}"))
            let steps = [0, 5, 10, 3, 7, 10, 2]
            try await store.append(
                steps: steps.enumerated().map { StoredStep(runID: "r", segment: 0, timestamp: Double($0.offset), metrics: MetricStep(step: $0.element)) },
                alerts: [])
            let latest = try await store.latestStep(runID: "r")
            #expect(latest?.metrics.step == 10)
            #expect(latest?.timestamp == 5, "the last row to arrive at the largest step")
            #expect(try await store.latestStep(runID: "none") == nil)
        }
    }
}
