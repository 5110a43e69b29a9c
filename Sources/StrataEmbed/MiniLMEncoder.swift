import Dispatch
import Foundation
import StrataLinalg
import Synchronization

/// The hyperparameters of a BERT encoder, read from the model's `config.json`.
public struct BertConfig: Sendable, Equatable, Decodable {
    public var hiddenSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    public var intermediateSize: Int
    public var maxPositionEmbeddings: Int
    public var vocabSize: Int
    public var typeVocabSize: Int
    public var layerNormEps: Float
    public var hiddenAct: String
    public var positionEmbeddingType: String?

    enum CodingKeys: String, CodingKey {
        case hiddenSize = "hidden_size", numHiddenLayers = "num_hidden_layers"
        case numAttentionHeads = "num_attention_heads", intermediateSize = "intermediate_size"
        case maxPositionEmbeddings = "max_position_embeddings", vocabSize = "vocab_size"
        case typeVocabSize = "type_vocab_size", layerNormEps = "layer_norm_eps"
        case hiddenAct = "hidden_act", positionEmbeddingType = "position_embedding_type"
    }

    /// Dimensions per attention head (`hiddenSize / numAttentionHeads`).
    public var headSize: Int { hiddenSize / max(1, numAttentionHeads) }

    /// Multiply–add work per token of the linear layers: 2·layers·(4·h² + 2·h·i) flops
    /// (≈ 21.2 MFLOP for MiniLM-L6). Attention adds 4·layers·h·L flops per token for length L.
    public var linearFlopsPerToken: Double {
        let h = Double(hiddenSize), i = Double(intermediateSize)
        return 2 * Double(numHiddenLayers) * (4 * h * h + 2 * h * i)
    }

    /// Total forward-pass flops for a sequence of `length` tokens (linear layers plus attention).
    public func flops(sequenceLength length: Int) -> Double {
        let l = Double(length)
        return l * linearFlopsPerToken + 4 * Double(numHiddenLayers) * Double(hiddenSize) * l * l
    }
}

/// How the encoder spreads work over cores.
public enum EncoderParallelism: Sendable, Equatable {
    /// One batch at a time; OpenBLAS's own threads split each GEMM (its current thread setting).
    /// Attention, LayerNorm and GELU run on the calling thread.
    case blasThreads
    /// `n` batches at a time on `n` threads (DispatchQueue.concurrentPerform), each running the
    /// whole forward pass with OpenBLAS set to one thread for the duration of the call. The
    /// OpenBLAS thread setting is process-wide and is restored afterwards.
    case workers(Int)

    /// `workers(n)` with n = the number of active processors.
    public static var allCores: EncoderParallelism { .workers(ProcessInfo.processInfo.activeProcessorCount) }
}

/// Options for ``MiniLMEncoder/embed(_:options:progress:)``.
public struct EncodeOptions: Sendable {
    /// Most tokens in one forward batch (sequences are packed end to end without padding). Bounds
    /// scratch memory at about 17 KB per token per worker. Default 2,048.
    public var maxBatchTokens: Int = 2048
    /// Texts tokenised, sorted by length and embedded together; bounds memory for token ids
    /// regardless of corpus size. Default 4,096.
    public var chunkSize: Int = 4096
    /// Default: ``EncoderParallelism/allCores``.
    public var parallelism: EncoderParallelism = .allCores
    /// Polled before every batch: once set, no batch starts and the rows not yet embedded are zero
    /// (the caller throws; ``MiniLMEmbedder`` does). A batch takes well under a second.
    public var stop: StopFlag?
    /// Whether each pooled vector is L2-normalised (sentence-transformers does; distilling a static
    /// table reads the raw mean, as model2vec does). Default true.
    public var normalize = true

    public init(maxBatchTokens: Int = 2048, chunkSize: Int = 4096,
                parallelism: EncoderParallelism = .allCores) {
        self.maxBatchTokens = maxBatchTokens
        self.chunkSize = chunkSize
        self.parallelism = parallelism
    }
}

