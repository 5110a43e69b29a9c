import Foundation
import StrataStore

/// Topic counts over time (`--time-field NAME`): how many documents of each topic carry each day, kept
/// sparse in topics.json (`over_time`) and summed into weeks or months for `strata topics --over-time`
/// and the report's chart — "what grew this month?".
public struct Timeline: Codable, Sendable, Equatable {
    /// The document field the dates came from.
    public var field: String
    /// Distinct days present, ascending (`YYYY-MM-DD`, UTC).
    public var days: [String]
    /// `[topic id, index into days, documents]` for every non-zero cell (topic −1 included).
    public var counts: [[Int]]
    /// Documents whose field was missing or not a date.
    public var undated: Int

    public enum Granularity: String, Sendable, CaseIterable { case day, week, month }

    /// Counts per (topic, day) of `documents` (source order, `topicOfDocument` aligned). A field holding
    /// ISO 8601 dates or date-times, `YYYY-MM-DD HH:MM:SS`, or Unix seconds (or milliseconds) is read;
    /// anything else counts as undated. O(n).
    public static func build(documents docs: [Document], topicOfDocument: [Int], field: String) -> Timeline {
        var cells: [Int: [String: Int]] = [:]
        var undated = 0
        for (i, d) in docs.enumerated() {
            guard let v = d.metadata[field], let day = day(of: v) else { undated += 1; continue }
            cells[topicOfDocument[i], default: [:]][day, default: 0] += 1
        }
        let days = Array(Set(cells.values.flatMap(\.keys))).sorted()
        let index = Dictionary(uniqueKeysWithValues: days.enumerated().map { ($1, $0) })
        let counts = cells.keys.sorted().flatMap { t in cells[t]!.map { [t, index[$0.key]!, $0.value] } }.sorted { ($0[0], $0[1]) < ($1[0], $1[1]) }
        return Timeline(field: field, days: days, counts: counts, undated: undated)
    }

    static func day(of value: MetadataValue) -> String? {
        let date: Date?
        switch value {
        case .integer(let i): date = Date(timeIntervalSince1970: Double(i) > 1e11 ? Double(i) / 1000 : Double(i))
        case .number(let x): date = Date(timeIntervalSince1970: x > 1e11 ? x / 1000 : x)
        case .string(let s): date = parse(s)
        default: date = nil
        }
        return date.map { dayFormatter.string(from: $0) }
    }

    static func parse(_ s: String) -> Date? {
        let t = s.trimmingCharacters(in: .whitespaces)
        if t.count == 10, let d = dayFormatter.date(from: t) { return d }
        if let d = isoFormatter.date(from: t) ?? isoFractionalFormatter.date(from: t) { return d }
        let sql = t.replacingOccurrences(of: " ", with: "T")
        return isoFormatter.date(from: sql) ?? isoFormatter.date(from: sql + "Z")
    }

    // Made once: a formatter costs far more to create than to use, and a corpus has a date per document.
    nonisolated(unsafe) static let isoFormatter = ISO8601DateFormatter()
    nonisolated(unsafe) static let isoFractionalFormatter: ISO8601DateFormatter = {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f
    }()

    nonisolated(unsafe) static let dayFormatter: DateFormatter = {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd"
        return f
    }()

    /// The period a day falls in: the day, its ISO week (`2026-W05`) or its month (`2026-02`).
    static func period(_ day: String, _ g: Granularity) -> String {
        switch g {
        case .day: return day
        case .month: return String(day.prefix(7))
        case .week:
            guard let d = dayFormatter.date(from: day) else { return day }
            var c = Calendar(identifier: .iso8601)
            c.timeZone = TimeZone(identifier: "UTC")!
            let parts = c.dateComponents([.yearForWeekOfYear, .weekOfYear], from: d)
            return String(format: "%04d-W%02d", parts.yearForWeekOfYear ?? 0, parts.weekOfYear ?? 0)
        }
    }

    /// Documents per topic per period, periods ascending: `(periods, counts[topic][periodIndex])`.
    public func series(_ g: Granularity) -> (periods: [String], counts: [Int: [Int]]) {
        let periodOfDay = days.map { Self.period($0, g) }
        let periods = Array(Set(periodOfDay)).sorted()
        let index = Dictionary(uniqueKeysWithValues: periods.enumerated().map { ($1, $0) })
        var series: [Int: [Int]] = [:]
        for cell in counts {
            series[cell[0], default: [Int](repeating: 0, count: periods.count)][index[periodOfDay[cell[1]]]!] += cell[2]
        }
        return (periods, series)
    }

    /// The granularity that gives at most ~60 periods: days within two months, weeks within a year, else months.
    public var naturalGranularity: Granularity {
        guard let first = days.first.flatMap(Self.dayFormatter.date), let last = days.last.flatMap(Self.dayFormatter.date) else { return .day }
        let span = last.timeIntervalSince(first) / 86_400
        return span <= 62 ? .day : span <= 400 ? .week : .month
    }
}
