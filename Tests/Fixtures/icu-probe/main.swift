import Foundation

// A probe for the server wheel's reduced ICU data (packaging/wheel/icu_data.py): ServerWheelICUDataTests links it
// statically twice, with the toolchain's ICU data and with the reduced one, and compares what it prints.
//
// Without arguments it makes every ICU-backed Foundation call that rlwatch or its dependencies make (our
// DateFormatters, GRDB's and Yams' formatters, ISO 8601, time zones by name, NSRegularExpression, GRDB's SQL
// functions and collations), with the locales they pass: the output must not depend on which data is linked.
// With `control` it formats with a German locale, which the reduced data leaves out: that output must differ,
// which shows the reduced data is what got linked.
if CommandLine.arguments.dropFirst().first == "control" {
    let german = DateFormatter()
    german.locale = Locale(identifier: "de_DE")
    german.timeZone = TimeZone(identifier: "UTC")
    german.dateFormat = "EEEE d MMMM yyyy"
    print(german.string(from: Date(timeIntervalSince1970: 0)))
    exit(0)
}

let epochs: [Double] = [0, 951_782_400, 1_700_000_000.123, 1_767_225_599.999, 2_000_000_000]
func show(_ label: String, _ value: Any) { print("\(label): \(value)") }

for epoch in epochs {
    let date = Date(timeIntervalSince1970: epoch)
    // rlwatch's formatLocalTime (RLWatch/LocalTime.swift): en_US_POSIX, the process's time zone.
    let local = DateFormatter()
    local.locale = Locale(identifier: "en_US_POSIX")
    local.dateFormat = "yyyy-MM-dd HH:mm:ss"
    show("local", local.string(from: date))
    local.dateFormat = "yyyyMMdd_HHmmss"
    show("runid", local.string(from: date))
    // SMTP Date header and HTTP dates (RLWatchAlerts): RFC 5322 / RFC 7231 shapes, en_US_POSIX, UTC/GMT.
    for (zone, pattern) in [("UTC", "EEE, dd MMM yyyy HH:mm:ss Z"), ("GMT", "EEE, dd MMM yyyy HH:mm:ss zzz")] {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: zone)
        f.dateFormat = pattern
        show("rfc-\(zone)", f.string(from: date))
        show("rfc-\(zone)-parse", f.date(from: f.string(from: date)).map { "\($0.timeIntervalSince1970)" } ?? "nil")
    }
    // GRDB's storage format and Yams' timestamp representer (en_US_POSIX, GMT, fractional seconds).
    let grdb = DateFormatter()
    grdb.locale = Locale(identifier: "en_US_POSIX")
    grdb.timeZone = TimeZone(secondsFromGMT: 0)
    grdb.dateFormat = "yyyy-MM-dd HH:mm:ss.SSS"
    show("grdb", grdb.string(from: date))
    grdb.dateFormat = "yyyy-MM-dd'T'HH:mm:ss.SSSSSSSSSZ"
    show("yams", grdb.string(from: date))
    // ISO8601DateFormatter (Trackio logs, the dashboard) and the ISO 8601 format style (the API).
    let iso = ISO8601DateFormatter()
    show("iso", iso.string(from: date))
    iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    show("iso-frac", iso.string(from: date))
    show("iso-parse", iso.date(from: "2025-03-01T12:34:56.789Z").map { "\($0.timeIntervalSince1970)" } ?? "nil")
    show("style", date.formatted(.iso8601))
    // Gregorian calendar in UTC (alert formatting).
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "UTC")!
    let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: date)
    show("calendar", "\(parts.year!)-\(parts.month!)-\(parts.day!) \(parts.hour!):\(parts.minute!) wd\(parts.weekday!)")
    show("calendar-current", Calendar.current.component(.hour, from: date))
}
// Time zones by name: the offsets and DST rules come from ICU's zoneinfo64.
for name in ["UTC", "GMT", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "America/Sao_Paulo"] {
    let zone = TimeZone(identifier: name)
    show("zone-\(name)", zone.map { "\($0.secondsFromGMT(for: Date(timeIntervalSince1970: 1_700_000_000))) \($0.isDaylightSavingTime(for: Date(timeIntervalSince1970: 1_690_000_000)))" } ?? "nil")
}
show("zone-current", TimeZone.current.identifier)
// Yams' NumberFormatter (en_US) for floats, GRDB's Decimal and NSNumber descriptions (en_US_POSIX).
let number = NumberFormatter()
number.locale = Locale(identifier: "en_US")
number.numberStyle = .scientific
number.maximumFractionDigits = 15
for value in [0.1, 1234567.891, 1e-20, -3.5e300] { show("number", number.string(from: NSNumber(value: value)) ?? "nil") }
show("decimal", Decimal(string: "1234.5678")!.description)
show("nsnumber", NSNumber(value: 3.25).description(withLocale: Locale(identifier: "en_US_POSIX")))
show("format", String(format: "%.2f %.4g %02x", 3.14159, 0.000123456, 255))
// Yams' resolver and GRDB's inflections: NSRegularExpression, case-insensitive.
for (pattern, text) in [("^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$", "TRUE"),
                        ("^[-+]?(?:[0-9][0-9_]*)(?:\\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?$", "12.5e3"),
                        ("(ax|test)is$", "TESTIS"), ("\\b\\w+$", "snake_case word")] {
    let regex = try! NSRegularExpression(pattern: pattern, options: [.caseInsensitive])
    let range = NSRange(text.startIndex..., in: text)
    show("regex", regex.firstMatch(in: text, range: range).map { "\($0.range.location),\($0.range.length)" } ?? "none")
}
// GRDB's SQL functions and collations (capitalize, localized compare) on English text.
show("capitalized", "hello wORLD of runs".capitalized)
show("compare", ["b", "A", "a", "B", "é", "e"].sorted { $0.localizedCompare($1) == .orderedAscending })
show("compare-ci", "Straße".localizedCaseInsensitiveCompare("STRASSE").rawValue)
show("compare-std", ["file10", "file2", "File1"].sorted { $0.localizedStandardCompare($1) == .orderedAscending })
show("upper", "straße".uppercased())
show("locale", Locale(identifier: "en_US_POSIX").identifier)
