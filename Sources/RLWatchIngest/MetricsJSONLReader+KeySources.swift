import RLWatchCore

extension MetricsJSONLReader {
    /// Calls `body` with every step of the input, in order, and `firstLine` once with the logged keys and
    /// values of the first line that parses — so a caller can tell the user which logged key feeds which
    /// canonical metric (``FrameworkKeyMap/describeSources(forKeys:)``) without reading the input twice
    /// (standard input cannot be).
    ///
    /// - Parameters:
    ///   - policy: Whether a bad line stops the read (the default) or is reported and skipped.
    ///   - firstLine: Called once, before `body` gets that line's step; nil to skip the raw parse.
    ///   - body: Called with each step as soon as its line is parsed; an error it throws ends the read.
    /// - Returns: How many lines were read, steps delivered and bad lines skipped.
    /// - Throws: As ``forEachStep(onBadLine:_:)``.
    @discardableResult
    public func forEachStep(
        onBadLine policy: BadLinePolicy = .stop, firstLine: ((RawMetricsLine) -> Void)?,
        _ body: (MetricStep) throws -> Void
    ) throws -> Summary {
        var summary = Summary()
        var parser = MetricsLineParser(keyMap: keyMap)
        var reportedFirst = firstLine == nil
        summary.lines = try forEachContentLine { lineNumber, line in
            let step: MetricStep
            do throws(MetricsLineError) {
                step = try parser.parse(line)
                if !reportedFirst {
                    reportedFirst = true
                    // Parsed a second time, once per input: the raw form keeps the logged keys.
                    try firstLine?(parser.parseRaw(line))
                }
            } catch {
                let fileError = MetricsFileError.badLine(name, line: lineNumber, error: error)
                switch policy {
                case .stop:
                    throw fileError
                case .skip(let report):
                    summary.skippedLines += 1
                    report(fileError)
                    return
                }
            }
            try body(step)
            summary.steps += 1
        }
        return summary
    }
}
