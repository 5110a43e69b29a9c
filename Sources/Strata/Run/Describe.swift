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
    /// The documents' terms, tokenised once; the hierarchy's parent keywords reuse them.
    public let terms: ClassTFIDF.TermIndex
}

enum Describe {
    /// Words kept per representative in prompts (about 80 tokens).
    static let representativeWords = 60

    static func truncate(_ text: String, words: Int) -> String {
        let w = text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" })
        return w.count <= words ? w.joined(separator: " ") : w.prefix(words).joined(separator: " ") + " …"
    }

    static func run(documents: [Document], embeddings x: Matrix, labels: [Int], k: Int,
                    keywordCount: Int = 10, representativeCount: Int = 5) -> TopicDescription {
        var cohesion = [Double](repeating: 0, count: k), counts = [Int](repeating: 0, count: k)
        let centroids = Similarity.unitCentroids(x, labels: labels, k: k)
        let scores = Similarity.assignedDots(x, centroids, assignment: labels)
        for (i, dot) in scores.enumerated() {
            cohesion[labels[i]] += Double(dot)
            counts[labels[i]] += 1
        }
        for t in 0..<k where counts[t] > 0 { cohesion[t] /= Double(counts[t]) }
        let minDF = documents.count >= 1000 ? 3 : 2
        let terms = ClassTFIDF.TermIndex(texts: documents.map(\.text))
        // Sketches carry twice the published keywords: label verification builds longer description
        // candidates from them (the ranking is prefix-stable, so the first `keywordCount` are the same).
        let extended = ClassTFIDF.keywords(index: terms, labels: labels, classCount: k,
                                           count: 2 * keywordCount, minDocumentFrequency: minDF).map { $0.map(\.term) }
        let keywords = extended.map { Array($0.prefix(keywordCount)) }
        var members = [[Int]](repeating: [], count: k)
        for (i, l) in labels.enumerated() { members[l].append(i) }
        var reps: [[Int]] = []
        for t in 0..<k {
            let m = members[t]
            let picked = Representatives.select(similarities: m.map { scores[$0] }, vector: { x.row(m[$0]) },
                                                count: representativeCount)
            reps.append(picked.map { m[$0] })
        }
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
                                cohesion: cohesion, sketches: sketches, terms: terms)
    }
}
