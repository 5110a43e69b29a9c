import Foundation
import StrataEmbed
import StrataLinalg
import StrataStore
import Synchronization

/// `--embedder fitted`: a static table fitted to the corpus (``CorpusFit``). A run reuses the fit its
/// state holds, or makes one from a sample of the corpus through MiniLM; the fit is committed with the
/// run (state key ``key``), so search, `assign --text`, MCP and the next night embed with the same table.
public enum FittedEmbedding {
    /// The `current` key holding the committed fit (JSON of ``CorpusFit``).
    static let key = "fitted_embedder"
    /// Fewest sample documents a fit uses (a 256 × 384 map needs far more rows than columns); a corpus
    /// with fewer distinct texts is sampled whole.
    static let minimumSample = 2_000

    /// Fits loaded in this process, by digest, with their embedders (each folds W into a 30k-row table once).
    private static let loaded = Mutex<[String: (fit: CorpusFit, embedder: StaticEmbedder)]>([:])

    /// The first 16 hex digits of the SHA-256 of W's bytes and the base fingerprint: names the fit in
    /// `fitted:DIGEST` and in the cache fingerprint.
    static func digest(_ fit: CorpusFit) -> String {
        var bytes = Array(fit.baseFingerprint.utf8)
        for w in fit.weights { withUnsafeBytes(of: w.bitPattern.littleEndian) { bytes += $0 } }
        return String(SHA256.hexDigest(bytes).prefix(16))
    }

    /// Makes `fit`'s embedder available to ``embedder(_:)``. - Returns: its digest.
    @discardableResult
    static func register(_ fit: CorpusFit) throws -> String {
        let d = digest(fit)
        if loaded.withLock({ $0[d] }) != nil { return d }
        let base = try EmbeddingStage.staticEmbedder(dimension: fit.inputDimension)
        let embedder = try StaticEmbedder(fitted: fit, base: base, digest: d)
        loaded.withLock { $0[d] = (fit, embedder) }
        return d
    }

    /// The embedder of the fit named `digest`; a usage error when no state opened in this process holds it.
    static func embedder(_ digest: String) throws -> StaticEmbedder {
        guard let e = loaded.withLock({ $0[digest]?.embedder }) else {
            throw StrataError(.usage, "embedder fitted:\(digest) is a corpus fit kept in the state of the run that made it; pass that run's --state, or run `strata run SOURCE --embedder fitted` to fit one")
        }
        return e
    }

    /// Registers the fit `state` committed, if any, and returns it.
    @discardableResult
    static func load(from state: StateDatabase) throws -> CorpusFit? {
        guard let data = try state.current(key) else { return nil }
        let fit: CorpusFit
        do { fit = try JSONDecoder().decode(CorpusFit.self, from: data) } catch {
            throw StrataError(.failed, "the state's corpus fit (\(key)) is unreadable (\(error)); refit with `strata run SOURCE --embedder fitted --full`")
        }
        try register(fit)
        return fit
    }

    /// What a run commits for `spec`: the fit's JSON when `spec` is a fit.
    static func record(_ spec: EmbedderSpec) throws -> Data? {
        guard case .fitted(let d?) = spec, let fit = loaded.withLock({ $0[d]?.fit }) else { return nil }
        return try JSONEncoder().encode(fit)
    }

    /// The sample a fit is made on: the distinct texts with the smallest content hashes, `share` of them
    /// (at least ``minimumSample``). Hash order is a fair, seedless sample that stays the same from night
    /// to night (so the sample's MiniLM vectors come from the cache). O(n log n).
    static func sample(_ documents: [Document], share: Double) -> [Document] {
        var first: [DigestKey: Int] = [:]
        for (i, d) in documents.enumerated() { let key = d.digestKey; if first[key] == nil { first[key] = i } }
        let count = min(first.count, max(Int((share * Double(first.count)).rounded()), minimumSample))
        return first.keys.sorted().prefix(count).map { documents[first[$0]!] }
    }

    /// The concrete embedder a run over `documents` uses: `spec` itself unless it is `fitted` without a
    /// digest; then the state's fit when it was made with this share over this static table (and the run
    /// is not `--full`), else a new fit from MiniLM vectors of ``sample(_:share:)`` (cached in the state).
    /// `store`: whether the sample's MiniLM vectors go into the state's cache (not for `strata estimate`).
    public static func resolve(_ options: RunOptions, documents: [Document], state: StateDatabase, reporter: RunReporter,
                               store: Bool = true) async throws -> EmbedderSpec {
        guard case .fitted(let named) = options.embedder else { return options.embedder }
        if options.shared != nil {
            throw StrataError(.usage, "--embedder fitted is single-process: the sharded steps embed on many machines before any fit exists; use --embedder static (or minilm) with --shared")
        }
        let committed = try load(from: state)
        if let named { _ = try embedder(named); return .fitted(named) }
        let base = try EmbeddingStage.staticEmbedder(dimension: EmbedderSpec.defaultStaticDimension)
        if let committed, options.mode != .full, committed.share == options.fittedShare, committed.baseFingerprint == base.fingerprint {
            return .fitted(digest(committed))
        }
        let sample = sample(documents, share: options.fittedShare)
        reporter.stage("fit the static table to the corpus: MiniLM on \(sample.count) of \(documents.count) documents")
        let targets = try await EmbeddingStage.embed(sample, spec: .minilm, baseURL: options.embeddingBaseURL, state: state,
                                                     tokenCounter: nil, reporter: reporter,
                                                     store: store && (options.dryRun?.storeEmbeddings ?? true)).matrix
        let batch = try await base.embed(sample.map(\.text), progress: nil)
        let fit = try CorpusFit.fit(base: base, staticVectors: try Matrix(rows: sample.count, cols: batch.dimension, storage: batch.values),
                                    targets: targets, share: options.fittedShare)
        let d = try register(fit)
        reporter.info("corpus fit fitted:\(d) on \(sample.count) documents: λ = \(fit.ridge), held-out cosine to MiniLM \(String(format: "%.3f", fit.heldOutCosine))")
        return .fitted(d)
    }
}
