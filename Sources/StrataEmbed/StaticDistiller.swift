import Foundation
import StrataLinalg

/// How a static table is distilled from MiniLM (model2vec's recipe, Strata's own code).
public struct StaticRecipe: Sendable, Equatable {
    /// Columns of the table: the number of principal components kept (1 … the encoder's dimension;
    /// equal to it rotates and centres without reducing).
    public var dimension: Int
    /// The SIF coefficient a in w = a / (a + p(token)), p from a Zipf law over vocabulary ranks.
    public var sifCoefficient: Double

    /// Defaults: 256 columns (model2vec's default) and a = 3e-5, chosen on the shipped 3,000-document
    /// samples (BENCHMARKS.md, "Static embedder"); model2vec uses 1e-4.
    public init(dimension: Int = 256, sifCoefficient: Double = 3e-5) {
        self.dimension = dimension
        self.sifCoefficient = sifCoefficient
    }

    /// One line that says what was done, stored in the table's provenance and part of the embedder's
    /// cache fingerprint.
    public var description: String {
        "tokens as [CLS] t [SEP], mean-pooled (not normalised); [unusedN] rows zero; PCA to \(dimension) (centred, unwhitened) over the other rows; rows × SIF a/(a+p) with a=\(sifCoefficient), p Zipf over their vocabulary rank"
    }
}

/// Distils a ``StaticTable`` from the MiniLM encoder: every vocabulary entry but the `[unusedN]`
/// placeholders is embedded alone (`[CLS] token [SEP]`, mean of the three outputs, not normalised), the
/// tokens × 384 matrix is reduced with ``PCA``, and each row is scaled by its token's SIF weight.
///
/// Deterministic: the same model, recipe and BLAS kernel give the same table bytes in every process
/// (fixed batches, single-threaded BLAS, PCA with a sign convention, no randomness); another CPU kernel
/// (e.g. AVX-512 vs AVX2) may change the last bits. Not deterministic while another thread of the
/// same process changes OpenBLAS's thread count. Cost: one encoder pass over 3 tokens per vocabulary entry (≈ 30k × 3
/// tokens, 20–40 s on 2 cores) plus a PCA of 30k × 384 (well under a second).
public enum StaticDistiller {
    /// SIF weights from a Zipf law over vocabulary order: the r-th kept token (0-based) has probability
    /// p = (1/(r+1)) / H(n), weight a / (a + p), n the kept tokens. Rank order is the vocabulary file's
    /// order, which for WordPiece vocabularies roughly follows frequency. O(n).
    public static func zipfWeights(count n: Int, coefficient a: Double) -> [Float] {
        var harmonic = 0.0
        for r in stride(from: n, through: 1, by: -1) { harmonic += 1 / Double(r) }
        return (0..<n).map { r in
            let p = 1 / (Double(r + 1) * harmonic)
            return Float(a / (a + p))
        }
    }

    /// Whether a vocabulary entry is a placeholder that text never tokenises to (BERT's `[unusedN]`).
    public static func isPlaceholder(_ token: String) -> Bool {
        let digits = token.dropFirst(7).dropLast()
        return token.hasPrefix("[unused") && token.hasSuffix("]") && !digits.isEmpty && digits.allSatisfy(\.isASCII) && digits.allSatisfy(\.isNumber)
    }

    /// Distils the table. `sourceDigest` identifies the model files (SHA-256 of the weights and the
    /// vocabulary; the caller computes it) and is stored in the provenance.
    ///
    /// - Parameters:
    ///   - stop: checked between encoder batches; when set the distillation throws `CancellationError`.
    ///   - progress: (vocabulary entries embedded, total), from worker threads.
    /// - Throws: ``EmbedError`` `.configInvalid` for a dimension outside 1 … encoder dimension;
    ///   `CancellationError` when stopped; ``LinalgError`` from the PCA.
    public static func distill(encoder: MiniLMEncoder, recipe: StaticRecipe, sourceDigest: String,
                               stop: StopFlag? = nil,
                               progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> StaticTable {
        let v = encoder.tokenizer.vocabularySize, d = encoder.dimension
        guard (1...d).contains(recipe.dimension) else {
            throw EmbedError(.configInvalid, "--dimension \(recipe.dimension) is outside 1…\(d) (the encoder's dimension); choose e.g. 128, 256 or \(d).")
        }
        let tok = encoder.tokenizer
        let kept = (0..<v).filter { !isPlaceholder(tok.token(for: Int32($0)) ?? "") }
        let sequences = kept.map { [tok.clsID, Int32($0), tok.sepID] }
        var options = EncodeOptions()
        options.stop = stop
        options.normalize = false
        let vectors = encoder.embed(sequences: sequences, options: options, progress: progress)
        if stop?.isStopped == true { throw CancellationError() }
        // One BLAS thread for the PCA (LAPACK's blocking depends on the thread count), so the bytes do not
        // depend on OPENBLAS_NUM_THREADS; the encoder's workers run single-threaded BLAS already.
        let reduced = try BLAS.withThreads(1) {
            let x = try Matrix(rows: kept.count, cols: d, storage: vectors)
            return try PCA.fit(x, components: .count(recipe.dimension)).transform(x).storage
        }
        let weights = zipfWeights(count: kept.count, coefficient: recipe.sifCoefficient)
        let p = recipe.dimension
        var rows = [Float](repeating: 0, count: v * p)
        for (r, id) in kept.enumerated() { for j in 0..<p { rows[id * p + j] = reduced[r * p + j] * weights[r] } }
        return StaticTable(vocabularySize: v, dimension: p, rows: rows, provenance: [
            "strata.source_model": encoder.modelDirectory.lastPathComponent,
            "strata.source_sha256": sourceDigest,
            "strata.recipe": recipe.description,
        ])
    }
}
