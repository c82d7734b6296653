import Foundation

/// `epochSeconds` in local time with a fixed-locale `DateFormatter` pattern (e.g. `yyyy-MM-dd HH:mm:ss`).
public func formatLocalTime(_ epochSeconds: Double, _ pattern: String = "yyyy-MM-dd HH:mm:ss") -> String {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.dateFormat = pattern
    return formatter.string(from: Date(timeIntervalSince1970: epochSeconds))
}
