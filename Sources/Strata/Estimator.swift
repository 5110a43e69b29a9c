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
    /// Output tokens assumed per call (the reply cap).
    public var llmOutputTokens: Int
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
            LLM calls          \(llmCalls)
            LLM input tokens   \(llmInputTokens)
            LLM output tokens  \(llmOutputTokens) (at most)
            LLM cost           \(usd(llmCost))
            total              \(usd(totalCost))
            """
        for n in notes { s += "\nnote: \(n)" }
        return s
    }
}

public enum Estimator {
    /// Reads the source and the state and predicts tokens and cost. Spends nothing.
    public static func estimate(_ options: RunOptions) async throws -> Estimate {
        let read = try SourceReader.read(options.source, options: options.read)
        let docs = read.documents
        let state = try StateDatabase(directory: options.stateDirectory)
        let tokenizer = try WordPieceTokenizer(vocabularyURL: MiniLMEncoder.defaultModelDirectory().appendingPathComponent("vocab.txt"))
        let prices = try PriceTable.load(overrides: options.pricesFile)
        var notes: [String] = []

        let fingerprint: String
        switch options.embedder {
        case .minilm: fingerprint = MiniLMEmbedder.fingerprintString
        case .openai(let m): fingerprint = OpenAIEmbedder.fingerprint(baseURL: options.embeddingBaseURL, model: m)
        case .field(let f): fingerprint = "field:\(f)"
        }
        let hashes = docs.map(\.contentHash)
        var cached: [String: [Float]] = [:]
        if case .field = options.embedder {} else { cached = try state.cachedEmbeddings(model: fingerprint, hashes: hashes) }
        var toEmbed = 0, tokens = 0
        var seen = Set<String>()
        if case .field = options.embedder {} else {
            for (d, h) in zip(docs, hashes) where cached[h] == nil && seen.insert(h).inserted {
                toEmbed += 1
                tokens += tokenizer.encode(d.text).count
            }
        }
        var embeddingCost: Double? = 0
        if case .openai(let m) = options.embedder { embeddingCost = prices.cost(model: m, input: tokens, output: 0) }

        let k: Int
        switch options.k {
        case .fixed(let n): k = n
        case .auto:
            k = RunOptions.autoRange(documents: docs.count).upperBound
            notes.append("k = auto: assumed the largest candidate (\(k)) as an upper bound")
        }
        var calls = 0, input = 0, output = 0
        var llmCost: Double? = 0
        if case .openai(let model) = options.labeler {
            // Prompts as the run builds them, from representative-sized excerpts of the documents.
            let sample = stride(from: 0, to: docs.count, by: max(1, docs.count / 500)).map { docs[$0].text }
            let excerpt = sample.map { tokenizer.encode(Describe.truncate($0, words: Describe.representativeWords)).count - 2 }
            let perRep = excerpt.isEmpty ? 0 : excerpt.reduce(0, +) / excerpt.count
            let system = 0
            let frame = tokenizer.encode(LabelPrompt.user(TopicSketch(index: 0, keywords: [], representatives: [], contrast: [], size: 0))).count
            let perTopic = system + frame + 25 + 5 * (perRep + 3) + 3 * 12
            let parents = k >= 6 ? Int(Double(k).squareRoot().rounded()) : 0
            let perParent = tokenizer.encode(LabelPrompt.parent(childLabels: [])[0].content).count + (k / max(1, parents)) * 8
            let previous = try state.runCount()
            if previous > 0 && toEmbed == 0 {
                notes.append("every document is cached and a previous run exists: an unchanged corpus reuses cached labels (0 calls)")
            } else {
                calls = k + parents
                input = k * perTopic + parents * perParent
                output = calls * LLMLabeler.defaultMaxTokens
            }
            llmCost = prices.cost(model: model, input: input, output: output)
            if llmCost == nil && options.llmBaseURL.host.map({ ["127.0.0.1", "localhost", "::1"].contains($0) }) == true {
                llmCost = 0
                notes.append("\(model) on a local server: priced at $0")
            }
        }
        return Estimate(documents: docs.count, toEmbed: toEmbed, cached: docs.count - toEmbed, embeddingTokens: tokens,
                        embeddingCost: embeddingCost, kAssumed: k, llmCalls: calls, llmInputTokens: input,
                        llmOutputTokens: output, llmCost: llmCost, notes: notes)
    }
}