/// A native, CPU-only sentence encoder for BERT-family sentence-transformers models such as
/// sentence-transformers/all-MiniLM-L6-v2, running on OpenBLAS.
///
/// The forward pass matches sentence-transformers: word + position + token-type-0 embeddings →
/// LayerNorm → per layer [self-attention (all heads), output projection, residual, LayerNorm;
/// intermediate projection, exact erf GELU, output projection, residual, LayerNorm] → mean over
/// the sequence's tokens → L2 normalisation. Sequences are packed end to end without padding:
/// the linear layers run as one SGEMM over all tokens of a batch (tokens × h · h × out), and
/// attention runs per (sequence, head) over that sequence's own tokens, which is exactly what an
/// additive padding mask computes. Cost ≈ ``BertConfig/flops(sequenceLength:)`` per text
/// (≈ 21 MFLOP per token for MiniLM-L6).
///
/// Weights are loaded once (≈ 87 MB for MiniLM-L6) and shared read-only; an encoder is `Sendable`.
public struct MiniLMEncoder: Sendable {
    /// Output vector length (384 for MiniLM-L6).
    public var dimension: Int { config.hiddenSize }
    public let config: BertConfig
    public let tokenizer: WordPieceTokenizer
    /// Directory the model was loaded from.
    public let modelDirectory: URL
    private let weights: ModelWeights

    /// The model cache directory for all-MiniLM-L6-v2:
    /// `$STRATA_HOME/models/all-MiniLM-L6-v2`, or `~/.cache/strata/models/all-MiniLM-L6-v2` when
    /// `STRATA_HOME` is not set. `scripts/fetch-model.sh` installs the model there.
    public static func defaultModelDirectory(
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> URL {
        CacheHome.directory(environment: environment).appendingPathComponent("models/all-MiniLM-L6-v2", isDirectory: true)
    }

    /// Loads `config.json`, `vocab.txt`, `model.safetensors` (and `sentence_bert_config.json` for the
    /// maximum sequence length, 256 when absent) from `directory`. Takes about a second.
    ///
    /// - Throws: ``EmbedError``: `.modelNotFound` when the directory or a file is missing,
    ///   `.vocabularyMissing`, `.configInvalid`, or any safetensors error.
    public init(modelDirectory directory: URL = MiniLMEncoder.defaultModelDirectory()) throws {
        let fetchHint = "run scripts/fetch-model.sh to download all-MiniLM-L6-v2 (or set STRATA_HOME to where it is)"
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDir), isDir.boolValue else {
            throw EmbedError(.modelNotFound, path: directory.path, "Model directory not found; \(fetchHint).")
        }
        let configURL = directory.appendingPathComponent("config.json")
        guard let configData = try? Data(contentsOf: configURL) else {
            throw EmbedError(.modelNotFound, path: configURL.path, "config.json not found or unreadable; \(fetchHint).")
        }
        let config: BertConfig
        do { config = try JSONDecoder().decode(BertConfig.self, from: configData) } catch {
            throw EmbedError(.configInvalid, path: configURL.path,
                             "config.json is not a BERT configuration (\(error)); \(fetchHint).")
        }
        try Self.validate(config, path: configURL.path)

        var maxLength = 256
        let sbertURL = directory.appendingPathComponent("sentence_bert_config.json")
        if let data = try? Data(contentsOf: sbertURL) {
            struct SBert: Decodable { var max_seq_length: Int? }
            guard let s = try? JSONDecoder().decode(SBert.self, from: data) else {
                throw EmbedError(.configInvalid, path: sbertURL.path, "sentence_bert_config.json is malformed; \(fetchHint).")
            }
            maxLength = s.max_seq_length ?? maxLength
        }
        guard maxLength >= 2, maxLength <= config.maxPositionEmbeddings else {
            throw EmbedError(.configInvalid, path: sbertURL.path,
                             "max_seq_length \(maxLength) must be between 2 and max_position_embeddings \(config.maxPositionEmbeddings).")
        }

        let tokenizer = try WordPieceTokenizer(
            vocabularyURL: directory.appendingPathComponent("vocab.txt"), maxLength: maxLength)
        guard tokenizer.vocabularySize == config.vocabSize else {
            throw EmbedError(.vocabularyInvalid, path: directory.appendingPathComponent("vocab.txt").path,
                             "vocab.txt has \(tokenizer.vocabularySize) tokens but config.json says \(config.vocabSize); \(fetchHint).")
        }
        let tensors = try SafeTensors(contentsOf: directory.appendingPathComponent("model.safetensors"))
        self.weights = try ModelWeights(tensors, config: config)
        self.config = config
        self.tokenizer = tokenizer
        self.modelDirectory = directory
    }

