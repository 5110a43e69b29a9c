import Foundation

/// Plain-text views of a topics document.
public enum TopicTable {
    static func pad(_ s: String, _ w: Int) -> String {
        s.count >= w ? String(s.prefix(w)) : s + String(repeating: " ", count: w - s.count)
    }

    /// One line per topic: id, size, share, label, source, label confidence (the verification
    /// margin; "–" when labels were not verified), top keywords.
    public static func render(_ doc: TopicsDocument) -> String {
        var lines = ["  id   size  share  label                                 source        conf.  keywords"]
        for t in doc.topics {
            let id = String(repeating: " ", count: max(0, 4 - String(t.id).count)) + String(t.id)
            let size = String(repeating: " ", count: max(0, 6 - String(t.size).count)) + String(t.size)
            let share = String(format: "%5.1f%%", t.share * 100)
            let confidence = t.labelConfidence.map { String(format: "%5.2f", $0) } ?? "    –"
            lines.append("\(id) \(size) \(share)  \(pad(t.label, 36))  \(pad(t.labelSource.rawValue, 12))  \(confidence)  \(t.keywords.prefix(5).joined(separator: ", "))")
        }
        let r = doc.run
        lines.append("")
        lines.append("\(doc.topics.count) topics over \(r.counts.documents) documents · k \(r.kmeans.selection) · embedded \(r.counts.embedded), cached \(r.counts.cached) · LLM calls \(r.labeler.calls)")
        return lines.joined(separator: "\n")
    }

    /// The hierarchy as an indented tree.
    public static func tree(_ doc: TopicsDocument) -> String {
        var lines: [String] = []
        let byID = Dictionary(uniqueKeysWithValues: doc.topics.map { ($0.id, $0) })
        for p in doc.hierarchy {
            let size = p.children.compactMap { byID[$0]?.size }.reduce(0, +)
            lines.append("\(p.label)  (\(size) docs)")
            for (i, c) in p.children.enumerated() {
                guard let t = byID[c] else { continue }
                lines.append("\(i == p.children.count - 1 ? "└─" : "├─") [\(t.id)] \(t.label)  (\(t.size))")
            }
        }
        for t in doc.topics where t.parentID == nil { lines.append("[\(t.id)] \(t.label)  (\(t.size))") }
        return lines.joined(separator: "\n")
    }

    /// Documents per period with the three largest topics' shares, then the topics whose share grew most
    /// from the second-last to the last period.
    public static func overTime(_ doc: TopicsDocument, _ timeline: Timeline, _ g: Timeline.Granularity) -> String {
        let (periods, counts) = timeline.series(g)
        let label = Dictionary(uniqueKeysWithValues: doc.topics.map { ($0.id, $0.label) })
        func name(_ t: Int) -> String { "\(t) " + (label[t] ?? (t == -1 ? "no topic" : "?")) }
        let totals = periods.indices.map { p in counts.values.reduce(0) { $0 + $1[p] } }
        var lines = ["\(timeline.field) by \(g.rawValue)" + (timeline.undated > 0 ? " (\(timeline.undated) undated documents left out)" : ""),
                     "period       docs  largest topics (share)"]
        for (p, period) in periods.enumerated() {
            let ranked: [(topic: Int, n: Int)] = counts.map { ($0.key, $0.value[p]) }
                .sorted { $0.n > $1.n || ($0.n == $1.n && $0.topic < $1.topic) }
            let top: [String] = ranked.prefix(3).filter { $0.n > 0 }.map { c in
                name(c.topic) + String(format: " %.0f%%", 100 * Double(c.n) / Double(max(1, totals[p])))
            }
            lines.append(period.padding(toLength: 11, withPad: " ", startingAt: 0) + String(format: "%6d", totals[p]) + "  " + top.joined(separator: " · "))
        }
        guard periods.count >= 2 else { return lines.joined(separator: "\n") }
        let last = periods.count - 1
        func share(_ t: Int, _ p: Int) -> Double { Double(counts[t]![p]) / Double(max(1, totals[p])) }
        let changes: [(topic: Int, delta: Double)] = counts.keys.map { ($0, share($0, last) - share($0, last - 1)) }
        let grew = changes.sorted { $0.delta > $1.delta || ($0.delta == $1.delta && $0.topic < $1.topic) }.prefix(3).filter { $0.delta > 0 }
        lines.append("grew most from \(periods[last - 1]) to \(periods[last]): "
                     + (grew.isEmpty ? "none" : grew.map { name($0.topic) + String(format: " %+.1f pts", 100 * $0.delta) }.joined(separator: " · ")))
        return lines.joined(separator: "\n")
    }
}
