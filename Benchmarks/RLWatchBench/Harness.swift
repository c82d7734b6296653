import Foundation

/// Keeps a value alive so the optimizer cannot drop the work that produced it.
///
/// Unoptimized and never inlined, as ordo-one/benchmark's `blackHole`: the caller must materialize the
/// value, and the call itself costs a few nanoseconds.
@inline(never) @_optimize(none)
func blackHole(_ value: some Any) {}

let clock = ContinuousClock()

/// CPU time of the whole process (all threads, user + system), in nanoseconds.
///
/// The bench machine is shared: while other work runs, wall time includes time this process spent
/// descheduled. CPU time does not, so the table reports both and judges targets on CPU time.
func processCPUTime() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &spec)
    return Double(spec.tv_sec) * 1e9 + Double(spec.tv_nsec)
}

/// Wall and CPU time of one run of `body`, in nanoseconds.
func measureTimes(_ body: () throws -> Void) rethrows -> Times {
    let cpuStart = processCPUTime()
    let start = clock.now
    try body()
    let wall = (clock.now - start).nanoseconds
    return Times(wall: wall, cpu: processCPUTime() - cpuStart)
}

/// Wall and CPU time of one run of an async `body`, in nanoseconds.
func measureTimesAsync(_ body: () async throws -> Void) async rethrows -> Times {
    let cpuStart = processCPUTime()
    let start = clock.now
    try await body()
    let wall = (clock.now - start).nanoseconds
    return Times(wall: wall, cpu: processCPUTime() - cpuStart)
}

/// Wall and CPU time of one measured run, in nanoseconds.
struct Times {
    var wall: Double
    var cpu: Double

    /// The fastest of several runs, wall and CPU each taken at their minimum (failed runs are NaN).
    static func best(_ runs: [Times]) -> Times {
        let ok = runs.filter { !$0.wall.isNaN }
        return Times(wall: ok.map(\.wall).min() ?? .nan, cpu: ok.map(\.cpu).min() ?? .nan)
    }
}

extension Duration {
    /// The duration in nanoseconds, as a Double.
    var nanoseconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1e9 + Double(attoseconds) * 1e-9
    }
}

/// What a benchmark is measured against: an upper bound on time per operation or a lower bound on a rate.
enum Target: Sendable {
    case none
    /// At most this many nanoseconds per operation.
    case atMost(nanoseconds: Double)
    /// At least this many units per second.
    case atLeast(perSecond: Double)

    var text: String {
        switch self {
        case .none: "-"
        case .atMost(let ns): "≤ \(formatDuration(ns))"
        case .atLeast(let rate): "≥ \(formatRate(rate))/s"
        }
    }
}

/// One line of the results table.
struct BenchmarkResult: Sendable {
    var name: String
    /// Operations measured (steps, rows, commits, process runs).
    var iterations: Int
    /// Mean wall time per operation.
    var meanNanoseconds: Double
    /// Mean CPU time per operation (process CPU time over the same loop), when measured.
    var cpuNanoseconds: Double?
    var p50Nanoseconds: Double?
    var p99Nanoseconds: Double?
    /// Operations per second, and what an operation is ("steps", "rows").
    var rate: (perSecond: Double, unit: String)?
    var target: Target = .none
    var note = ""

    /// Whether the target is met, judged on CPU time per operation when it was measured (the machine
    /// is shared) and on wall time otherwise; nil when there is no target.
    var passes: Bool? {
        let perOperation = cpuNanoseconds ?? meanNanoseconds
        switch target {
        case .none: return nil
        case .atMost(let ns): return perOperation <= ns
        case .atLeast(let perSecond):
            if cpuNanoseconds == nil, let rate { return rate.perSecond >= perSecond }
            return 1e9 / perOperation >= perSecond
        }
    }
}

/// Percentiles of a set of per-operation samples, in nanoseconds.
struct Percentiles {
    var p50: Double
    var p99: Double

    init(_ samples: [Double]) {
        let sorted = samples.sorted()
        func at(_ q: Double) -> Double {
            guard !sorted.isEmpty else { return .nan }
            return sorted[min(sorted.count - 1, Int((q * Double(sorted.count - 1)).rounded()))]
        }
        p50 = at(0.5)
        p99 = at(0.99)
    }
}

/// Times `count` calls of `body` one by one; returns the per-call samples in nanoseconds.
///
/// Each sample includes one `ContinuousClock.now` (a vDSO `clock_gettime`, ~20 ns), so use it for
/// percentiles and take the mean from an untimed-per-call loop where the difference matters.
func sampleEach(_ count: Int, _ body: (Int) throws -> Void) rethrows -> [Double] {
    var samples = [Double](repeating: 0, count: count)
    var previous = clock.now
    for i in 0..<count {
        try body(i)
        let now = clock.now
        samples[i] = (now - previous).nanoseconds
        previous = now
    }
    return samples
}

