import Foundation
import StrataEmbed
import StrataLinalg
import StrataStore

/// One search result.
public struct SearchHit: Codable, Sendable, Equatable {
    public let id: String
    /// Cosine similarity to the query.
    public let score: Double
    public let topicID: Int
    public let topicLabel: String
    public let snippet: String
    enum CodingKeys: String, CodingKey { case id, score, snippet, topicID = "topic_id", topicLabel = "topic_label" }
}

/// Semantic search over the stored, normalised embeddings, restricted by topic *before* ranking (so a
/// topic with ≥ k documents always yields k hits).
public final class SearchIndex: Sendable {
    public let document: TopicsDocument
    let ids: [String]
    let topics: [Int]
    let snippets: [String]
    let dimension: Int
    let vectors: [Float]
    let embedder: any Embedder
    let snippetByID: [String: String]
    /// The fitted model texts are assigned with.
    let model: FittedModel

    /// Loads the last run's topics and document vectors from `stateDirectory`'s state database (the
    /// committed copy of topics.json, ``CommittedState/topics(_:)``).
    public init(stateDirectory: String, embeddingBaseURL: URL = RunOptions.Defaults.openAIBaseURL) throws {
        let state = try CommittedState.open(stateDirectory)
        document = try CommittedState.topics(state, directory: stateDirectory).document
        let spec = try EmbedderSpec.parse(document.run.embedder.name)
        guard let e = try EmbeddingStage.makeEmbedder(spec, baseURL: embeddingBaseURL) else {
            throw StrataError(.failed, "the last run used \(document.run.embedder.name): search needs a text embedder for the query")
        }
        embedder = e
        model = try CommittedState.model(state, directory: stateDirectory)
        (ids, topics, snippets, dimension, vectors) = try state.searchableDocuments(model: document.run.embedder.fingerprint)
        snippetByID = Dictionary(zip(ids, snippets), uniquingKeysWith: { a, _ in a })
    }

    /// Topic −1 as a topic: the documents beyond every topic's novelty radius ("no topic").
    public var unassigned: Topic {
        let members = zip(ids, topics).filter { $0.1 == -1 }.map(\.0)
        return Topic(id: -1, label: Export.noTopicLabel, description: "documents beyond every topic's novelty radius", keywords: [],
                     size: members.count, share: Double(members.count) / Double(max(1, ids.count)), representativeIDs: [],
                     parentID: nil, cohesion: 0, labelSource: .keywords, firstRun: "", documentIDs: members)
    }

    /// Ids of the searchable documents of `topic`, in id order. O(n).
    func members(of topic: Int) -> [String] { zip(ids, topics).filter { $0.1 == topic }.map(\.0) }

    /// Number of searchable documents.
    public var count: Int { ids.count }

    /// Topic ids selected by `topics` (ids or labels, case-insensitive) and `parents` (hierarchy ids).
    public func resolve(topics wanted: [String], parents: [Int]) throws -> Set<Int>? {
        if wanted.isEmpty && parents.isEmpty { return nil }
        var out = Set<Int>()
        for w in wanted {
            if let id = Int(w), id == -1 || document.topics.contains(where: { $0.id == id }) { out.insert(id); continue }
            guard let t = document.topics.first(where: { $0.label.lowercased() == w.lowercased() }) else {
                throw StrataError(.usage, "no topic \"\(w)\": use an id or label from `strata topics`")
            }
            out.insert(t.id)
        }
        for p in parents {
            guard let parent = document.hierarchy.first(where: { $0.id == p }) else {
                throw StrataError(.usage, "no parent topic \(p) (see `strata topics --tree`)")
            }
            out.formUnion(parent.children)
        }
        return out
    }

    /// Embeds the query with the run's embedder.
    public func embedQuery(_ query: String) async throws -> [Float] {
        let q = try await embedder.embed([query], progress: nil)
        var v = Array(q.row(0))
        let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        if norm > 0 { for i in v.indices { v[i] /= norm } }
        return v
    }

    /// The `k` documents most similar to the query vector among those whose topic is in `filter`
    /// (all when nil): one GEMV over the filtered rows, then a partial selection. O(m·d).
    public func search(vector q: [Float], filter: Set<Int>?, k: Int) throws -> [SearchHit] {
        guard q.count == dimension else {
            throw StrataError(.failed, "query vector has \(q.count) dimensions, the index \(dimension)")
        }
        let rows = filter.map { f in topics.indices.filter { f.contains(topics[$0]) } } ?? Array(topics.indices)
        guard !rows.isEmpty, k > 0 else { return [] }
        var scores = [Float](repeating: 0, count: rows.count)
        let contiguous = filter == nil
        let matrix: [Float]
        if contiguous { matrix = vectors } else {
            var m = [Float](); m.reserveCapacity(rows.count * dimension)
            for r in rows { m.append(contentsOf: vectors[(r * dimension)..<((r + 1) * dimension)]) }
            matrix = m
        }
        matrix.withUnsafeBufferPointer { mp in
            q.withUnsafeBufferPointer { qp in
                scores.withUnsafeMutableBufferPointer { sp in
                    BLAS.sgemv(.none, m: rows.count, n: dimension, alpha: 1, a: mp.baseAddress!, lda: dimension,
                               x: qp.baseAddress!, beta: 0, y: sp.baseAddress!)
                }
            }
        }
        let order = scores.indices.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && ids[rows[$0]] < ids[rows[$1]]) }
        let labels = Dictionary(uniqueKeysWithValues: document.topics.map { ($0.id, $0.label) })
        return order.prefix(k).map { i in
            let r = rows[i]
            return SearchHit(id: ids[r], score: Double(scores[i]), topicID: topics[r], topicLabel: labels[topics[r]] ?? "",
                             snippet: snippets[r])
        }
    }
}
