import Foundation
import StrataLinalg

/// A static table fitted to one corpus (`--embedder fitted`): a sample of the corpus goes through MiniLM,
/// a ridge map W from the static vectors of those documents to their MiniLM vectors is fitted, and W is
/// folded into the table (row × W). The map has no intercept, so the fitted embedder is still a sum of
/// token rows: normalise(Σ rows)·W normalised equals normalise(Σ rows·W).
///
/// What it buys (BENCHMARKS.md, "Corpus-fitted static table"): a few points of MiniLM's clustering
/// quality back over the distilled table, for the MiniLM cost of the sample.
public struct CorpusFit: Codable, Sendable, Equatable {
    /// The static embedder the map starts from (its cache fingerprint).
    public let baseFingerprint: String
    /// Rows of W: the base table's columns.
    public let inputDimension: Int
    /// Columns of W: MiniLM's dimension.
    public let outputDimension: Int
    /// Ridge penalty per sample row (chosen from ``ridgeCandidates`` on held-out sample rows).
    public let ridge: Double
    /// Mean cosine between mapped static vectors and MiniLM vectors on the held-out tenth of the sample,
    /// at the chosen penalty: how well the fitted table imitates MiniLM on this corpus.
    public let heldOutCosine: Double
    /// Documents the map was fitted on (distinct texts through MiniLM).
    public let sampleDocuments: Int
    /// Share of the corpus asked for (`--fitted-share`).
    public let share: Double
    /// W, row-major, inputDimension × outputDimension.
    public let weights: [Float]

    enum CodingKeys: String, CodingKey {
        case baseFingerprint = "base_fingerprint", inputDimension = "input_dimension", outputDimension = "output_dimension"
        case ridge, heldOutCosine = "held_out_cosine", sampleDocuments = "sample_documents", share, weights
    }

    /// Penalties per sample row tried by a fit. The best held-out cosine picked the best NMI at every
    /// sample size measured (BENCHMARKS.md, "Corpus-fitted static table"); the best penalty moves with the
    /// sample (fortunes: 3e-3 at 2%, 1e-3 at 5%, 3e-4 at 10%), so it is chosen per fit, not fixed.
    public static let ridgeCandidates = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2]

    /// Fits W on `staticVectors` (m × base columns, the base embedder's unit vectors of the sample) and
    /// `targets` (m × MiniLM columns, their MiniLM vectors), the penalty chosen on every tenth row held
    /// out. O(m·p·(p + q) + p³).
    ///
    /// - Throws: ``EmbedError`` `.configInvalid` for fewer than 2 rows or different row counts;
    ///   ``LinalgError`` from the solve.
    public static func fit(base: StaticEmbedder, staticVectors: Matrix, targets: Matrix, share: Double,
                           candidates: [Double] = ridgeCandidates) throws -> CorpusFit {
        guard staticVectors.rows == targets.rows, staticVectors.rows >= 20, staticVectors.cols == base.table.dimension else {
            throw EmbedError(.configInvalid, "a corpus fit needs at least 20 sample documents with vectors of both embedders (got \(staticVectors.rows) static, \(targets.rows) MiniLM rows)")
        }
        let choice = try BLAS.withThreads(1) { try Ridge.fitChoosingPenalty(x: staticVectors, y: targets, candidates: candidates) }
        let w = choice.map
        return CorpusFit(baseFingerprint: base.fingerprint, inputDimension: w.rows, outputDimension: w.cols, ridge: choice.lambda,
                         heldOutCosine: choice.heldOutCosine.max()!, sampleDocuments: staticVectors.rows, share: share, weights: w.storage)
    }

    /// The base table with W folded in: rows × W, `outputDimension` columns. O(vocabulary × p × q).
    /// - Throws: ``EmbedError`` `.staticTableInvalid` when the table's columns are not W's rows.
    public func table(from base: StaticTable) throws -> StaticTable {
        guard base.dimension == inputDimension, weights.count == inputDimension * outputDimension else {
            throw EmbedError(.staticTableInvalid, "the corpus fit maps \(inputDimension) columns but the static table has \(base.dimension); refit with `strata run --embedder fitted --refit`")
        }
        var rows = [Float](repeating: 0, count: base.vocabularySize * outputDimension)
        BLAS.withThreads(1) {
            BLAS.gemm(.none, .none, m: base.vocabularySize, n: outputDimension, k: inputDimension, alpha: Float(1),
                      a: base.rows, lda: inputDimension, b: weights, ldb: outputDimension, beta: Float(0), c: &rows, ldc: outputDimension)
        }
        var provenance = base.provenance
        provenance["strata.recipe"] = (base.provenance["strata.recipe"] ?? "") + "; then × a ridge map (λ=\(ridge)) fitted to MiniLM on \(sampleDocuments) documents of the corpus"
        return StaticTable(vocabularySize: base.vocabularySize, dimension: outputDimension, rows: rows, provenance: provenance)
    }
}

extension StaticEmbedder {
    /// The embedder of a corpus fit over `base`: same tokenizer, the folded table, and the fingerprint
    /// `fitted:<digest>:d<columns>:sum:l2` (`digest` identifies W, so two fits never share cached vectors).
    public init(fitted fit: CorpusFit, base: StaticEmbedder, digest: String) throws {
        guard fit.baseFingerprint == base.fingerprint else {
            throw EmbedError(.staticTableInvalid, "the corpus fit was made over \(fit.baseFingerprint), the static table is now \(base.fingerprint) (it was distilled again); refit with `strata run --embedder fitted --refit`")
        }
        self.init(table: try fit.table(from: base.table), tokenizer: base.tokenizer,
                  fingerprint: "fitted:all-MiniLM-L6-v2:\(digest):d\(fit.outputDimension):sum:l2")
    }
}
