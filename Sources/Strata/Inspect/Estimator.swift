import Foundation
import StrataEmbed
import StrataLabel
import StrataStore

/// What a run would spend, computed before anything is spent.
public struct Estimate: Sendable {
    public var documents: Int
    public var toEmbed: Int
    public var cached: Int
    /// MiniLM WordPiece tokens of the texts to embed (exact for MiniLM; an approximation for other
    /// models' tokenizers, typically within ±15% for English).
    public var embeddingTokens: Int
    public var embeddingCost: Double?
    public var kAssumed: Int
    public var llmCalls: Int
    /// Prompt tokens, counted with the MiniLM WordPiece tokenizer on prompts built like the run's
    /// (an approximation of the LLM's own tokenizer).
    public var llmInputTokens: Int
    /// Output tokens: the calibrated mean per call × calls, or the reply cap per call without history.
    public var llmOutputTokens: Int
    /// Input tokens of each prompt's first request (no retries), in the LLM's own tokens when a
    /// previous run calibrated the tokenizer ratio. Compare with `run.labeler.first_attempt_prompt_tokens`.
    public var llmFirstAttemptInputTokens: Int = 0
    /// Prompts the run would send (cache misses), and whether they were built exactly as the run will.
    public var llmPrompts: Int = 0
    public var exactPrompts = false
    /// How the figures were calibrated (from which runs' usage), or why they were not.
    public var calibration = "none"
    public var llmCost: Double?
    public var notes: [String]

    public var totalCost: Double? {
        switch (embeddingCost, llmCost) {
        case let (e?, l?): return e + l
        case let (e?, nil): return e
        case let (nil, l?): return l
        default: return nil
        }
    }

    public func render() -> String {
        func usd(_ x: Double?) -> String { x.map { String(format: "$%.4f", $0) } ?? "unknown (model not in the price table; pass --prices FILE)" }
        var s = """
            documents          \(documents)
            to embed           \(toEmbed) new or changed, \(cached) cached
            embedding tokens   \(embeddingTokens)
            embedding cost     \(usd(embeddingCost))
            topics assumed     \(kAssumed)
            LLM prompts        \(llmPrompts) (\(exactPrompts ? "built exactly as the run will" : "approximated"))
            LLM calls          \(llmCalls) (retries included)
            LLM input tokens   \(llmInputTokens) (first attempts: \(llmFirstAttemptInputTokens))
            LLM output tokens  \(llmOutputTokens)
            calibration        \(calibration)
            LLM cost           \(usd(llmCost))
            total              \(usd(totalCost))
            """
        for n in notes { s += "\nnote: \(n)" }
        return s
    }
}

public enum Estimator {
    /// Reads the source and the state and predicts tokens and cost. Spends nothing.
    ///
    /// With `quick` false and embeddings that cost nothing (MiniLM, `field:`, or all cached), the run's
    /// deterministic stages are replayed (embedding fills the cache, which the run then reuses) and the
    /// labeler only records its prompts: prompt counts and sizes are then exact. Token figures are
    /// calibrated by this model's recent runs in the state (tokenizer ratio, retries, reply length).
    public static func estimate(_ options: RunOptions, quick: Bool = false, storeEmbeddings: Bool = false,
                                reporter: RunReporter = SilentReporter()) async throws -> Estimate {
        var options = options
        let docs = try await DocumentStore.read(options.source, options: options.read).documents
        let state = try StateDatabase(directory: options.stateDirectory)
        // A corpus fit costs MiniLM on a sample (local, free) and is what every later figure depends on.
        options.embedder = try await FittedEmbedding.resolve(options, documents: docs, state: state, reporter: reporter, store: storeEmbeddings)
        let tokenizer = try WordPieceTokenizer(vocabularyURL: MiniLMEncoder.defaultModelDirectory().appendingPathComponent("vocab.txt"))
        let prices = try PriceTable.load(overrides: options.pricesFile)
        let embedding = try embeddingNeeds(options, documents: docs, state: state, tokenizer: tokenizer, prices: prices)
        var e = Estimate(documents: docs.count, toEmbed: embedding.toEmbed, cached: docs.count - embedding.toEmbed,
                         embeddingTokens: embedding.tokens, embeddingCost: embedding.cost, kAssumed: 0, llmCalls: 0,
                         llmInputTokens: 0, llmOutputTokens: 0, llmCost: 0, notes: [])
        e.kAssumed = ClusteringPolicy.candidates(options.k, documents: docs).upperBound
        if options.k == .auto { e.notes.append("k = auto: assumed the largest candidate (\(e.kAssumed)) as an upper bound") }
        guard case .openai(let model) = options.labeler else { return e }
        // The prompts themselves: exact when the embeddings cost nothing (MiniLM, field:, or all
        // cached) — then the run's deterministic fit is replayed with the labeler in dry-run mode.
        let free: Bool = { if case .openai = options.embedder { return embedding.toEmbed == 0 }; return true }()
        let prompts = free && !quick
            ? try await exactPrompts(options, model: model, documents: docs, state: state, storeEmbeddings: storeEmbeddings, reporter: reporter)
            : try approximatePrompts(options, documents: docs, k: e.kAssumed, state: state, tokenizer: tokenizer,
                                     toEmbed: embedding.toEmbed, quick: quick)
        e.llmPrompts = prompts.count
        e.exactPrompts = prompts.exact
        e.notes += prompts.notes
        try calibrate(&e, prompts: prompts, model: model, state: state, options: options)
        e.llmCost = prices.cost(model: model, input: e.llmInputTokens, output: e.llmOutputTokens)
        if e.llmCost == nil && options.llmBaseURL.host.map({ ["127.0.0.1", "localhost", "::1"].contains($0) }) == true {
            e.llmCost = 0
            e.notes.append("\(model) on a local server: priced at $0")
        }
        return e
    }

