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
    /// Sketches none of whose candidates passed: they keep their proposed label (confidence −1).
    var unverified: [Int] = []
}

/// Verifies labels before they are published: every candidate (the LLM's answer, keyphrases from the
/// topic's c-TF-IDF n-grams) is embedded with the run's embedder and placed among the topic centroids.
/// A label whose embedding lands nearer another topic than its own is never published. Among those
/// that pass, ``choose`` prefers the LLM's names of several words (its first, then its longer one),
/// then its one-word names, then keyphrases, and within a tier the widest neighbour precision plus margin; a candidate whose nearest
/// documents are mostly other topics' (under half the best precision) is taken last, as ambiguous.
/// ``separate`` then moves one of two near-identical labels of different topics to its next passing
/// candidate. Descriptions are chosen so that "label. description" points the most documents to their
/// own topic.
enum LabelVerification {
    /// One topic's candidates and where each lands.
    struct Options {
        var list: [LabelCandidate]
        var placed: [ReferenceSelection.Placement] = []
        /// Neighbour precision of each candidate (nil without sampled documents).
        var precision: [Float]?
        /// Unit embeddings of `list`, row by row.
        var vectors = Matrix(rows: 0, cols: 0)
    }

    /// Nearest sampled documents that count for a candidate's neighbour precision.
    static let precisionNeighbours = 20
    /// Cosine between two topics' published labels at and above which they read as the same name.
    static let nearDuplicate: Float = 0.8

    /// Decides labels for `proposed` (one per sketch; `rows[i]` is sketch i's centroid row). `avoid[i]`
    /// lists labels sketch i must not take (a parent's children's), nor join two of with "and".
    static func verify(_ proposed: [TopicLabel], sketches: [TopicSketch], rows: [Int], context: VerificationContext,
                       embedder: any Embedder, what: String, avoid: [[String]] = []) async throws -> VerifiedLabels {
        var result = VerifiedLabels(labels: proposed, confidence: [Double](repeating: 0, count: proposed.count))
        var options = candidates(proposed, sketches: sketches, rows: rows, what: what, avoid: avoid, notes: &result.notes)
        var taken = Set(context.fixed.values.map { $0.label.lowercased() })
        var choice = [Int?](repeating: nil, count: proposed.count)
        for i in proposed.indices where !options[i].list.isEmpty {
            try await place(&options[i], row: rows[i], context: context, embedder: embedder)
            choice[i] = choose(options[i], taken: taken)
            if choice[i] == nil {
                // Second round: the topic's later keywords, alone and beside its first.
                let more = LabelRules.moreKeyphrases(sketches[i].keywords).filter {
                    LabelRules.problem($0.text, keywords: sketches[i].keywords, representatives: []) == nil
                }
                if !more.isEmpty {
                    options[i].list += more
                    try await place(&options[i], row: rows[i], context: context, embedder: embedder)
                    choice[i] = choose(options[i], taken: taken)
                }
            }
            if let c = choice[i] { taken.insert(options[i].list[c].text.lowercased()) }
        }
        result.notes += separate(&choice, options, what: what, rows: rows)
        publish(&result, proposed: proposed, options: options, choice: choice, rows: rows, what: what)
        try await chooseDescriptions(&result, sketches: sketches, rows: rows, context: context, embedder: embedder)
        return result
    }

    /// Each sketch's candidates: the LLM's answer and its other names, each when it follows
    /// ``LabelRules`` and `avoid` does not forbid it, then the keyphrases `avoid` does not forbid.
    static func candidates(_ proposed: [TopicLabel], sketches: [TopicSketch], rows: [Int], what: String, avoid: [[String]],
                           notes: inout [String]) -> [Options] {
        proposed.enumerated().map { i, p in
            let banned = i < avoid.count ? avoid[i] : []
            func refusal(_ text: String) -> String? {
                if banned.contains(where: { LabelShape.sameName($0, text) }) { return "repeats a child topic's label" }
                if LabelShape.isConjunction(text, of: banned) { return "joins two child topics' labels" }
                return nil
            }
            var list: [LabelCandidate] = []
            let answers = p.source == .keywords ? [] : [(p.label, CandidateOrigin.llm)] + p.alternatives.map { ($0, CandidateOrigin.llmLonger) }
            for (text, origin) in answers where !list.contains(where: { $0.text.lowercased() == text.lowercased() }) {
                if let why = LabelRules.problem(text, keywords: sketches[i].keywords, representatives: sketches[i].representatives) ?? refusal(text) {
                    notes.append("\(what) \(rows[i]): LLM label \"\(text)\" not published: \(why)")
                } else {
                    list.append(LabelCandidate(text: text, origin: origin))
                }
            }
            list += LabelRules.keyphrases(sketches[i].keywords).filter {
                LabelRules.problem($0.text, keywords: sketches[i].keywords, representatives: []) == nil && refusal($0.text) == nil
            }
            if list.isEmpty { notes.append("\(what) \(rows[i]): no label candidates (no keywords); kept \"\(p.label)\"") }
            return Options(list: list)
        }
    }

    /// Embeds the candidates not yet placed and places them: margin among the centroids and, with
    /// sampled documents, neighbour precision. O(m·(k + n)·d) for m new candidates.
    static func place(_ o: inout Options, row: Int, context: VerificationContext, embedder: any Embedder) async throws {
        let new = Array(o.list[o.placed.count...])
        guard !new.isEmpty else { return }
        let v = try await embed(new.map(\.text), embedder: embedder)
        o.placed += try ReferenceSelection.placements(v, centroids: context.centroids, owner: new.map { _ in row })
        o.vectors = o.vectors.rows == 0 ? v : try Matrix(rows: o.vectors.rows + v.rows, cols: v.cols, storage: o.vectors.storage + v.storage)
        if let docs = context.documents {
            o.precision = (o.precision ?? []) + (try ReferenceSelection.neighbourPrecision(v, owner: new.map { _ in row }, documents: docs.vectors,
                                                                                          clusterOf: docs.row, neighbours: precisionNeighbours))
        }
    }

