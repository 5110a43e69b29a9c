import Foundation
import StrataEmbed
import StrataHTTP
import StrataLinalg
import StrataStore
import Synchronization

/// Embeddings for a set of documents, with what it cost.
public struct EmbeddingResult: Sendable {
    /// n × dimension, unit-norm rows, in document order.
    public let matrix: Matrix
    public let embedded: Int
    public let cached: Int
    /// Tokens sent to the embedder (MiniLM WordPiece count).
    public let tokens: Int
    public let fingerprint: String
}

/// Creates embedders from a spec and embeds documents through the state database's cache.
public enum EmbeddingStage {
    /// Texts embedded (and stored) per round: bounds what a run holds beside the n × d result
    /// (700k documents would otherwise hold three n × d copies, 3.2 GB) and keeps finished rounds
    /// in the cache when a run is interrupted.
    static let storeChunk = 32_768

    /// Embeds the texts of `missing` (first rows of uncached hashes) in rounds of ``storeChunk``:
    /// each round's vectors go into their rows of `rows` and, when `cache` is given, into the cache.
    /// - Returns: tokens counted by `tokenCounter` (0 without one).
    static func embedMissing(_ missing: [Int], of documents: [Document], hashes: [String], into rows: inout StateDatabase.CachedRows,
                             embedder: any Embedder, cache: (any EmbeddingCache)?, tokenCounter: ((String) -> Int)?,
                             reporter: RunReporter) async throws -> Int {
        var tokens = 0
        for start in stride(from: 0, to: missing.count, by: storeChunk) {
            try Task.checkCancellation()
            let part = missing[start..<min(start + storeChunk, missing.count)]
            let texts = part.map { documents[$0].text }
            if let tokenCounter { tokens += texts.reduce(0) { $0 + tokenCounter($1) } }
            let total = missing.count
            let batch = try await embedder.embed(texts) { done, _ in reporter.progress("embed", done: start + done, total: total) }
            if rows.dimension == 0 {
                rows.dimension = batch.dimension
                rows.vectors = [Float](repeating: 0, count: documents.count * batch.dimension)
            }
            guard batch.dimension == rows.dimension else {
                throw StrataError(.failed, "embedding cache holds vectors of \(rows.dimension) dimensions, the embedder gives \(batch.dimension); delete the state directory's cache and rerun")
            }
            let d = rows.dimension
            for (o, i) in part.enumerated() { rows.vectors.replaceSubrange((i * d)..<((i + 1) * d), with: batch.row(o)) }
            try await cache?.storeEmbeddings(model: embedder.fingerprint, part.enumerated().map { (o, i) in (hash: hashes[i], vector: Array(batch.row(o))) })
        }
        return tokens
    }

    /// One MiniLM per process: a run embeds documents, label candidates, confidences and parent
    /// candidates, and each fresh `MiniLMEmbedder` reads 90 MB of weights.
    private static let sharedMiniLM = Mutex<MiniLMEmbedder?>(nil)

    /// Static embedders by table dimension, each loaded once per process (a 30 MB table).
    private static let sharedStatic = Mutex<[Int: StaticEmbedder]>([:])

    /// The static embedder of `dimension` columns, loaded once. Throws ``EmbedError`` when its table is
    /// missing or unusable (the message names the file and `strata distill`).
    static func staticEmbedder(dimension: Int) throws -> StaticEmbedder {
        try sharedStatic.withLock { shared in
            if let e = shared[dimension] { return e }
            let made = try StaticEmbedder(dimension: dimension)
            shared[dimension] = made
            return made
        }
    }

    /// The embedder for `spec` (nil for `field:`). MiniLM's and the static tables are created once and shared.
    public static func makeEmbedder(_ spec: EmbedderSpec, baseURL: URL) throws -> (any Embedder)? {
        switch spec {
        case .staticMiniLM(let d):
            return try staticEmbedder(dimension: d)
        case .fitted(let digest):
            return try FittedEmbedding.embedder(try resolved(digest))
        case .minilm:
            return try sharedMiniLM.withLock { shared in
                if let shared { return shared }
                let made = try MiniLMEmbedder()
                shared = made
                return made
            }
        case .openai(let model):
            let key = OpenAICompatibleClient.Configuration.apiKey(fromEnvironment: ["STRATA_EMBEDDING_API_KEY", "OPENAI_API_KEY"])
            return OpenAIEmbedder(model: model, client: OpenAICompatibleClient(configuration: .init(baseURL: baseURL, apiKey: key)))
        case .field:
            return nil
        }
    }

    /// The digest of a `fitted` spec; a programming error for a spec a run has not resolved
    /// (``FittedEmbedding/resolve(_:documents:state:reporter:)`` turns `fitted` into `fitted:DIGEST`).
    static func resolved(_ digest: String?) throws -> String {
        guard let digest else {
            throw StrataError(.usage, "--embedder fitted needs a corpus to fit on: `strata run`, `strata embed` and `strata estimate` make the fit, the sharded steps cannot use one, and commands that read a state take the fitted:DIGEST its run recorded (pass that run's --state)")
        }
        return digest
    }

