import Foundation

/// The read-only retrieval tools served by `strata mcp` (and usable in-process): list the topics,
/// describe one, search with topic filters, page through a topic's documents. Arguments arrive as
/// loosely typed JSON and are validated here; a bad argument is a ``ToolError`` naming the problem.
public final class RetrievalTools: Sendable {
    public let index: SearchIndex
    var document: TopicsDocument { index.document }

    /// A tool call that cannot be answered as asked (the message says what to change).
    public struct ToolError: Error, CustomStringConvertible, Sendable {
        public let message: String
        public init(_ message: String) { self.message = message }
        public var description: String { message }
    }

    public init(stateDirectory: String, embeddingBaseURL: URL = RunOptions.Defaults.openAIBaseURL) throws {
        index = try SearchIndex(stateDirectory: stateDirectory, embeddingBaseURL: embeddingBaseURL)
    }

    /// Name, description and JSON Schema of every tool.
    public static var catalog: [(name: String, description: String, schema: [String: Any])] { [
        ("list_topics", "List every topic: id, label, description, size (documents) and parent topic.",
         ["type": "object", "properties": [String: Any](), "additionalProperties": false]),
        ("get_topic", "One topic in detail: keywords, representative documents, label source and lineage (splits, merges, first run).",
         ["type": "object", "properties": ["topic": ["type": ["integer", "string"], "description": "topic id or exact label"]],
          "required": ["topic"], "additionalProperties": false]),
        ("search", "Semantic search over the documents (cosine over stored embeddings), optionally only inside some topics; filtering happens before ranking.",
         ["type": "object", "properties": [
            "query": ["type": "string", "description": "what to look for"],
            "topics": ["type": "array", "items": ["type": ["integer", "string"]], "description": "topic ids or labels to search in (default: all)"],
            "k": ["type": "integer", "minimum": 1, "maximum": 100, "description": "number of hits (default 10)"],
         ], "required": ["query"], "additionalProperties": false]),
        ("documents_by_topic", "The documents of one topic in source order, paged: ids and text snippets.",
         ["type": "object", "properties": [
            "topic": ["type": ["integer", "string"], "description": "topic id or exact label"],
            "limit": ["type": "integer", "minimum": 1, "maximum": 500, "description": "page size (default 20)"],
            "offset": ["type": "integer", "minimum": 0, "description": "documents to skip (default 0)"],
         ], "required": ["topic"], "additionalProperties": false]),
    ] }

    /// Runs tool `name` with `arguments` (JSON values: String, Int, Double, Bool, arrays, dictionaries)
    /// and returns a JSON-encodable result.
    public func call(_ name: String, arguments: [String: Any]) async throws -> Any {
        guard let entry = Self.catalog.first(where: { $0.name == name }) else {
            throw ToolError("unknown tool \"\(name)\"; the tools are " + Self.catalog.map(\.name).joined(separator: ", "))
        }
        let allowed = Set(((entry.schema["properties"] as? [String: Any]) ?? [:]).keys)
        if let extra = arguments.keys.first(where: { !allowed.contains($0) }) {
            throw ToolError("\(name) takes no argument \"\(extra)\"" + (allowed.isEmpty ? "" : "; it takes " + allowed.sorted().joined(separator: ", ")))
        }
        switch name {
        case "list_topics": return listTopics()
        case "get_topic": return try getTopic(topic(arguments["topic"], tool: name))
        case "search":
            guard let query = arguments["query"] as? String, !query.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw ToolError("search needs a non-empty string \"query\"")
            }
            let k = try integer(arguments["k"], name: "k", default: 10, range: 1...100)
            var filter: Set<Int>?
            if let raw = arguments["topics"] {
                guard let list = raw as? [Any] else { throw ToolError("\"topics\" must be an array of topic ids or labels") }
                filter = Set(try list.map { try topic($0, tool: name).id })
            }
            let hits = try index.search(vector: try await index.embedQuery(query), filter: filter, k: k)
            return hits.map { ["id": $0.id, "score": $0.score, "topic_id": $0.topicID, "topic_label": $0.topicLabel, "snippet": $0.snippet] as [String: Any] }
        case "documents_by_topic":
            let t = try topic(arguments["topic"], tool: name)
            let limit = try integer(arguments["limit"], name: "limit", default: 20, range: 1...500)
            let offset = try integer(arguments["offset"], name: "offset", default: 0, range: 0...Int.max)
            let ids = t.documentIDs
            let page = offset < ids.count ? Array(ids[offset..<min(ids.count, offset + limit)]) : []
            return ["topic_id": t.id, "total": ids.count, "offset": offset,
                    "documents": page.map { ["id": $0, "snippet": index.snippet(of: $0) ?? ""] }] as [String: Any]
        default:
            // Every catalog entry has a case above; a tool added to the catalog without one lands here.
            throw ToolError("tool \"\(name)\" is listed but not implemented")
        }
    }

    func listTopics() -> [[String: Any]] {
        let parents = Dictionary(uniqueKeysWithValues: document.hierarchy.map { ($0.id, $0.label) })
        return document.topics.map { t in
            ["id": t.id, "label": t.label, "description": t.description, "size": t.size,
             "parent_id": t.parentID as Any, "parent_label": t.parentID.flatMap { parents[$0] } as Any]
        }
    }

    func getTopic(_ t: Topic) -> [String: Any] {
        var lineage: [String: Any] = ["first_run": t.firstRun]
        if let d = document.drift {
            if let s = d.splits.first(where: { $0.topic == t.id }) { lineage["split_from"] = s.splitFrom }
            let merged = d.merges.filter { $0.mergedInto == t.id }.map(\.topic)
            if !merged.isEmpty { lineage["absorbed"] = merged }
            lineage["new_in_last_run"] = d.new.contains(t.id)
        }
        return ["id": t.id, "label": t.label, "description": t.description, "keywords": t.keywords, "size": t.size,
                "share": t.share, "cohesion": t.cohesion, "label_source": t.labelSource.rawValue, "parent_id": t.parentID as Any,
                "representatives": t.representativeIDs.map { ["id": $0, "snippet": index.snippet(of: $0) ?? ""] },
                "lineage": lineage]
    }

    func topic(_ raw: Any?, tool: String) throws -> Topic {
        guard let raw else { throw ToolError("\(tool) needs \"topic\": a topic id or label (see list_topics)") }
        if let i = raw as? Int, let t = document.topics.first(where: { $0.id == i }) { return t }
        if let d = raw as? Double, d == d.rounded(), let t = document.topics.first(where: { $0.id == Int(d) }) { return t }
        if let s = raw as? String {
            if let i = Int(s), let t = document.topics.first(where: { $0.id == i }) { return t }
            if let t = document.topics.first(where: { $0.label.lowercased() == s.lowercased() }) { return t }
        }
        throw ToolError("no topic \(raw) — use an id or exact label from list_topics")
    }

    func integer(_ raw: Any?, name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let raw else { return value }
        let n: Int
        if let i = raw as? Int { n = i } else if let d = raw as? Double, d == d.rounded(), abs(d) < 1e15 { n = Int(d) } else {
            throw ToolError("\"\(name)\" must be an integer")
        }
        guard range.contains(n) else { throw ToolError("\"\(name)\" must be in \(range.lowerBound)…\(range.upperBound == Int.max ? "" : String(range.upperBound)), got \(n)") }
        return n
    }
}

extension SearchIndex {
    /// The stored snippet of document `id` (nil when unknown). O(1).
    public func snippet(of id: String) -> String? {
        snippetByID[id]
    }
}
