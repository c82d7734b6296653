import Foundation
import Testing

/// The server wheel's reduced ICU data (`packaging/wheel/icu_data.py`, linked by `scripts/build-wheel` in place of
/// the toolchain's 34 MB package): it is read from the real toolchain archive, and a probe program linked statically
/// with it prints exactly what the same probe prints with the toolchain's data, for every ICU-backed call rlwatch and
/// its dependencies make, whatever the user's time zone and locale.
extension ServerWheelCLITests {
    /// The toolchain's `lib_FoundationICU.a`, where `scripts/build-wheel` finds it.
    func toolchainICUArchive(in sandbox: CLISandbox) async throws -> String {
        let info = try await runTool(
            "/usr/bin/env", ["swiftc", "-print-target-info"], in: sandbox, timeout: .seconds(60))
        #expect(info.status == 0, "\(info)")
        let json = try JSONSerialization.jsonObject(with: Data(info.stdout.utf8)) as? [String: Any]
        let paths = json?["paths"] as? [String: Any]
        let resources = try #require(paths?["runtimeResourcePath"] as? String, "\(info.stdout)")
        return resources + "_static/linux/lib_FoundationICU.a"
    }

    @Test(.timeLimit(.minutes(2)))
    func icuDataLeavesOutOnlyWhatRLWatchNeverReaches() async throws {
        let sandbox = try CLISandbox()
        let archive = try await toolchainICUArchive(in: sandbox)
        let out = sandbox.url("icu")
        let built = try await runTool(
            "/usr/bin/env", ["python3", "packaging/wheel/icu_data.py", "--archive", archive, "--out", out.path],
            in: sandbox, timeout: .seconds(90))
        #expect(built.status == 0, "\(built)")
        // `<object> <symbol>`: what build-wheel links and the symbol it --defsym's onto it.
        let printed = built.stdout.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        #expect(printed.count == 2 && printed[1].wholeMatch(of: /icudt\d+_dat/) != nil, "\(built.stdout)")
        let object = try #require(printed.first)
        #expect(FileManager.default.fileExists(atPath: object), "\(object)")
        let symbols = try await runTool("/usr/bin/env", ["nm", object], in: sandbox, timeout: .seconds(30))
        #expect(symbols.stdout.contains(" R rlwatch_\(printed[1])"), "\(symbols)")

        // Item by item: the locale chain rlwatch formats with, time zones, collation root, break rules and all
        // non-locale data stay; legacy charsets, other locales, segmentation dictionaries and transliterators go.
        let listed = try await runTool(
            "/usr/bin/env", ["python3", "packaging/wheel/icu_data.py", "--archive", archive, "--list"],
            in: sandbox, timeout: .seconds(90))
        #expect(listed.status == 0, "\(listed)")
        var verdicts: [String: String] = [:]
        var keptBytes = 0
        var allBytes = 0
        for line in listed.stdout.split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 2).map(String.init)
            guard fields.count == 3, let size = Int(fields[0]) else { continue }
            let name = fields[1].split(separator: "/", maxSplits: 1).last.map(String.init) ?? fields[1]
            verdicts[name] = fields[2]
            allBytes += size
            if fields[2] == "keep" { keptBytes += size }
        }
        for kept in [
            "root.res", "en.res", "en_US.res", "en_US_POSIX.res", "pool.res", "res_index.res", "zoneinfo64.res",
            "metaZones.res", "timezoneTypes.res", "likelySubtags.res", "supplementalData.res", "numberingSystems.res",
            "zone/en.res", "zone/pool.res", "coll/root.res", "coll/ucadata.icu", "brkitr/word.brk", "brkitr/root.res",
            "uts46.nrm", "cnvalias.icu",
        ] {
            #expect(verdicts[kept] == "keep", "\(kept): \(verdicts[kept] ?? "not in the package")")
        }
        #expect(verdicts["de.res"] == "locale bundle (formats)")
        #expect(verdicts["zone/ja.res"] == "locale bundle (zone)")
        #expect(verdicts["coll/zh.res"] == "locale bundle (coll)")
        #expect(verdicts["brkitr/cjdict.dict"] == "word-segmentation dictionary")
        #expect(verdicts["translit/root.res"] == "transliterator")
        #expect(verdicts.contains { $0.key.hasPrefix("ibm-") && $0.value == "legacy charset converter" })
        // What the size is about: the package shrinks to a small part of itself.
        #expect(allBytes > 0 && keptBytes * 4 < allBytes, "kept \(keptBytes) of \(allBytes) bytes")
        let data = try Data(contentsOf: URL(fileURLWithPath: object).deletingPathExtension().appendingPathExtension("dat"))
        #expect(data.count >= keptBytes && data.count < allBytes / 4, "package \(data.count) bytes, kept \(keptBytes)")

        // A missing archive is named.
        let missing = try await runTool(
            "/usr/bin/env",
            ["python3", "packaging/wheel/icu_data.py", "--archive", sandbox.url("none.a").path, "--out", out.path],
            in: sandbox, timeout: .seconds(30))
        #expect(missing.status == 1 && missing.stderr.contains("none.a: no such file"), "\(missing)")
    }

    /// The probe (`Tests/Fixtures/icu-probe/main.swift`) linked statically with the toolchain's ICU data and with the
    /// reduced data, the way `scripts/build-wheel` links rlwatch, run under several time zones and locales.
    @Test(.timeLimit(.minutes(6)))
    func theReducedICUDataFormatsAsTheFullDataDoes() async throws {
        let sandbox = try CLISandbox()
        let archive = try await toolchainICUArchive(in: sandbox)
        let out = sandbox.url("icu")
        let built = try await runTool(
            "/usr/bin/env", ["python3", "packaging/wheel/icu_data.py", "--archive", archive, "--out", out.path],
            in: sandbox, timeout: .seconds(90))
        #expect(built.status == 0, "\(built)")
        let printed = built.stdout.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        try #require(printed.count == 2, "\(built)")

        let source = CLIBinary.packageRoot.appendingPathComponent("Tests/Fixtures/icu-probe/main.swift").path
        let full = sandbox.url("probe-full").path
        let reduced = sandbox.url("probe-reduced").path
        let compile = ["swiftc", "-O", "-static-stdlib", source, "-module-cache-path", sandbox.url("cache").path]
        async let fullBuild = runTool(
            "/usr/bin/env", compile + ["-o", full], in: sandbox, timeout: .seconds(300))
        async let reducedBuild = runTool(
            "/usr/bin/env",
            compile + [
                "-o", reduced, "-Xlinker", printed[0], "-Xlinker", "--defsym=\(printed[1])=rlwatch_\(printed[1])",
            ],
            in: sandbox, timeout: .seconds(300))
        let (fullResult, reducedResult) = try await (fullBuild, reducedBuild)
        try #require(fullResult.status == 0, "\(fullResult)")
        try #require(reducedResult.status == 0, "\(reducedResult)")
        let sizes = try [full, reduced].map { try FileManager.default.attributesOfItem(atPath: $0)[.size] as? Int ?? 0 }
        #expect(sizes[0] - sizes[1] > 25_000_000, "probe sizes \(sizes)")

        for environment in [
            ["TZ=UTC", "LANG=C"], ["TZ=America/New_York", "LANG=de_DE.UTF-8"], ["TZ=Asia/Kolkata", "LC_ALL=ja_JP.UTF-8"],
            ["TZ=Australia/Lord_Howe", "LANG=ar_EG.UTF-8"], ["TZ=Europe/Berlin", "LANG=th_TH.UTF-8"],
        ] {
            let a = try await runTool("/usr/bin/env", environment + [full], in: sandbox, timeout: .seconds(60))
            let b = try await runTool("/usr/bin/env", environment + [reduced], in: sandbox, timeout: .seconds(60))
            #expect(a.status == 0 && b.status == 0, "\(a) \(b)")
            #expect(a.stdout.split(separator: "\n").count > 80, "\(a.stdout)")
            #expect(a.stdout == b.stdout, "\(environment): full data\n\(a.stdout)\nreduced data\n\(b.stdout)")
        }
        // The same formatter with a German locale: German names from `de.res` with the toolchain's data; with the
        // reduced data ICU falls back to the default locale's (English here), as for any locale it lacks. That shows
        // the reduced data is what the second probe linked.
        let german = ["LANG=C", "LC_ALL=C"]
        let germanFull = try await runTool("/usr/bin/env", german + [full, "control"], in: sandbox, timeout: .seconds(60))
        let germanReduced = try await runTool(
            "/usr/bin/env", german + [reduced, "control"], in: sandbox, timeout: .seconds(60))
        #expect(germanFull.stdout.contains("Donnerstag 1 Januar 1970"), "\(germanFull)")
        #expect(
            germanReduced.status == 0 && !germanReduced.stdout.contains("Donnerstag")
                && germanReduced.stdout.contains("1970"),
            "\(germanReduced)")
    }
}
