import Foundation
import StrataEmbed
import StrataLabel
import StrataLinalg

/// What label verification needs of a fit: where every topic's centroid lies, the labels of topics
/// that are not being relabelled, and (in a full fit) a sample of documents with their topics.
struct VerificationContext {
    /// Unit centroids of every topic in the run's embedding space (k × d).
    var centroids: Matrix
    /// Published label and description of each centroid row that is not being labelled now.
    var fixed: [Int: TopicLabel] = [:]
    /// Document vectors (unit rows) and each one's centroid row; nil when only centroids are known
    /// (incremental runs, parents): descriptions are then chosen by their text's margin.
    var documents: (vectors: Matrix, row: [Int])?

    /// At most this many documents take part in choosing descriptions (evenly spaced).
    static let documentSample = 20_000

    /// The documents that take part: every one of `n` when there are few, else ``documentSample``
    /// evenly spaced ones (ascending).
    static func sampleRows(_ n: Int) -> [Int] {
        guard n > documentSample else { return Array(0..<n) }
        return (0..<documentSample).map { $0 * n / documentSample }
    }
}

/// Published labels after verification, with each label's confidence.
struct VerifiedLabels {
    var labels: [TopicLabel]
    /// Margin of each published label's embedding: cosine to its own centroid minus the largest to
    /// any other (positive = its own topic is the nearest).
    var confidence: [Double]
    var notes: [String] = []
    var warnings: [String] = []
}

/// Verifies labels before they are published: every candidate (the LLM's answer, keyphrases from the
/// topic's c-TF-IDF n-grams) is embedded with the run's embedder and placed among the topic centroids.
/// A label whose embedding lands nearer another topic than its own is never published; the LLM's
/// answer is preferred when it passes, else the keyphrase with the widest margin. Descriptions are
/// chosen so that "label. description" points the most documents to their own topic.
enum LabelVerification {
    /// Decides labels for `proposed` (one per sketch; `rows[i]` is sketch i's centroid row).
    static func verify(_ proposed: [TopicLabel], sketches: [TopicSketch], rows: [Int], context: VerificationContext,
                       embedder: any Embedder, what: String, avoid: [[String]] = [],
                       extra: [[LabelCandidate]] = []) async throws -> VerifiedLabels {
        var result = VerifiedLabels(labels: proposed, confidence: [Double](repeating: 0, count: proposed.count))
        var candidates: [[LabelCandidate]] = []
        for (i, p) in proposed.enumerated() {
            var list: [LabelCandidate] = []
            if p.source != .keywords {
                if let why = LabelRules.problem(p.label, keywords: sketches[i].keywords, representatives: sketches[i].representatives) {
                    result.notes.append("\(what) \(rows[i]): LLM label \"\(p.label)\" not published: \(why)")
                } else {
                    list.append(LabelCandidate(text: p.label, origin: .llm))
                }
            }
            list += LabelRules.keyphrases(sketches[i].keywords).filter {
                LabelRules.problem($0.text, keywords: sketches[i].keywords, representatives: []) == nil
            }
            if i < extra.count { list += extra[i] }
            let banned = Set(i < avoid.count ? avoid[i] : [])
            if list.first?.origin == .llm && banned.contains(p.label.lowercased()) {
                result.notes.append("\(what) \(rows[i]): LLM label \"\(p.label)\" not published: repeats a child topic's label")
            }
            candidates.append(list.filter { !banned.contains($0.text.lowercased()) })
        }
        let texts = Array(Set(candidates.flatMap { $0.map(\.text) })).sorted()
        let vectors = try await embed(texts, embedder: embedder)
        let index = Dictionary(uniqueKeysWithValues: texts.enumerated().map { ($1, $0) })
        var taken = Set(context.fixed.values.map { $0.label.lowercased() })
        for i in proposed.indices {
            if candidates[i].isEmpty {
                result.notes.append("\(what) \(rows[i]): no label candidates (no keywords); kept \"\(proposed[i].label)\"")
                continue
            }
            var options = candidates[i]
            var placed = try ReferenceSelection.placements(vectors.gathering(rows: options.map { index[$0.text]! }), centroids: context.centroids,
                                                           owner: options.map { _ in rows[i] })
            var choice = choose(options, placed: placed, taken: taken)
            if choice == nil {
                // Second round: the topic's later keywords, alone and beside its first.
                let more = LabelRules.moreKeyphrases(sketches[i].keywords).filter {
                    LabelRules.problem($0.text, keywords: sketches[i].keywords, representatives: []) == nil
                }
                if !more.isEmpty {
                    options += more
                    placed += try ReferenceSelection.placements(try await embed(more.map(\.text), embedder: embedder),
                                                                centroids: context.centroids, owner: more.map { _ in rows[i] })
                    choice = choose(options, placed: placed, taken: taken)
                }
            }
            guard let c = choice else {
                result.warnings.append("\(what) \(rows[i]): no candidate label lands nearest its own topic; kept \"\(proposed[i].label)\" (unverified)")
                result.confidence[i] = -1
                continue
            }
            let picked = options[c]
            taken.insert(picked.text.lowercased())
            result.confidence[i] = Double(placed[c].margin)
            if picked.origin == .llm { continue }
            if proposed[i].source != .keywords {
                let llm = options.firstIndex { $0.origin == .llm }
                let why = llm.map { "lands nearer \(what) \(placed[$0].nearest) (margin \(String(format: "%.3f", placed[$0].margin)))" } ?? "rejected"
                result.notes.append("\(what) \(rows[i]): LLM label \"\(proposed[i].label)\" \(why); published \(picked.origin == .given ? "child-label pair" : "keyphrase") \"\(picked.text)\"")
            }
            result.labels[i] = TopicLabel(label: picked.text, description: proposed[i].description, source: .keywords)
        }
        try await chooseDescriptions(&result, sketches: sketches, rows: rows, context: context, embedder: embedder)
        return result
    }