    /// Documents to embed (distinct uncached texts), their MiniLM WordPiece tokens and what embedding
    /// them costs (0 for local embedders, nil for a model missing from the price table).
    static func embeddingNeeds(_ options: RunOptions, documents docs: [Document], state: StateDatabase,
                               tokenizer: WordPieceTokenizer, prices: PriceTable) throws -> (toEmbed: Int, tokens: Int, cost: Double?) {
        if case .field = options.embedder { return (0, 0, 0) }
        let fingerprint = try EmbeddingStage.fingerprint(options.embedder, baseURL: options.embeddingBaseURL)
        let hashes = docs.map(\.contentHash)
        let cached = try state.cachedHashes(model: fingerprint, hashes: hashes)
        var toEmbed = 0, tokens = 0
        var seen = Set<String>()
        for (d, h) in zip(docs, hashes) where !cached.contains(h) && seen.insert(h).inserted {
            toEmbed += 1
            tokens += tokenizer.encode(d.text).count
        }
        var cost: Double? = 0
        if case .openai(let m) = options.embedder { cost = prices.cost(model: m, input: tokens, output: 0) }
        return (toEmbed, tokens, cost)
    }

    /// The prompts a run would send and their tokens: counted by the server's tokenizer when it has one
    /// (`serverTokens`), else with MiniLM's WordPiece (`localTokens`).
    struct Prompts {
        var count = 0
        var localTokens = 0
        var serverTokens: Int?
        var exact = false
        var notes: [String] = []
    }

    /// Replays the run's plan and fit with the labeler recording prompts instead of sending them.
    static func exactPrompts(_ options: RunOptions, model: String, documents docs: [Document], state: StateDatabase,
                             storeEmbeddings: Bool, reporter: RunReporter) async throws -> Prompts {
        let sink = PromptSink(storeEmbeddings: storeEmbeddings)
        var dry = options
        dry.dryRun = sink
        let previous = try PreviousRun.load(state)
        let diff = CorpusDiff(documents: docs, recorded: previous?.recorded ?? [:])
        _ = try await Pipeline.decide(dry, runID: "estimate", documents: docs, previous: previous, diff: diff, state: state,
                                      reporter: reporter, laps: Pipeline.Laps())
        var p = Prompts(count: sink.prompts.count, exact: true)
        if let server = await ServerTokenizer.probe(baseURL: options.llmBaseURL, model: model) {
            p.serverTokens = try await countWithServer(sink.prompts, server)
            p.notes.append("prompt tokens counted by the LLM server's own tokenizer (\(server.dialect.rawValue))")
        } else {
            p.localTokens = sink.prompts.reduce(0) { $0 + PromptTokens.count($1) }
        }
        p.notes.append("parent prompts use keyword labels in place of the LLM's topic labels (unknown before the run)")
        return p
    }

