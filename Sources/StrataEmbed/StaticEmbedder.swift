import Dispatch
import Foundation
import StrataLinalg

/// The static embedder (`--embedder static`): MiniLM's WordPiece tokenizer, then the L2-normalised
/// sum of the tokens' rows of a distilled ``StaticTable`` (weights are folded into the rows, so the sum
/// is the weighted mean up to scale). No transformer runs: cost is the tokenizer plus
/// tokens × dimension additions per text.
///
/// Edge cases: `[CLS]`/`[SEP]` are not counted; texts longer than ``maxTokens`` word pieces are
/// truncated; a text with no word pieces (empty or only whitespace) gets the normalised `[UNK]` row,
/// so every vector has unit norm.
public struct StaticEmbedder: Embedder {
    /// Word pieces read per text (model2vec's default; MiniLM reads 254).
    public static let maxTokens = 510
    public let table: StaticTable
    public let tokenizer: WordPieceTokenizer
    public let fingerprint: String
    public var dimension: Int? { table.dimension }

    /// The cache fingerprint of a table: source model digest (first 16 hex digits), dimension and
    /// recipe, so vectors of another table, dimension or recipe never share a cache entry.
    public static func fingerprint(of table: StaticTable) -> String {
        let digest = String((table.provenance["strata.source_sha256"] ?? "unknown").prefix(16))
        let recipe = table.provenance["strata.recipe"] ?? ""
        var h: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a of the recipe text: short and stable
        for b in recipe.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return "static:all-MiniLM-L6-v2:\(digest):d\(table.dimension):r\(String(h, radix: 16)):sum:l2"
    }

    /// Wraps `table` with the tokenizer of the vocabulary it was distilled from.
    ///
    /// - Throws: ``EmbedError`` `.staticTableInvalid` when the table's rows do not match the vocabulary.
    public init(table: StaticTable, vocabularyURL: URL, tablePath: String? = nil) throws {
        let tokenizer = try WordPieceTokenizer(vocabularyURL: vocabularyURL, maxLength: Self.maxTokens + 2)
        guard tokenizer.vocabularySize == table.vocabularySize else {
            throw EmbedError(.staticTableInvalid, path: tablePath,
                             "The static table has \(table.vocabularySize) rows but \(vocabularyURL.path) has \(tokenizer.vocabularySize) tokens; delete the table and \(StaticTable.rebuildHint).")
        }
        self.table = table
        self.tokenizer = tokenizer
        fingerprint = Self.fingerprint(of: table)
    }

    /// Wraps a table with an already loaded tokenizer and a fingerprint of the caller's choosing (a corpus
    /// fit's, ``init(fitted:base:digest:)``).
    init(table: StaticTable, tokenizer: WordPieceTokenizer, fingerprint: String) {
        precondition(tokenizer.vocabularySize == table.vocabularySize, "the table's rows must match the vocabulary")
        self.table = table
        self.tokenizer = tokenizer
        self.fingerprint = fingerprint
    }

    /// Loads the default table of `dimension` columns and the MiniLM vocabulary from the model cache.
    public init(dimension: Int = 256, modelDirectory: URL = MiniLMEncoder.defaultModelDirectory()) throws {
        let url = StaticTable.defaultURL(dimension: dimension)
        try self.init(table: try StaticTable(contentsOf: url), vocabularyURL: modelDirectory.appendingPathComponent("vocab.txt"),
                      tablePath: url.path)
    }

    /// The unit vector of one text into `out` (dimension floats). O(tokens × dimension).
    public func embed(_ text: String, into out: UnsafeMutableBufferPointer<Float>) {
        let d = table.dimension
        for j in 0..<d { out[j] = 0 }
        let ids = tokenizer.encode(text)
        table.rows.withUnsafeBufferPointer { rows in
            if ids.count <= 2 {
                for j in 0..<d { out[j] = rows[Int(tokenizer.unkID) * d + j] }
            } else {
                for t in ids[1 ..< ids.count - 1] {
                    let row = rows.baseAddress! + Int(t) * d
                    for j in 0..<d { out[j] += row[j] }
                }
            }
        }
        var norm: Float = 0
        for j in 0..<d { norm += out[j] * out[j] }
        let scale = 1 / max(norm.squareRoot(), 1e-12)
        for j in 0..<d { out[j] *= scale }
    }

    /// Embeds `texts` on all cores, in slices of 16,384 texts; stops between slices when the task is
    /// cancelled (SIGTERM/SIGINT at the CLI). O(total tokens × dimension).
    public func embed(_ texts: [String], progress: (@Sendable (Int, Int) -> Void)?) async throws -> EmbeddingBatch {
        let d = table.dimension, total = texts.count, slice = 16_384
        let workers = max(1, ProcessInfo.processInfo.activeProcessorCount)
        var values = [Float](repeating: 0, count: total * d)
        var start = 0
        while start < total {
            try Task.checkCancellation()
            let end = min(total, start + slice), base = start
            values.withUnsafeMutableBufferPointer { buf in
                let out = SendableBuffer(buf)
                let parts = min(workers, max(1, (end - base) / 256))
                DispatchQueue.concurrentPerform(iterations: parts) { p in
                    let lo = base + (end - base) * p / parts, hi = base + (end - base) * (p + 1) / parts
                    for i in lo..<hi {
                        embed(texts[i], into: UnsafeMutableBufferPointer(rebasing: out.base[(i * d)..<((i + 1) * d)]))
                    }
                }
            }
            progress?(end, total)
            start = end
        }
        return EmbeddingBatch(dimension: d, values: values)
    }

    /// Word pieces of `text` as the static embedder reads them (without `[CLS]`/`[SEP]`).
    public func tokenCount(_ text: String) -> Int { max(0, tokenizer.encode(text).count - 2) }
}