    /// The candidate to publish: the LLM's when it lands nearest its own topic, else the verified
    /// given candidate (a parent's pair of child labels) with the widest margin, else the verified
    /// keyphrase with the widest margin; never a label another topic already has. Nil when none passes.
    static func choose(_ options: [LabelCandidate], placed: [ReferenceSelection.Placement], taken: Set<String>) -> Int? {
        let passing = options.indices.filter { placed[$0].margin > 0 && !taken.contains(options[$0].text.lowercased()) }
        for origin in [CandidateOrigin.llm, .given, .keyphrase] {
            if let best = passing.filter({ options[$0].origin == origin }).max(by: { placed[$0].margin < placed[$1].margin }) { return best }
        }
        return nil
    }

    /// Descriptions: the LLM's sentence (when it gave one) or keyword sentences of 5, 10 and 15 terms,
    /// whichever makes "label. description" send the most sampled documents to their own topic (or,
    /// without documents, lands with the widest margin).
    static func chooseDescriptions(_ result: inout VerifiedLabels, sketches: [TopicSketch], rows: [Int],
                                   context: VerificationContext, embedder: any Embedder) async throws {
        var options: [[String]] = []
        for (i, l) in result.labels.enumerated() {
            var list = l.description.isEmpty || l.source == .keywords && l.description.hasPrefix("Documents about") ? [] : [l.description]
            for d in LabelRules.descriptions(keywords: sketches[i].keywords, representatives: sketches[i].representatives)
            where !list.contains(d) { list.append(d) }
            options.append(list.isEmpty ? [l.description] : list)
        }
        var texts: [String] = [], owner: [Int] = [], initial = [Int](repeating: -1, count: context.centroids.rows)
        for (i, list) in options.enumerated() {
            for d in list {
                if initial[rows[i]] < 0 { initial[rows[i]] = texts.count }
                texts.append(fullText(result.labels[i].label, d)); owner.append(rows[i])
            }
        }
        for (row, l) in context.fixed where initial[row] < 0 {
            initial[row] = texts.count
            texts.append(fullText(l.label, l.description)); owner.append(row)
        }
        let vectors = try await embed(texts, embedder: embedder)
        var chosen: [Int]
        if let docs = context.documents, initial.allSatisfy({ $0 >= 0 }) {
            chosen = try ReferenceSelection.maximizeHits(documents: docs.vectors, clusterOf: docs.row, candidates: vectors,
                                                         owner: owner, initial: initial).choice
        } else {
            let placed = try ReferenceSelection.placements(vectors, centroids: context.centroids, owner: owner)
            chosen = initial
            for (c, t) in owner.enumerated() where chosen[t] >= 0 && placed[c].margin > placed[chosen[t]].margin { chosen[t] = c }
        }
        var offset = 0
        for (i, list) in options.enumerated() {
            let pick = chosen[rows[i]]
            if pick >= 0 && pick >= offset && pick < offset + list.count { result.labels[i].description = list[pick - offset] }
            offset += list.count
        }
    }

    /// What `strata eval` embeds for a topic: "label. description".
    static func fullText(_ label: String, _ description: String) -> String {
        description.isEmpty ? label : label + ". " + description
    }

    /// Unit-row embeddings of `texts` (0 × 0 for none).
    static func embed(_ texts: [String], embedder: any Embedder) async throws -> Matrix {
        guard !texts.isEmpty else { return Matrix(rows: 0, cols: 0) }
        let batch = try await embedder.embed(texts, progress: nil)
        return try Matrix(rows: texts.count, cols: batch.dimension, storage: batch.values).normalizedRows()
    }

    /// Margins of published labels against the centroids (for topics kept from an earlier run).
    static func confidence(labels: [String], rows: [Int], centroids: Matrix, embedder: any Embedder) async throws -> [Double] {
        let vectors = try await embed(labels, embedder: embedder)
        guard vectors.rows > 0 else { return [] }
        return try ReferenceSelection.placements(vectors, centroids: centroids, owner: rows).map { Double($0.margin) }
    }
}
