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
}