    private static func validate(_ c: BertConfig, path: String) throws {
        func bad(_ why: String) -> EmbedError {
            EmbedError(.configInvalid, path: path, "Unsupported model configuration: \(why).")
        }
        guard c.hiddenSize > 0, c.numHiddenLayers > 0, c.numAttentionHeads > 0, c.intermediateSize > 0,
              c.vocabSize > 0, c.typeVocabSize > 0, c.maxPositionEmbeddings > 0 else {
            throw bad("sizes must be positive")
        }
        guard c.hiddenSize % c.numAttentionHeads == 0 else {
            throw bad("hidden_size \(c.hiddenSize) is not a multiple of num_attention_heads \(c.numAttentionHeads)")
        }
        guard c.hiddenAct == "gelu" else { throw bad("hidden_act '\(c.hiddenAct)' (only exact 'gelu' is implemented)") }
        guard c.positionEmbeddingType == nil || c.positionEmbeddingType == "absolute" else {
            throw bad("position_embedding_type '\(c.positionEmbeddingType ?? "")' (only 'absolute')")
        }
    }

    /// Token ids (`[CLS]` … `[SEP]`, truncated) for one text.
    public func tokenize(_ text: String) -> [Int32] { tokenizer.encode(text) }

    /// Embeds `texts` and returns their vectors row-major in input order: element
    /// `i * dimension + j` is component j of text i. Every row has unit L2 norm.
    ///
    /// Texts are processed in chunks of `options.chunkSize`; within a chunk they are sorted by
    /// token count and packed into batches of at most `options.maxBatchTokens` tokens, so memory
    /// beyond the returned n × dimension floats is bounded whatever the corpus size.
    ///
    /// - Parameter progress: called with (texts done, total) after each batch, from the worker threads
    ///   (possibly several at once, so two calls can arrive out of order; the last batch reports total).
    public func embed(
        _ texts: [String], options: EncodeOptions = EncodeOptions(),
        progress: (@Sendable (_ done: Int, _ total: Int) -> Void)? = nil
    ) -> [Float] {
        embedChunks(count: texts.count, options: options, progress: progress) { range, workers in
            tokenizeChunk(texts[range], workers: workers)
        }
    }

    /// Embeds token-id sequences (each normally `[CLS] … [SEP]`) exactly as ``embed(_:options:progress:)``
    /// embeds texts after tokenising them: same batching, workers and stop flag. Used to embed
    /// vocabulary entries one by one (`[CLS] token [SEP]`) when distilling a static table.
    ///
    /// - Precondition: every sequence is non-empty, no longer than ``BertConfig/maxPositionEmbeddings``,
    ///   and holds ids below ``BertConfig/vocabSize``.
    public func embed(
        sequences: [[Int32]], options: EncodeOptions = EncodeOptions(),
        progress: (@Sendable (_ done: Int, _ total: Int) -> Void)? = nil
    ) -> [Float] {
        for seq in sequences { checkSequence(seq) }
        return embedChunks(count: sequences.count, options: options, progress: progress) { range, _ in
            Array(sequences[range])
        }
    }

    private func checkSequence(_ seq: [Int32]) {
        precondition(!seq.isEmpty && seq.count <= config.maxPositionEmbeddings,
                     "sequence length \(seq.count) is outside 1…\(config.maxPositionEmbeddings)")
        precondition(seq.allSatisfy { $0 >= 0 && Int($0) < config.vocabSize },
                     "token id outside the vocabulary (0..<\(config.vocabSize))")
    }

    /// The shared body of both `embed` entry points: `idsFor(range, workers)` gives the token ids of
    /// one chunk of inputs.
    private func embedChunks(
        count total: Int, options: EncodeOptions, progress: (@Sendable (_ done: Int, _ total: Int) -> Void)?,
        ids idsFor: (Range<Int>, Int) -> [[Int32]]
    ) -> [Float] {
        let d = dimension
        guard total > 0 else { return [] }
        let chunkSize = max(1, options.chunkSize)
        let workerCount: Int
        switch options.parallelism {
        case .blasThreads: workerCount = 1
        case .workers(let n): workerCount = max(1, n)
        }
        let savedThreads = BLASThreads.current
        if case .workers = options.parallelism { BLASThreads.set(1) }
        defer { if case .workers = options.parallelism { BLASThreads.set(savedThreads) } }

        let maxTokens = max(options.maxBatchTokens, tokenizer.maxLength)
        let done = Mutex(0)
        return [Float](unsafeUninitializedCapacity: total * d) { out, initialized in
            let output = SendableBuffer(out)
            var chunkStart = 0
            while chunkStart < total {
                if options.stop?.isStopped == true {
                    (out.baseAddress! + chunkStart * d).initialize(repeating: 0, count: (total - chunkStart) * d)
                    break
                }
                let chunkEnd = min(total, chunkStart + chunkSize)
                let ids = idsFor(chunkStart ..< chunkEnd, workerCount)
                let batches = Self.packBatches(lengths: ids.map(\.count), maxTokens: maxTokens)
                let next = Atomic<Int>(0)
                let base = chunkStart
                DispatchQueue.concurrentPerform(iterations: min(workerCount, batches.count)) { _ in
                    var scratch = Scratch()
                    scratch.reserve(tokens: maxTokens, maxLength: tokenizer.maxLength, config: config)
                    while true {
                        let (b, _) = next.add(1, ordering: .relaxed)
                        guard b < batches.count else { break }
                        let batch = batches[b]
                        if options.stop?.isStopped == true {
                            for i in batch { for j in 0 ..< d { output[(base + i) * d + j] = 0 } }
                            continue
                        }
                        let seqs = batch.map { ids[$0] }
                        forward(seqs, scratch: &scratch, normalize: options.normalize) { i, vector in
                            let row = base + batch[i]
                            for j in 0 ..< d { output[row * d + j] = vector[j] }
                        }
                        if let progress {
                            // Counted under the lock, reported outside it: a slow callback never holds up
                            // the other workers.
                            let n = done.withLock { n in n += batch.count; return n }
                            progress(n, total)
                        }
                    }
                }
                chunkStart = chunkEnd
            }
            initialized = total * d
        }
    }