    /// The rank of candidate `c`, lower first:
    /// 0. the LLM's name, when it has several words;
    /// 1. its longer name, when that has several words;
    /// 2. a one-word LLM name;
    /// 3. a keyphrase or given label;
    /// 4. ambiguous: neighbour precision under half the best passing candidate's.
    /// The longer name never outranks a first name of several words: it is often narrower than the topic
    /// ("Meat sauce" for cooked food), and preferring it cut the class match on WordNet nouns from 0.87
    /// to 0.60. Gating it on the score instead (a longer name only when it verifies better than a
    /// one-word first name) kept 31% of the nouns' labels one word for one more class match in 15
    /// (BENCHMARKS "Specific labels").
    static func tier(_ o: Options, _ c: Int, bestPrecision: Float) -> Int {
        if let p = o.precision, p[c] < bestPrecision / 2 { return 4 }
        let several = LabelShape.wordCount(o.list[c].text) >= 2
        switch o.list[c].origin {
        case .llm: return several ? 0 : 2
        case .llmLonger: return several ? 1 : 2
        case .keyphrase, .given: return 3
        }
    }

    /// Within a tier: neighbour precision plus margin (margin alone without documents).
    static func score(_ o: Options, _ c: Int) -> Float { (o.precision?[c] ?? 0) + o.placed[c].margin }

    /// The candidate to publish: the best-ranked (``tier``, then ``score``) of those that land nearest
    /// their own topic and are not a label another topic already has (`taken`, lowercased). Nil when
    /// none passes.
    static func choose(_ o: Options, taken: Set<String>, excluding: (Int) -> Bool = { _ in false }) -> Int? {
        let passing = o.list.indices.filter { o.placed[$0].margin > 0 && !taken.contains(o.list[$0].text.lowercased()) && !excluding($0) }
        let best = passing.map { o.precision?[$0] ?? 0 }.max() ?? 0
        return passing.min { a, b in
            let ta = tier(o, a, bestPrecision: best), tb = tier(o, b, bestPrecision: best)
            return ta != tb ? ta < tb : score(o, a) > score(o, b)
        }
    }

    /// Near-duplicates across topics: for each pair of chosen labels whose embeddings' cosine is at
    /// least ``nearDuplicate``, the one with the smaller margin moves to its best passing candidate
    /// that is not near the other's label (it keeps its label when it has none). Returns notes.
    static func separate(_ choice: inout [Int?], _ options: [Options], what: String, rows: [Int]) -> [String] {
        var notes: [String] = []
        func vector(_ i: Int, _ c: Int) -> ArraySlice<Float> {
            let d = options[i].vectors.cols
            return options[i].vectors.storage[(c * d)..<(c * d + d)]
        }
        func cosine(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) -> Float { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
        for i in choice.indices {
            for j in choice.indices where j > i {
                guard let a = choice[i], let b = choice[j], cosine(vector(i, a), vector(j, b)) >= nearDuplicate else { continue }
                let (move, keep) = options[i].placed[a].margin < options[j].placed[b].margin ? (i, j) : (j, i)
                let kept = vector(keep, choice[keep]!)
                let was = options[move].list[choice[move]!].text
                let taken = Set(choice.indices.compactMap { t in choice[t].map { options[t].list[$0].text.lowercased() } })
                guard let alt = choose(options[move], taken: taken, excluding: { cosine(vector(move, $0), kept) >= nearDuplicate }) else { continue }
                choice[move] = alt
                notes.append("\(what) \(rows[move]): \"\(was)\" reads like \(what) \(rows[keep])'s \"\(options[keep].list[choice[keep]!].text)\"; "
                    + "published \"\(options[move].list[alt].text)\"")
            }
        }
        return notes
    }

    /// Writes the chosen candidates into `result` with their margins; a topic with no passing
    /// candidate keeps its proposed label, unverified (confidence −1, listed in `unverified`).
    static func publish(_ result: inout VerifiedLabels, proposed: [TopicLabel], options: [Options], choice: [Int?], rows: [Int], what: String) {
        for i in proposed.indices where !options[i].list.isEmpty {
            guard let c = choice[i] else {
                result.unverified.append(i)
                result.confidence[i] = -1
                continue
            }
            let o = options[i], picked = o.list[c]
            result.confidence[i] = Double(o.placed[c].margin)
            if picked.origin == .llm || picked.origin == .llmLonger {
                // The answer's first name or one of its other names: the LLM's either way.
                result.labels[i].label = picked.text
                result.labels[i].alternatives = []
                continue
            }
            if proposed[i].source != .keywords {
                let llm = o.list.firstIndex { $0.origin == .llm || $0.origin == .llmLonger }
                let why = llm.map { l in
                    o.placed[l].margin <= 0 ? "lands nearer \(what) \(o.placed[l].nearest) (margin \(String(format: "%.3f", o.placed[l].margin)))"
                        : "ranks below it (neighbour precision \(String(format: "%.2f", o.precision?[l] ?? 0)))"
                } ?? "rejected"
                result.notes.append("\(what) \(rows[i]): LLM label \"\(proposed[i].label)\" \(why); published keyphrase \"\(picked.text)\"")
            }
            result.labels[i] = TopicLabel(label: picked.text, description: proposed[i].description, source: .keywords)
        }
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
