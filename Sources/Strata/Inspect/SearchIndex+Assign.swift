import Foundation
import StrataLinalg

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