    /// Embeds pre-tokenised sequences (each normally `[CLS] … [SEP]` from ``tokenize(_:)``) on the
    /// calling thread, in batches of at most 4,096 tokens. Returns n × ``dimension`` floats, row-major.
    ///
    /// - Precondition: every sequence is non-empty, no longer than
    ///   ``BertConfig/maxPositionEmbeddings``, and holds ids below ``BertConfig/vocabSize``.
    public func embed(tokenized sequences: [[Int32]]) -> [Float] {
        let d = dimension
        for seq in sequences { checkSequence(seq) }
        var result = [Float](repeating: 0, count: sequences.count * d)
        var scratch = Scratch()
        for batch in Self.packBatches(lengths: sequences.map(\.count), maxTokens: 4096) {
            forward(batch.map { sequences[$0] }, scratch: &scratch) { i, vector in
                let row = batch[i]
                for j in 0 ..< d { result[row * d + j] = vector[j] }
            }
        }
        return result
    }

    private func tokenizeChunk(_ texts: ArraySlice<String>, workers: Int) -> [[Int32]] {
        let n = texts.count
        let parts = min(workers, max(1, n / 64))
        guard parts > 1 else { return texts.map(tokenizer.encode) }
        var result = [[Int32]](repeating: [], count: n)
        result.withUnsafeMutableBufferPointer { buf in
            let out = SendableBuffer(buf)
            let start = texts.startIndex
            DispatchQueue.concurrentPerform(iterations: parts) { p in
                for i in (n * p / parts) ..< (n * (p + 1) / parts) {
                    out[i] = tokenizer.encode(texts[start + i])
                }
            }
        }
        return result
    }

    /// Groups sequence indices into batches of at most `maxTokens` tokens, longest first, so that
    /// batches hold sequences of similar length.
    static func packBatches(lengths: [Int], maxTokens: Int) -> [[Int]] {
        let order = lengths.indices.sorted { lengths[$0] > lengths[$1] }
        var batches: [[Int]] = []
        var current: [Int] = []
        var tokens = 0
        for i in order {
            if !current.isEmpty, tokens + lengths[i] > maxTokens {
                batches.append(current)
                current = []
                tokens = 0
            }
            current.append(i)
            tokens += lengths[i]
        }
        if !current.isEmpty { batches.append(current) }
        return batches
    }

    // MARK: - Forward pass

    /// Per-worker activations, grown on demand: x, h1, ctx (T×h), qkv (T×3h), inter (T×i),
    /// scores (L×L), rowSums (L).
    struct Scratch {
        var x: [Float] = [], h1: [Float] = [], ctx: [Float] = [], qkv: [Float] = []
        var inter: [Float] = [], scores: [Float] = [], rowSums: [Float] = []

        mutating func reserve(tokens t: Int, maxLength l: Int, config c: BertConfig) {
            func grow(_ a: inout [Float], _ n: Int) { if a.count < n { a = [Float](repeating: 0, count: n) } }
            grow(&x, t * c.hiddenSize); grow(&h1, t * c.hiddenSize); grow(&ctx, t * c.hiddenSize)
            grow(&qkv, t * 3 * c.hiddenSize); grow(&inter, t * c.intermediateSize); grow(&scores, l * l)
            grow(&rowSums, l)
        }
    }