    /// Prompts as the run builds them, sized from representative-length excerpts of a sample of the
    /// documents, for `k` topics and about √k parents.
    static func approximatePrompts(_ options: RunOptions, documents docs: [Document], k: Int, state: StateDatabase,
                                   tokenizer: WordPieceTokenizer, toEmbed: Int, quick: Bool) throws -> Prompts {
        let sample = stride(from: 0, to: docs.count, by: max(1, docs.count / 500)).map { docs[$0].text }
        let excerpt = sample.map { tokenizer.encode(Describe.truncate($0, words: Describe.representativeWords)).count - 2 }
        let perRep = excerpt.isEmpty ? 0 : excerpt.reduce(0, +) / excerpt.count
        let frame = PromptTokens.count(LabelPrompt.messages(TopicSketch(index: 0, keywords: [], representatives: [], contrast: [], size: 0)))
        let perTopic = frame + 25 + 5 * (perRep + 3) + 3 * 12
        let parents = k >= 6 ? Int(Double(k).squareRoot().rounded()) : 0
        let perParent = PromptTokens.count(LabelPrompt.parent(childLabels: [])) + (k / max(1, parents)) * 8
        var p = Prompts()
        if try state.runCount() > 0 && toEmbed == 0 {
            p.notes.append("every document is cached and a previous run exists: an unchanged corpus reuses cached labels (0 calls)")
        } else {
            p.count = k + parents
            p.localTokens = k * perTopic + parents * perParent
        }
        p.notes.append(quick ? "--quick: prompt sizes approximated from a sample of documents"
                             : "the embedder is paid and documents are uncached: prompt sizes approximated from a sample of documents")
        return p
    }

    /// Token and call figures from the prompts, calibrated by this model's recent runs when the state
    /// has any (server tokens per WordPiece token, requests per prompt, tokens resent by retries, reply
    /// tokens per request); without history one request per prompt and the reply cap per request.
    static func calibrate(_ e: inout Estimate, prompts p: Prompts, model: String, state: StateDatabase, options: RunOptions) throws {
        if let u = try state.llmUsage(model: model), u.localTokens > 0, u.prompts > 0, u.calls > 0, u.firstPromptTokens > 0 {
            // Server-counted prompts need no tokenizer ratio.
            let ratio = p.serverTokens.map { _ in 1.0 } ?? Double(u.firstPromptTokens) / Double(u.localTokens)
            let tokens = p.serverTokens ?? p.localTokens
            let resend = Double(u.promptTokens) / Double(u.firstPromptTokens)
            e.llmFirstAttemptInputTokens = Int((Double(tokens) * ratio).rounded())
            e.llmInputTokens = Int((Double(e.llmFirstAttemptInputTokens) * resend).rounded())
            e.llmCalls = Int((Double(p.count) * Double(u.calls) / Double(u.prompts)).rounded())
            e.llmOutputTokens = Int((Double(e.llmCalls) * Double(u.completionTokens) / Double(u.calls)).rounded())
            e.calibration = "from \(u.prompts) prompts of earlier runs: " + String(format: "%.3f", ratio) + " \(model) tokens per WordPiece token, "
                + String(format: "%.2f requests per prompt, %.1f reply tokens per request", Double(u.calls) / Double(u.prompts),
                         Double(u.completionTokens) / Double(u.calls))
        } else {
            let cap = Labeling.mode(options, model: model) == .completion ? LLMLabeler.completionMaxTokens : LLMLabeler.defaultMaxTokens
            e.llmFirstAttemptInputTokens = p.serverTokens ?? p.localTokens
            e.llmInputTokens = e.llmFirstAttemptInputTokens
            e.llmCalls = p.count
            e.llmOutputTokens = e.llmCalls * cap
            e.calibration = "none yet (no earlier run with \(model)): \(p.serverTokens == nil ? "WordPiece" : "server-counted") tokens, "
                + "one request per prompt, the reply cap (\(cap)) per request"
        }
    }

    /// Prompt tokens of `prompts` as the server counts them: a completion prompt's text, or the sum
    /// of a chat prompt's message contents (the chat template's few tokens per message are not seen).
    static func countWithServer(_ prompts: [[ChatMessage]], _ server: ServerTokenizer) async throws -> Int {
        var total = 0
        for p in prompts {
            for m in p { total += try await server.count(m.content) }
        }
        return total
    }
}
