import Foundation
import StrataLabel
import StrataLinalg
import StrataStore

/// Per-topic descriptions: c-TF-IDF keywords, representatives, centroids, cohesion.
public struct TopicDescription: Sendable {
    public let keywords: [[String]]
    /// Indices of representative documents per topic.
    public let representatives: [[Int]]
    /// Unit-norm centroid of each topic in embedding space (k × d).
    public let centroids: Matrix
    /// Cosine of every document to its topic's centroid.
    public let scores: [Float]
    public let cohesion: [Double]
    public let sketches: [TopicSketch]
    /// The terms of the documents `termRows`, tokenised once; the hierarchy's parent keywords reuse them.
    public let terms: ClassTFIDF.TermIndex
    /// The documents `terms` indexes (ascending): every document up to ``Describe/termSample``, else a
    /// seeded sample of that many.
    public let termRows: [Int]
}

enum Describe {
    /// Words kept per representative in prompts (about 80 tokens).
    static let representativeWords = 60

    /// Documents c-TF-IDF reads: a larger corpus is described from a seeded sample of this many, so
    /// the term index (every token's id, every distinct bigram) does not grow with the corpus
    /// (issue #27; BENCHMARKS.md, "Ten million documents", measures the keywords it keeps).
    static let termSample = 200_000

    /// The documents c-TF-IDF reads out of `n` (see ``termSample``). Deterministic in `seed`.
    static func termRows(count n: Int, seed: UInt64) -> [Int] { StreamedFit.sample(count: n, size: termSample, seed: seed ^ 0x7e4d) }

    static func truncate(_ text: String, words: Int) -> String {
        let w = text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" })
        return w.count <= words ? w.joined(separator: " ") : w.prefix(words).joined(separator: " ") + " …"
    }

    /// Describes `k` topics from their unit `centroids` (k × d) and each document's cosine to its own
    /// (`scores`): cohesion, c-TF-IDF keywords, and representatives chosen by MMR among each topic's
    /// 25 closest members, whose vectors `rows` fetches (k·25 rows, not every document's).
    static func run(documents: [Document], labels: [Int], k: Int, centroids: Matrix, scores: [Float], seed: UInt64,
                    rows: ([Int]) throws -> Matrix, keywordCount: Int = 10, representativeCount: Int = 5) throws -> TopicDescription {
        var cohesion = [Double](repeating: 0, count: k), counts = [Int](repeating: 0, count: k)
        for (i, dot) in scores.enumerated() {
            cohesion[labels[i]] += Double(dot)
            counts[labels[i]] += 1
        }
        for t in 0..<k where counts[t] > 0 { cohesion[t] /= Double(counts[t]) }
        let termRows = termRows(count: documents.count, seed: seed)
        let minDF = termRows.count >= 1000 ? 3 : 2
        let terms = ClassTFIDF.TermIndex(texts: termRows.map { documents[$0].text })
        // Sketches carry twice the published keywords: label verification builds longer description
        // candidates from them (the ranking is prefix-stable, so the first `keywordCount` are the same).
        let extended = ClassTFIDF.keywords(index: terms, labels: termRows.map { labels[$0] }, classCount: k,
                                           count: 2 * keywordCount, minDocumentFrequency: minDF).map { $0.map(\.term) }
        let keywords = extended.map { Array($0.prefix(keywordCount)) }
        var members = [[Int]](repeating: [], count: k)
        for (i, l) in labels.enumerated() { members[l].append(i) }
        let reps = try representatives(members, scores: scores, count: representativeCount, rows: rows)
        // Contrast: the three nearest other topics by centroid cosine.
        var sketches: [TopicSketch] = []
        for t in 0..<k {
            let sims = (0..<k).filter { $0 != t }.map { u in (u, Similarity.dot(centroids.row(t), centroids.row(u))) }
            let contrast = sims.sorted { $0.1 > $1.1 }.prefix(3).map { keywords[$0.0].prefix(4).joined(separator: ", ") }.filter { !$0.isEmpty }
            sketches.append(TopicSketch(index: t, keywords: extended[t],
                                        representatives: reps[t].map { truncate(documents[$0].text, words: representativeWords) },
                                        contrast: contrast, size: members[t].count))
        }
        return TopicDescription(keywords: keywords, representatives: reps, centroids: centroids, scores: scores,
                                cohesion: cohesion, sketches: sketches, terms: terms, termRows: termRows)
    }

    /// MMR picks among each topic's `pool` closest members (ties by document order): the same picks as
    /// ``Representatives/select(similarities:vector:count:lambda:pool:)`` over all members, reading only
    /// the pools' vectors (one `rows` call).
    static func representatives(_ members: [[Int]], scores: [Float], count: Int, pool: Int = 25,
                                rows: ([Int]) throws -> Matrix) throws -> [[Int]] {
        let pools = members.map { m in
            Array(m.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }.prefix(max(pool, count))).sorted()
        }
        let vectors = try rows(pools.flatMap { $0 })
        var offset = 0
        return pools.map { p in
            let base = offset
            offset += p.count
            let picked = Representatives.select(similarities: p.map { scores[$0] }, vector: { vectors.row(base + $0) },
                                                count: count, pool: pool)
            return picked.map { p[$0] }
        }
    }
}