    /// Raw pointers into a ``Scratch`` for one forward pass (valid only inside ``forward``).
    struct Activations {
        var x, h1, ctx, qkv, inter, scores, rowSums: UnsafeMutablePointer<Float>
    }

    /// Runs the encoder over sequences packed end to end and hands each pooled (by default
    /// normalised) vector to `emit(sequenceIndex, vector)`.
    func forward(_ seqs: [[Int32]], scratch s: inout Scratch, normalize: Bool = true,
                 emit: (Int, UnsafeBufferPointer<Float>) -> Void) {
        let t = seqs.reduce(0) { $0 + $1.count }
        let maxLen = seqs.reduce(0) { max($0, $1.count) }
        guard t > 0 else { return }
        s.reserve(tokens: t, maxLength: maxLen, config: config)
        var starts: [Int] = []
        starts.reserveCapacity(seqs.count)
        var acc = 0
        for q in seqs { starts.append(acc); acc += q.count }

        s.x.withUnsafeMutableBufferPointer { xb in
        s.h1.withUnsafeMutableBufferPointer { h1b in
        s.ctx.withUnsafeMutableBufferPointer { ctxb in
        s.qkv.withUnsafeMutableBufferPointer { qkvb in
        s.inter.withUnsafeMutableBufferPointer { ib in
        s.scores.withUnsafeMutableBufferPointer { sb in
        s.rowSums.withUnsafeMutableBufferPointer { rsb in
            // Pointers are non-nil: every buffer was grown to a positive size above.
            let a = Activations(x: xb.baseAddress!, h1: h1b.baseAddress!, ctx: ctxb.baseAddress!, qkv: qkvb.baseAddress!,
                                inter: ib.baseAddress!, scores: sb.baseAddress!, rowSums: rsb.baseAddress!)
            embedTokens(seqs, starts: starts, into: a.x)
            layerNorm(a.x, rows: t, width: config.hiddenSize, gamma: weights.embLNGamma, beta: weights.embLNBeta, eps: config.layerNormEps)
            for layer in weights.layers { encoderLayer(layer, seqs: seqs, starts: starts, tokens: t, a) }
            pool(seqs, starts: starts, a, normalize: normalize, emit: emit)
        }}}}}}}
    }

    /// Word + position + token-type embeddings of every token, packed into x (T × h).
    func embedTokens(_ seqs: [[Int32]], starts: [Int], into x: UnsafeMutablePointer<Float>) {
        let h = config.hiddenSize
        weights.word.withUnsafeBufferPointer { word in
        weights.position.withUnsafeBufferPointer { pos in
        weights.tokenType0.withUnsafeBufferPointer { tt in
            for (q, seq) in seqs.enumerated() {
                for (p, id) in seq.enumerated() {
                    let row = x + (starts[q] + p) * h
                    let wr = Int(id) * h, pr = p * h
                    for j in 0 ..< h { row[j] = word[wr + j] + pos[pr + j] + tt[j] }
                }
            }
        }}}
    }

    /// One transformer layer over all T tokens, x in place: attention, then the feed-forward block.
    fileprivate func encoderLayer(_ layer: ModelWeights.Layer, seqs: [[Int32]], starts: [Int], tokens t: Int, _ a: Activations) {
        let h = config.hiddenSize, h3 = 3 * h, inner = config.intermediateSize, eps = config.layerNormEps
        // Q, K, V for all tokens: qkv[T×3h] = x · Wqkvᵀ + b.
        broadcastRows(layer.qkvBias, into: a.qkv, rows: t)
        layer.qkvWeight.withUnsafeBufferPointer { wq in
            sgemm(transB: true, m: t, n: h3, k: h, a: a.x, lda: h, b: wq.baseAddress!, ldb: h, beta: 1, c: a.qkv, ldc: h3)
        }
        for (q, seq) in seqs.enumerated() { attention(sequenceLength: seq.count, start: starts[q], a) }
        // h1 = LayerNorm(x + ctx · Woᵀ + bo).
        addRows(a.x, bias: layer.attnOutBias, into: a.h1, rows: t)
        layer.attnOutWeight.withUnsafeBufferPointer { wo in
            sgemm(transB: true, m: t, n: h, k: h, a: a.ctx, lda: h, b: wo.baseAddress!, ldb: h, beta: 1, c: a.h1, ldc: h)
        }
        layerNorm(a.h1, rows: t, width: h, gamma: layer.ln1Gamma, beta: layer.ln1Beta, eps: eps)
        // inter = GELU(h1 · Wiᵀ + bi).
        layer.interWeight.withUnsafeBufferPointer { wi in
            sgemm(transB: true, m: t, n: inner, k: h, a: a.h1, lda: h, b: wi.baseAddress!, ldb: h, beta: 0, c: a.inter, ldc: inner)
        }
        biasGELU(a.inter, bias: layer.interBias, rows: t)
        // x = LayerNorm(h1 + inter · Wo2ᵀ + bo2).
        addRows(a.h1, bias: layer.outBias, into: a.x, rows: t)
        layer.outWeight.withUnsafeBufferPointer { wo2 in
            sgemm(transB: true, m: t, n: h, k: inner, a: a.inter, lda: inner, b: wo2.baseAddress!,
                  ldb: inner, beta: 1, c: a.x, ldc: h)
        }
        layerNorm(a.x, rows: t, width: h, gamma: layer.ln2Gamma, beta: layer.ln2Beta, eps: eps)
    }

