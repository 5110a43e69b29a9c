import Foundation

/// Human-readable `strata eval` output.
public enum EvaluationTable {
    static func f(_ x: Double?, _ d: Int = 3) -> String { x.map { String(format: "%.\(d)f", $0) } ?? "–" }

    public static func render(_ r: EvaluationReport) -> String {
        var s = "run \(r.run): \(r.documents) documents, \(r.topics) topics\n"
        if let field = r.truthField {
            s += "vs \(field) (\(r.classes ?? 0) classes): NMI \(f(r.nmi))  AMI \(f(r.ami))  ARI \(f(r.ari))  purity \(f(r.purity))\n"
        }
        s += "sampled silhouette \(f(r.silhouetteSampled))  Calinski–Harabasz \(f(r.calinskiHarabasz, 1))  Davies–Bouldin \(f(r.daviesBouldin))\n"
        let sources = r.labelSources.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        s += "label fidelity \(f(r.labelFidelity)) (labels: \(sources); \(f(r.centroidFidelity)) with topic centroids in place of labels)\n"
        s += "keyword NPMI \(f(r.keywordNPMI))  topic diversity \(f(r.topicDiversity))\n"
        if let q = r.labelQuality { s += shape(q) }
        s += "\n"
        s += "  id   size  cohesion  separation  fidelity   npmi  label" + (r.truthField == nil ? "" : "  [top classes]") + "\n"
        for t in r.perTopic {
            var line = String(format: "%4d %6d", t.id, t.size)
            line += "  " + f(t.cohesion).padding(toLength: 8, withPad: " ", startingAt: 0)
            line += "  " + f(t.separation).padding(toLength: 10, withPad: " ", startingAt: 0)
            line += "  " + f(t.labelFidelity).padding(toLength: 8, withPad: " ", startingAt: 0)
            line += " " + String(format: "%6.3f", t.keywordNPMI) + "  " + t.label
            if let c = t.classes { line += "  [" + c.map { "\($0.name) \(Int(($0.share * 100).rounded()))%" }.joined(separator: ", ") + "]" }
            s += line + "\n"
        }
        for n in r.notes { s += "note: \(n)\n" }
        return s
    }

    /// The label-quality lines: shape, glued parents, class match and its misses.
    static func shape(_ q: LabelQuality) -> String {
        let dup = q.shape.duplicates.isEmpty ? "no duplicates" : "duplicates: " + q.shape.duplicates.joined(separator: "; ")
        var s = "labels (\(q.labeler)): median \(f(q.shape.medianWords, 1)) words, \(Int((q.shape.oneWordShare * 100).rounded()))% one word, \(dup)"
        if q.parents > 0 { s += "; parents joining two children: \(q.gluedParents.count) of \(q.parents)" }
        s += "\n"
        if let n = q.cleanTopics {
            s += "class match \(f(q.classMatch)) (\(q.classMatches ?? 0) of \(n) topics whose majority class holds ≥ 50%)\n"
            for m in q.misses ?? [] { s += "  topic \(m.topic) \"\(m.label)\": majority \(m.majorityClass), nearest description \(m.nearestClass)\n" }
        }
        return s
    }
}
