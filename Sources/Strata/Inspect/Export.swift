import Foundation
import StrataEmbed
import StrataStore

/// `strata export`: one table of every document of the source with its topic columns and its vector,
/// as Parquet (read as-is by pandas, Polars, pyarrow, DuckDB and LanceDB) or compact JSON Lines. Rows in
/// source order, ids included (a vector file without ids aligns only by position). Documents added since
/// the last run read topic −1 ("no topic"); a topic without a parent reads parent −1 and parent label ""
/// (never null: Chroma rejects null metadata).
public enum Export {
    public enum Format: String, Sendable, CaseIterable { case parquet, jsonl }

    /// The export's columns, one entry per document.
    public struct Table: Sendable {
        public var ids: [String]
        public var texts: [String]?
        public var topicIDs: [Int32]
        public var labels: [String]
        public var scores: [Double]
        public var parentIDs: [Int32]
        public var parentLabels: [String]
        /// Row-major unit vectors, `ids.count × dimension`.
        public var vectors: [Float]
        public var dimension: Int
    }

    /// Label of documents without a topic.
    public static let noTopicLabel = "no topic"

    /// Reads the source and the committed state; vectors come from the embedding cache (documents the
    /// state has not seen are embedded with the run's embedder, nothing is stored).
    public static func table(_ options: RunOptions, withText: Bool, reporter: RunReporter = SilentReporter()) async throws -> Table {
        let docs = try await DocumentStore.read(options.source, options: options.read).documents
        let (state, previous) = try CommittedState.previous(options.stateDirectory)
        let spec = try EmbedderSpec.parse(previous.document.run.embedder.name)
        let x = try await EmbeddingStage.embed(docs, spec: spec, baseURL: options.embeddingBaseURL, state: state, tokenCounter: nil,
                                               reporter: reporter, store: false).matrix
        let topics = Dictionary(uniqueKeysWithValues: previous.document.topics.map { ($0.id, $0) })
        let parents = Dictionary(uniqueKeysWithValues: previous.document.hierarchy.map { ($0.id, $0.label) })
        let recorded = docs.map { previous.recorded[$0.id] }
        let topicOf = recorded.map { $0?.topic ?? -1 }
        let parentOf = topicOf.map { topics[$0]?.parentID ?? -1 }
        return Table(ids: docs.map(\.id), texts: withText ? docs.map(\.text) : nil,
                     topicIDs: topicOf.map { Int32(clamping: $0) },
                     labels: topicOf.map { topics[$0]?.label ?? noTopicLabel }, scores: recorded.map { $0?.score ?? 0 },
                     parentIDs: parentOf.map { Int32(clamping: $0) }, parentLabels: parentOf.map { parents[$0] ?? "" },
                     vectors: x.storage, dimension: x.cols)
    }

    /// Writes `table` to `path` (atomically).
    public static func write(_ table: Table, format: Format, to path: String) throws {
        switch format {
        case .parquet:
            var columns: [ParquetColumn] = [.string("id", table.ids)]
            if let texts = table.texts { columns.append(.string("text", texts)) }
            columns += [.int32("topic_id", table.topicIDs), .string("topic_label", table.labels), .double("topic_score", table.scores),
                        .int32("topic_parent_id", table.parentIDs), .string("topic_parent_label", table.parentLabels),
                        .floatList("vector", table.vectors, width: table.dimension)]
            try Parquet.write(columns, rows: table.ids.count, to: path, createdBy: "strata \(strataVersion)")
        case .jsonl:
            try AtomicFile.write(path) { h in
                var buffer = ""
                for i in table.ids.indices {
                    var line = "{\"id\":\(jsonString(table.ids[i]))"
                    if let texts = table.texts { line += ",\"text\":\(jsonString(texts[i]))" }
                    line += ",\"topic_id\":\(table.topicIDs[i]),\"topic_label\":\(jsonString(table.labels[i]))"
                    line += ",\"topic_score\":\(table.scores[i]),\"topic_parent_id\":\(table.parentIDs[i])"
                    line += ",\"topic_parent_label\":\(jsonString(table.parentLabels[i])),\"vector\":"
                    line += compactFloats(table.vectors[(i * table.dimension)..<((i + 1) * table.dimension)]) + "}\n"
                    buffer += line
                    if buffer.utf8.count > 1 << 20 { try h.write(contentsOf: Data(buffer.utf8)); buffer = "" }
                }
                try h.write(contentsOf: Data(buffer.utf8))
            }
        }
    }

    /// A JSON array of floats in their shortest round-trip form (float32 needs at most 9 significant
    /// digits; printing them as doubles takes 17 and makes files ~5× larger).
    public static func compactFloats(_ values: ArraySlice<Float>) -> String {
        "[" + values.map { $0 == 0 ? "0" : "\($0)" }.joined(separator: ",") + "]"
    }

    static let jsonEscapes: [Unicode.Scalar: String] = ["\"": "\\\"", "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"]

    /// `s` as a JSON string literal.
    public static func jsonString(_ s: String) -> String {
        "\"" + replacing(s) { u in jsonEscapes[u] ?? (u.value < 0x20 ? String(format: "\\u%04x", u.value) : nil) } + "\""
    }

    /// `s` with each scalar that `replacement` maps replaced by its text. O(length).
    static func replacing(_ s: String, _ replacement: (Unicode.Scalar) -> String?) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for u in s.unicodeScalars {
            if let r = replacement(u) { out += r } else { out.unicodeScalars.append(u) }
        }
        return out
    }
}