    /// Self-attention of one sequence (rows start…start+l of qkv), every head, into ctx.
    func attention(sequenceLength l: Int, start r0: Int, _ a: Activations) {
        let h = config.hiddenSize, h3 = 3 * h, dh = config.headSize
        let scale = 1 / Float(dh).squareRoot()
        for head in 0 ..< config.numAttentionHeads {
            let qp = a.qkv + r0 * h3 + head * dh
            sgemm(transB: true, m: l, n: l, k: dh, alpha: scale, a: qp, lda: h3, b: qp + h, ldb: h3, beta: 0, c: a.scores, ldc: l)
            // Unnormalised softmax; each row of the l × dh result is then divided by
            // its row sum (fewer multiplies than normalising the l × l scores).
            expRows(a.scores, rows: l, width: l, rowSums: a.rowSums)
            let out = a.ctx + r0 * h + head * dh
            sgemm(m: l, n: dh, k: l, a: a.scores, lda: l, b: qp + 2 * h, ldb: h3, beta: 0, c: out, ldc: h)
            for i in 0 ..< l {
                let inv = 1 / a.rowSums[i]
                let row = out + i * h
                for j in 0 ..< dh { row[j] *= inv }
            }
        }
    }

    /// Mean pooling over each sequence's tokens, then (when `normalize`) L2 normalisation (into h1's
    /// first row), emitted.
    func pool(_ seqs: [[Int32]], starts: [Int], _ a: Activations, normalize: Bool = true, emit: (Int, UnsafeBufferPointer<Float>) -> Void) {
        let h = config.hiddenSize
        for (q, seq) in seqs.enumerated() {
            let v = a.h1
            for j in 0 ..< h { v[j] = 0 }
            for p in 0 ..< seq.count {
                let row = a.x + (starts[q] + p) * h
                for j in 0 ..< h { v[j] += row[j] }
            }
            let inv = 1 / Float(seq.count)
            var norm: Float = 0
            for j in 0 ..< h { v[j] *= inv; norm += v[j] * v[j] }
            let scaleNorm = normalize ? 1 / max(norm.squareRoot(), 1e-12) : 1
            for j in 0 ..< h { v[j] *= scaleNorm }
            emit(q, UnsafeBufferPointer(start: v, count: h))
        }
    }
}

// MARK: - Kernels (row-major, contiguous)

/// Sets every row of `dst[rows×bias.count]` to `bias`.
@inline(__always)
private func broadcastRows(_ bias: [Float], into dst: UnsafeMutablePointer<Float>, rows: Int) {
    bias.withUnsafeBufferPointer { b in
        let n = b.count
        for r in 0 ..< rows {
            (dst + r * n).update(from: b.baseAddress!, count: n)
        }
    }
}

/// `dst[r, j] = src[r, j] + bias[j]` (residual plus bias, before a GEMM accumulates into `dst`).
@inline(__always)
private func addRows(_ src: UnsafeMutablePointer<Float>, bias: [Float], into dst: UnsafeMutablePointer<Float>, rows: Int) {
    bias.withUnsafeBufferPointer { b in
        let n = b.count
        for r in 0 ..< rows {
            let s = src + r * n, d = dst + r * n
            for j in 0 ..< n { d[j] = s[j] + b[j] }
        }
    }
}