    /// The cache key of the embedder `spec` names (what `EmbeddingResult.fingerprint` will be). For a
    /// static embedder it reads the table (it depends on the table's provenance), so it can throw.
    public static func fingerprint(_ spec: EmbedderSpec, baseURL: URL) throws -> String {
        switch spec {
        case .minilm: return MiniLMEmbedder.fingerprintString
        case .staticMiniLM(let d): return try staticEmbedder(dimension: d).fingerprint
        case .fitted(let digest): return try FittedEmbedding.embedder(try resolved(digest)).fingerprint
        case .openai(let m): return OpenAIEmbedder.fingerprint(baseURL: baseURL, model: m)
        case .field(let f): return "field:\(f)"
        }
    }

    /// Embeds `documents`: cached vectors are reused, only new texts go to the embedder, and new
    /// vectors are stored (one transaction) before returning. Rows are L2-normalised.
    public static func embed(_ documents: [Document], spec: EmbedderSpec, baseURL: URL, state: StateDatabase,
                             tokenCounter: ((String) -> Int)?, reporter: RunReporter, store: Bool = true) async throws -> EmbeddingResult {
        try await embed(documents, spec: spec, baseURL: baseURL, cache: state.embeddings, tokenCounter: tokenCounter,
                        reporter: reporter, store: store)
    }

    /// ``embed(_:spec:baseURL:state:tokenCounter:reporter:store:)`` through any cache (a sharded
    /// worker's is the shared store).
    public static func embed(_ documents: [Document], spec: EmbedderSpec, baseURL: URL, cache: any EmbeddingCache,
                             tokenCounter: ((String) -> Int)?, reporter: RunReporter, store: Bool = true) async throws -> EmbeddingResult {
        if case .field(let name) = spec {
            var dim: Int?
            var values: [Float] = []
            for d in documents {
                guard case .array(let arr)? = d.metadata[name] else {
                    throw StrataError(.failed, "\(d.location): field \"\(name)\" is missing or not an array of numbers")
                }
                let v: [Float] = try arr.map {
                    switch $0 {
                    case .number(let x): return Float(x)
                    case .integer(let x): return Float(x)
                    default: throw StrataError(.failed, "\(d.location): field \"\(name)\" holds a non-number")
                    }
                }
                try checkDimension(v, expected: dim, context: "\(d.location) field \"\(name)\"")
                dim = v.count
                values += v
            }
            let m = try Matrix(rows: documents.count, cols: dim ?? 0, storage: values).normalizedRows()
            return EmbeddingResult(matrix: m, embedded: 0, cached: 0, tokens: 0, fingerprint: "field:\(name)")
        }
        // The embedder (for MiniLM: 90 MB of weights) is created only when something is not cached.
        let fingerprint = try fingerprint(spec, baseURL: baseURL)
        let hashes = documents.map(\.contentHash)
        var rows = try await cache.cachedEmbeddingRows(model: fingerprint, hashes: hashes)
        let mismatch = StrataError(.failed, "embedding cache holds vectors of different lengths for \(fingerprint); delete the state directory's cache and rerun")
        if rows.mismatched > 0 { throw mismatch }
        var missing: [Int] = []            // first row of each hash that is not cached
        var slot: [String: Int] = [:]      // hash → its position in `missing` (and in the embedded batch)
        for (i, h) in hashes.enumerated() where !rows.found[i] && slot[h] == nil { slot[h] = missing.count; missing.append(i) }
        let cachedCount = documents.count - missing.count
        reporter.info("\(cachedCount) cached, \(missing.count) to embed with \(spec)")
        var tokens = 0
        if !missing.isEmpty {
            guard let embedder = try makeEmbedder(spec, baseURL: baseURL) else { fatalError("unreachable: field specs return above") }
            precondition(embedder.fingerprint == fingerprint, "EmbeddingStage.fingerprint out of step with \(embedder.fingerprint)")
            // Static tokens cost nothing: counting them would tokenise every text a second time.
            let counter: ((String) -> Int)? = if case .staticMiniLM = spec { nil } else { tokenCounter }
            tokens = try await embedMissing(missing, of: documents, hashes: hashes, into: &rows, embedder: embedder, cache: store ? cache : nil,
                                            tokenCounter: counter, reporter: reporter)
            // Every row of a missing hash (documents with identical text share one) gets the new vector.
            let d = rows.dimension
            rows.vectors.withUnsafeMutableBufferPointer { v in
                for (i, h) in hashes.enumerated() where !rows.found[i] && missing[slot[h]!] != i {
                    let first = missing[slot[h]!]
                    (v.baseAddress! + i * d).update(from: v.baseAddress! + first * d, count: d)
                }
            }
        }
        let dim = rows.dimension, storage = rows.vectors
        rows.vectors = []   // `storage` is now the only reference: normalising works in place, no second n × d copy
        let m = try Matrix(rows: documents.count, cols: dim, storage: storage).normalizedRows()
        return EmbeddingResult(matrix: m, embedded: missing.count, cached: cachedCount,
                               tokens: tokens, fingerprint: fingerprint)
    }
}
