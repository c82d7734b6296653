import Foundation
import RLWatchCore

/// Prints delivered alerts as a panel on standard error: red for critical, yellow for warning.
///
/// Colour is used only when stderr is a terminal and `NO_COLOR` is not set; otherwise the panel is
/// plain text, so logs captured by a scheduler stay readable.
public struct ConsoleAlertPrinter: Sendable {
    public var useColor: Bool
    public var width: Int

    public init(useColor: Bool? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.useColor = useColor ?? (isatty(STDERR_FILENO) == 1 && environment["NO_COLOR"] == nil)
        width = 88
    }

    /// The panel for one alert, as text (no trailing newline).
    public func render(_ alert: Alert, runID: String) -> String {
        let title = " rlwatch \(alert.severity.rawValue.uppercased()): \(alert.detector) "
        let inner = width - 4
        var lines: [String] = ["Step \(alert.step) | Run: \(runID)", ""]
        lines += wrap(alert.message, width: inner)
        lines.append("")
        lines += wrap("Recommendation: " + alert.recommendation, width: inner)
        if let resume = alert.resumeFrom, let advice = alert.resumeAdvice {
            lines += wrap("Checkpoint: \(advice): \(resume.path)", width: inner)
        }
        let color = alert.severity == .critical ? "\u{1B}[31m" : "\u{1B}[33m"
        let bold = "\u{1B}[1m"
        let reset = "\u{1B}[0m"
        let paint = { (text: String, style: String) -> String in useColor ? style + text + reset : text }
        let dashes = max(0, width - 2 - title.count - 1)
        var out = paint("╭─" + "", color) + paint(title, bold + color) + paint(String(repeating: "─", count: dashes) + "╮", color)
        for line in lines {
            let padding = String(repeating: " ", count: max(0, inner - line.count))
            out += "\n" + paint("│ ", color) + line + padding + paint(" │", color)
        }
        out += "\n" + paint("╰" + String(repeating: "─", count: width - 2) + "╯", color)
        return out
    }

    /// Writes the panel to standard error.
    public func print(_ alert: Alert, runID: String) {
        FileHandle.standardError.write(Data((render(alert, runID: runID) + "\n").utf8))
    }
}

/// Greedy word wrap; words longer than the width are split.
func wrap(_ text: String, width: Int) -> [String] {
    var lines: [String] = []
    var current = ""
    for word in text.split(separator: " ", omittingEmptySubsequences: false) {
        var word = Substring(word)
        while word.count > width {
            if !current.isEmpty { lines.append(current); current = "" }
            lines.append(String(word.prefix(width)))
            word = word.dropFirst(width)
        }
        if current.isEmpty {
            current = String(word)
        } else if current.count + 1 + word.count <= width {
            current += " " + word
        } else {
            lines.append(current)
            current = String(word)
        }
    }
    if !current.isEmpty || lines.isEmpty { lines.append(current) }
    return lines
}
