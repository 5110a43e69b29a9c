import Foundation
import StrataLinalg

/// Which fitted topic each vector belongs to — the one rule `strata run` (incremental), `strata assign`
/// and `strata assign --text` / the MCP `assign_text` tool share: nearest topic centroid in the fitted
/// PCA space (unit rows), or none (−1) beyond that topic's novelty radius; the score is the cosine to
/// the topic's embedding-space centroid; the runner-up is the second-nearest topic.
struct NearestTopic {
    /// Row of the nearest and second-nearest topic (model order), whether the vector lies within the
    /// nearest topic's radius, and both embedding-space cosines.
    struct Choice {
        var best: Int
        var within: Bool
        var score: Float
        var second: Int?
        var secondScore: Float?
    }

    let model: FittedModel

    /// `x`: n × d unit embeddings. O(n·k·(d + p)) (two SGEMMs) plus the PCA projection; the runner-up
    /// (one more pass over the n × k similarities) only with `runnerUp`.
    func choose(_ x: Matrix, noveltyQuantile: Double, runnerUp: Bool = false) throws -> [Choice] {
        guard x.cols == model.inputDimension else {
            throw StrataError(.failed, "new embeddings have \(x.cols) dimensions, the fitted model \(model.inputDimension); run `strata run --full`")
        }
        guard x.rows > 0 else { return [] }
        let y = try model.pca().transform(x).normalizedRows()
        let sims = Similarity.cosines(y, try model.reduced())
        let embSims = Similarity.cosines(x, try model.embedding())
        return Similarity.nearest(sims).enumerated().map { r, best in
            var second: Int?
            if runnerUp { for j in 0..<sims.cols where j != best && (second == nil || sims[r, j] > sims[r, second!]) { second = j } }
            return Choice(best: best, within: 1 - sims[r, best] <= model.radius(best, quantile: noveltyQuantile),
                          score: embSims[r, best], second: second, secondScore: second.map { embSims[r, $0] })
        }
    }
}

/// The topic of one text (`strata assign --text`, MCP `assign_text`).
public struct TextAssignment: Codable, Sendable, Equatable {
    /// −1 when the text is beyond its nearest topic's novelty radius ("no topic").
    public var topicID: Int
    public var topicLabel: String
    /// Cosine to the nearest topic's centroid (embedding space), also when `topicID` is −1.
    public var score: Double
    /// The nearest topic, even when the text is beyond its radius.
    public var nearestID: Int
    public var runnerUpID: Int?
    public var runnerUpLabel: String?
    public var runnerUpScore: Double?

    enum CodingKeys: String, CodingKey {
        case topicID = "topic_id", topicLabel = "topic_label", score, nearestID = "nearest_id"
        case runnerUpID = "runner_up_id", runnerUpLabel = "runner_up_label", runnerUpScore = "runner_up_score"
    }
}

extension SearchIndex {
    /// The topic of each text under the committed model. Texts are embedded with the run's embedder.
    /// - Throws: a usage error for an empty text.
    public func assign(texts: [String], noveltyQuantile: Double = RunOptions.Defaults.noveltyQuantile) async throws -> [TextAssignment] {
        guard !texts.isEmpty else { return [] }
        if let i = texts.firstIndex(where: { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }) {
            throw StrataError(.usage, "text \(i + 1) is empty")
        }
        let batch = try await embedder.embed(texts, progress: nil)
        let x = try Matrix(rows: texts.count, cols: batch.dimension, storage: batch.values).normalizedRows()
        let label = Dictionary(uniqueKeysWithValues: document.topics.map { ($0.id, $0.label) })
        let ids = model.topicIDs
        return try NearestTopic(model: model).choose(x, noveltyQuantile: noveltyQuantile, runnerUp: true).map { c in
            let id = c.within ? ids[c.best] : -1
            return TextAssignment(topicID: id, topicLabel: label[id] ?? Export.noTopicLabel, score: Double(c.score), nearestID: ids[c.best],
                                  runnerUpID: c.second.map { ids[$0] }, runnerUpLabel: c.second.flatMap { label[ids[$0]] },
                                  runnerUpScore: c.secondScore.map(Double.init))
        }
    }
}