/// In-place LayerNorm over each row: (x − mean) / √(var + eps) · γ + β, with the biased variance
/// (as PyTorch). Two passes per row, O(rows · n).
private func layerNorm(_ x: UnsafeMutablePointer<Float>, rows: Int, width n: Int,
                       gamma: [Float], beta: [Float], eps: Float) {
    gamma.withUnsafeBufferPointer { g in
    beta.withUnsafeBufferPointer { b in
        let invN = 1 / Float(n)
        for r in 0 ..< rows {
            let row = x + r * n
            let mean = Kernels.sum(row, n) * invN
            let inv = 1 / (Kernels.sumSquaredDeviations(row, n, from: mean) * invN + eps).squareRoot()
            for j in 0 ..< n { row[j] = (row[j] - mean) * inv * g[j] + b[j] }
        }
    }}
}

/// The numerator of a numerically stable softmax, in place: x[r, j] = exp(x[r, j] − max_j x[r, j]);
/// `rowSums[r]` receives Σ_j of the new row (≥ 1, since the maximum maps to exp(0) = 1).
private func expRows(_ x: UnsafeMutablePointer<Float>, rows: Int, width n: Int,
                     rowSums: UnsafeMutablePointer<Float>) {
    for r in 0 ..< rows {
        let row = x + r * n
        let m = Kernels.maximum(row, n)
        for j in 0 ..< n { row[j] = Kernels.expNonPositive(row[j] - m) }
        rowSums[r] = Kernels.sum(row, n)
    }
}

/// In place, for each row: v = x + bias, x = GELU(v) = v · ½(1 + erf(v/√2)), with ``Kernels/erf(_:)``.
private func biasGELU(_ x: UnsafeMutablePointer<Float>, bias: [Float], rows: Int) {
    let invSqrt2: Float = 0.70710678118654752
    bias.withUnsafeBufferPointer { b in
        let n = b.count
        for r in 0 ..< rows {
            let row = x + r * n
            for j in 0 ..< n {
                let v = row[j] + b[j]
                row[j] = 0.5 * v * (1 + Kernels.erf(v * invSqrt2))
            }
        }
    }
}

/// Element functions written without libm calls or traps so that loops over them vectorise.
enum Kernels {
    /// erf(x) to within 4e-7 absolute: erf(c) ≈ c·P(c²)/Q(c²), c = clamp(x, −4, 4), a (6, 5)
    /// rational approximation (its own error on [0, 4] is 1.5e-9; erf(4) = 1 − 1.5e-8) evaluated in
    /// Float, four lanes at a time. The resulting GELU is within 1.2e-6 of the exact one on
    /// [−8, 8], as PyTorch's float32 GELU is (1.2e-6, measured with torch 2.15); glibc's scalar
    /// `erff` is more accurate (5.5e-8) but six times slower here, and was 13 % of encoder time.
    @inline(__always)
    static func erf(_ x: Float) -> Float {
        let c = min(max(x, -4), 4)
        let t = c * c
        var p: Float = -1.3666190845640358e-08
        p = p * t + 4.780412382388022e-06
        p = p * t + 0.0003826887405011803
        p = p * t + 0.0038395642768591642
        p = p * t + 0.05433264374732971
        p = p * t + 0.1847115159034729
        p = p * t + 1.128379225730896
        var q: Float = 6.400809797924012e-05
        q = q * t + 0.0013095817994326353
        q = q * t + 0.015453571453690529
        q = q * t + 0.1138266921043396
        q = q * t + 0.4970298707485199
        q = q * t + 1
        return min(max(c * p / q, -1), 1)
    }

    /// exp(x) for x ≤ 0 within about 2 float ulps (inputs below −87.3 give ≈ 1.2e-38, not 0).
    /// Cody–Waite reduction x = n·ln2 + r, |r| ≤ ln2/2, degree-7 Taylor polynomial, 2ⁿ from bits.
    @inline(__always)
    static func expNonPositive(_ x: Float) -> Float {
        let xc = min(max(x, -87.33654), 0)
        let shifter: Float = 12_582_912           // 1.5 · 2²³: adding it rounds to an integer
        let s = xc * 1.442695041 + shifter
        let n = s - shifter
        let r = (xc - n * 0.693145752) - n * 1.428606820e-06
        var p: Float = 1.0 / 5040
        p = p * r + 1.0 / 720
        p = p * r + 1.0 / 120
        p = p * r + 1.0 / 24
        p = p * r + 1.0 / 6
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
        // The integer n sits in the low mantissa bits of s.
        let k = Int32(bitPattern: s.bitPattern &- shifter.bitPattern)
        let scale = Float(bitPattern: UInt32(bitPattern: (k &+ 127) &<< 23))
        return p * scale
    }

