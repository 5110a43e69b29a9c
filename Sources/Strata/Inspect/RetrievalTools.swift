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

    /// What the server tells a client about the tools (MCP `instructions`).
    public static let instructions = """
        Strata's topics of one document collection. Start with list_topics to see what the collection holds; \
        search with "topics" to retrieve only inside some topics (filtering happens before ranking); assign_text \
        says which topic a text belongs to. Topic -1 ("no topic") holds documents beyond every topic's radius.
        """

    static var topicRef: [String: Any] { ["type": ["integer", "string"], "description": "topic id or exact label (-1: documents without a topic)"] }
    static var topicSummary: [String: Any] { ["type": "object", "properties": [
        "id": ["type": "integer"], "label": ["type": "string"], "description": ["type": "string"], "size": ["type": "integer"],
        "parent_id": ["type": ["integer", "null"]], "parent_label": ["type": ["string", "null"]]]] }
    static func list(_ item: [String: Any]) -> [String: Any] {
        ["type": "object", "properties": ["items": ["type": "array", "items": item]], "required": ["items"]]
    }

    /// Name, description, input JSON Schema and output JSON Schema (of the structured result) of every tool.
    public static var catalog: [(name: String, description: String, schema: [String: Any], output: [String: Any])] { [
        ("list_topics", "List every topic: id, label, description, size (documents) and parent topic.",
         ["type": "object", "properties": [String: Any](), "additionalProperties": false], list(topicSummary)),
        ("get_topic", "One topic in detail: keywords, representative documents, label source and lineage (splits, merges, first run).",
         ["type": "object", "properties": ["topic": topicRef], "required": ["topic"], "additionalProperties": false],
         ["type": "object", "properties": [
            "id": ["type": "integer"], "label": ["type": "string"], "description": ["type": "string"], "size": ["type": "integer"],
            "keywords": ["type": "array", "items": ["type": "string"]], "label_source": ["type": "string"],
            "representatives": ["type": "array", "items": ["type": "object"]], "lineage": ["type": "object"]], "required": ["id", "label"]]),
        ("search", "Semantic search over the documents (cosine over stored embeddings), optionally only inside some topics; filtering happens before ranking.",
         ["type": "object", "properties": [
            "query": ["type": "string", "description": "what to look for"],
            "topics": ["type": "array", "items": topicRef, "description": "topic ids or labels to search in (default: all)"],
            "k": ["type": "integer", "minimum": 1, "maximum": 100, "description": "number of hits (default 10)"],
         ], "required": ["query"], "additionalProperties": false],
         list(["type": "object", "properties": ["id": ["type": "string"], "score": ["type": "number"], "topic_id": ["type": "integer"],
                                                "topic_label": ["type": "string"], "snippet": ["type": "string"]]])),
        ("documents_by_topic", "The documents of one topic in source order, paged: ids and text snippets.",
         ["type": "object", "properties": [
            "topic": topicRef,
            "limit": ["type": "integer", "minimum": 1, "maximum": 500, "description": "page size (default 20)"],
            "offset": ["type": "integer", "minimum": 0, "description": "documents to skip (default 0)"],
         ], "required": ["topic"], "additionalProperties": false],
         ["type": "object", "properties": ["topic_id": ["type": "integer"], "total": ["type": "integer"], "offset": ["type": "integer"],
                                           "documents": ["type": "array", "items": ["type": "object"]]], "required": ["topic_id", "total", "documents"]]),
        ("assign_text", "Which topic a text belongs to: the topic (-1 when it is beyond every topic's radius), its score, and the runner-up.",
         ["type": "object", "properties": ["text": ["type": "string", "description": "the text to place"]], "required": ["text"],
          "additionalProperties": false],
         ["type": "object", "properties": [
            "topic_id": ["type": "integer"], "topic_label": ["type": "string"], "score": ["type": "number"], "nearest_id": ["type": "integer"],
            "runner_up_id": ["type": ["integer", "null"]], "runner_up_label": ["type": ["string", "null"]],
            "runner_up_score": ["type": ["number", "null"]]], "required": ["topic_id", "topic_label", "score"]]),
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
        case "assign_text":
            guard let text = arguments["text"] as? String else { throw ToolError("assign_text needs a string \"text\"") }
            let a: TextAssignment
            do { a = try await index.assign(texts: [text])[0] } catch let e as StrataError { throw ToolError(e.message) }
            return ["topic_id": a.topicID, "topic_label": a.topicLabel, "score": a.score, "nearest_id": a.nearestID,
                    "runner_up_id": a.runnerUpID as Any, "runner_up_label": a.runnerUpLabel as Any, "runner_up_score": a.runnerUpScore as Any]
        case "documents_by_topic":
            let t = try topic(arguments["topic"], tool: name)
            let limit = try integer(arguments["limit"], name: "limit", default: 20, range: 1...500)
            let offset = try integer(arguments["offset"], name: "offset", default: 0, range: 0...Int.max)
            // Runs over more than TopicsDocument.documentListLimit documents do not list members: take
            // them from the state's documents (in id order).
            let ids = t.documentIDs ?? index.members(of: t.id)
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
        if (raw as? Int) == -1 || (raw as? Double) == -1 || (raw as? String) == "-1" || (raw as? String)?.lowercased() == Export.noTopicLabel {
            return index.unassigned
        }
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