/// Times `count` async calls of `body` one by one; returns the per-call samples in nanoseconds.
func sampleEachAsync(_ count: Int, _ body: (Int) async throws -> Void) async rethrows -> [Double] {
    var samples = [Double](repeating: 0, count: count)
    var previous = clock.now
    for i in 0..<count {
        try await body(i)
        let now = clock.now
        samples[i] = (now - previous).nanoseconds
        previous = now
    }
    return samples
}

func formatDuration(_ ns: Double) -> String {
    if ns.isNaN { return "-" }
    if ns < 1_000 { return "\(fixed(ns, 0)) ns" }
    if ns < 1_000_000 { return "\(fixed(ns / 1_000, ns < 10_000 ? 2 : 1)) µs" }
    if ns < 1_000_000_000 { return "\(fixed(ns / 1_000_000, 1)) ms" }
    return "\(fixed(ns / 1_000_000_000, 2)) s"
}

func formatRate(_ perSecond: Double) -> String {
    if perSecond >= 1_000_000 { return "\(fixed(perSecond / 1_000_000, 2))M" }
    if perSecond >= 1_000 { return "\(fixed(perSecond / 1_000, 1))k" }
    return fixed(perSecond, 0)
}

func fixed(_ value: Double, _ decimals: Int) -> String {
    String(format: "%.*f", decimals, value)
}

/// The string in a NUL-terminated C buffer.
func string(fromCBuffer buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// Prints results as a Markdown table (readable in a terminal, pasteable into a report).
func printTable(_ results: [BenchmarkResult]) {
    let header = [
        "benchmark", "iterations", "mean (wall)", "mean (cpu)", "p50", "p99", "rate (wall)", "target", "ok", "note",
    ]
    let rows = results.map { result -> [String] in
        [
            result.name,
            "\(result.iterations)",
            formatDuration(result.meanNanoseconds),
            result.cpuNanoseconds.map(formatDuration) ?? "-",
            result.p50Nanoseconds.map(formatDuration) ?? "-",
            result.p99Nanoseconds.map(formatDuration) ?? "-",
            result.rate.map { "\(formatRate($0.perSecond)) \($0.unit)/s" } ?? "-",
            result.target.text,
            result.passes.map { $0 ? "PASS" : "FAIL" } ?? "-",
            result.note,
        ]
    }
    var widths = header.map(\.count)
    for row in rows {
        for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) }
    }
    func line(_ cells: [String]) -> String {
        "| "
            + cells.enumerated().map { i, cell in cell + String(repeating: " ", count: widths[i] - cell.count) }
            .joined(separator: " | ") + " |"
    }
    print(line(header))
    print("|" + widths.map { String(repeating: "-", count: $0 + 2) }.joined(separator: "|") + "|")
    for row in rows { print(line(row)) }
}

/// Progress and notes go to standard error so standard output holds only the table.
func note(_ text: String) {
    var line = text + "\n"
    line.withUTF8 { buffer in _ = write(STDERR_FILENO, buffer.baseAddress, buffer.count) }
}

/// Runs `body` with standard output sent to /dev/null (the replay engine writes alerts to fd 1).
func withStandardOutputSilenced<T>(_ body: () throws -> T) rethrows -> T {
    fflush(nil)
    let saved = dup(STDOUT_FILENO)
    let null = open("/dev/null", O_WRONLY)
    if saved >= 0, null >= 0 { dup2(null, STDOUT_FILENO) }
    defer {
        if saved >= 0 {
            dup2(saved, STDOUT_FILENO)
            close(saved)
        }
        if null >= 0 { close(null) }
    }
    return try body()
}

/// A fresh empty directory under the bench directory.
func makeTemporaryDirectory(_ prefix: String) -> String {
    var template = Array("\(BenchPaths.root)/\(prefix)-XXXXXX".utf8CString)
    let made = template.withUnsafeMutableBufferPointer { buffer in
        buffer.baseAddress.flatMap { mkdtemp($0) }
    }
    guard made != nil else { fatalError("mkdtemp failed under \(BenchPaths.root)") }
    return string(fromCBuffer: template)
}

/// Removes a directory tree (the bench's own temporary databases).
func removeTree(_ path: String) {
    _ = runProcess("/bin/rm", ["-rf", path])
}

/// Where the bench keeps its inputs and scratch databases.
enum BenchPaths {
    static let root: String = {
        let path = getenv("RLWATCH_BENCH_DIR").map { String(cString: $0) } ?? "/tmp/rlwatch-bench"
        mkdir(path, 0o755)
        return path
    }()
}

/// A named measurement that produces one or more table rows.
struct Benchmark {
    var name: String
    var summary: String
    var run: () async throws -> [BenchmarkResult]

    init(name: String, summary: String, run: @escaping () async throws -> [BenchmarkResult]) {
        self.name = name
        self.summary = summary
        self.run = run
    }
}