    /// Σ x[i] with eight partial sums (O(n), vectorisable).
    @inline(__always)
    static func sum(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD8<Float>()
        var i = 0
        while i + 8 <= n {
            acc += UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            i += 8
        }
        var total = acc.sum()
        while i < n { total += x[i]; i += 1 }
        return total
    }

    /// Σ (x[i] − mean)² with eight partial sums.
    @inline(__always)
    static func sumSquaredDeviations(_ x: UnsafePointer<Float>, _ n: Int, from mean: Float) -> Float {
        var acc = SIMD8<Float>()
        let m = SIMD8<Float>(repeating: mean)
        var i = 0
        while i + 8 <= n {
            let d = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self) - m
            acc += d * d
            i += 8
        }
        var total = acc.sum()
        while i < n { let d = x[i] - mean; total += d * d; i += 1 }
        return total
    }

    /// max x[i] (−∞ for n = 0).
    @inline(__always)
    static func maximum(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD8<Float>(repeating: -.infinity)
        var i = 0
        while i + 8 <= n {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            acc.replace(with: v, where: v .> acc)
            i += 8
        }
        var m = acc.max()
        while i < n { m = max(m, x[i]); i += 1 }
        return m
    }
}

// MARK: - Weights

/// All encoder weights as contiguous Float arrays (linear weights stored [out × in], as in the file).
private struct ModelWeights: Sendable {
    struct Layer: Sendable {
        var qkvWeight: [Float]   // [3h × h]: query, key, value rows stacked
        var qkvBias: [Float]     // [3h]
        var attnOutWeight: [Float], attnOutBias: [Float]
        var ln1Gamma: [Float], ln1Beta: [Float]
        var interWeight: [Float], interBias: [Float]
        var outWeight: [Float], outBias: [Float]
        var ln2Gamma: [Float], ln2Beta: [Float]
    }
    var word: [Float]        // [vocab × h]
    var position: [Float]    // [maxPositions × h]
    var tokenType0: [Float]  // [h], row 0 of the token-type table
    var embLNGamma: [Float], embLNBeta: [Float]
    var layers: [Layer]

    init(_ st: SafeTensors, config c: BertConfig) throws {
        // Checkpoints saved from BertModel have bare names; ones from BertFor… carry "bert.".
        let prefix = st.tensors["embeddings.word_embeddings.weight"] == nil
            && st.tensors["bert.embeddings.word_embeddings.weight"] != nil ? "bert." : ""
        func t(_ name: String, _ shape: Int...) throws -> [Float] {
            try st.floats(prefix + name, shape: shape)
        }
        let h = c.hiddenSize, inner = c.intermediateSize
        word = try t("embeddings.word_embeddings.weight", c.vocabSize, h)
        position = try t("embeddings.position_embeddings.weight", c.maxPositionEmbeddings, h)
        tokenType0 = Array(try t("embeddings.token_type_embeddings.weight", c.typeVocabSize, h)[0 ..< h])
        embLNGamma = try t("embeddings.LayerNorm.weight", h)
        embLNBeta = try t("embeddings.LayerNorm.bias", h)
        layers = try (0 ..< c.numHiddenLayers).map { i in
            let p = "encoder.layer.\(i)."
            return Layer(
                qkvWeight: try t(p + "attention.self.query.weight", h, h)
                    + t(p + "attention.self.key.weight", h, h) + t(p + "attention.self.value.weight", h, h),
                qkvBias: try t(p + "attention.self.query.bias", h)
                    + t(p + "attention.self.key.bias", h) + t(p + "attention.self.value.bias", h),
                attnOutWeight: try t(p + "attention.output.dense.weight", h, h),
                attnOutBias: try t(p + "attention.output.dense.bias", h),
                ln1Gamma: try t(p + "attention.output.LayerNorm.weight", h),
                ln1Beta: try t(p + "attention.output.LayerNorm.bias", h),
                interWeight: try t(p + "intermediate.dense.weight", inner, h),
                interBias: try t(p + "intermediate.dense.bias", inner),
                outWeight: try t(p + "output.dense.weight", h, inner),
                outBias: try t(p + "output.dense.bias", h),
                ln2Gamma: try t(p + "output.LayerNorm.weight", h),
                ln2Beta: try t(p + "output.LayerNorm.bias", h))
        }
    }
}

/// A buffer shared by concurrent workers that write disjoint elements.
struct SendableBuffer<Element>: @unchecked Sendable {
    let base: UnsafeMutableBufferPointer<Element>
    init(_ base: UnsafeMutableBufferPointer<Element>) { self.base = base }
    subscript(i: Int) -> Element {
        get { base[i] }
        nonmutating set { base[i] = newValue }
    }
}
