import Crypto
import Foundation
import StrataEmbed
import StrataHTTP
import StrataLabel
import StrataStore

/// Labels for a set of sketches, with the spend and what happened.
struct LabelingResult {
    var labels: [TopicLabel]
    var calls = 0
    var promptTokens = 0
    var completionTokens = 0
    var notes: [String] = []
    var warnings: [String] = []
    /// What the LLM was asked and answered (nil for the keyword labeler).
    var usage: StateDatabase.LLMUsage?

    /// Adds another result's spend (labels are not touched).
    mutating func addSpend(_ other: LabelingResult) {
        calls += other.calls; promptTokens += other.promptTokens; completionTokens += other.completionTokens
        if let o = other.usage {
            if var u = usage {
                u.prompts += o.prompts; u.calls += o.calls; u.promptTokens += o.promptTokens
                u.completionTokens += o.completionTokens; u.answeredPrompts += o.answeredPrompts
                u.firstPromptTokens += o.firstPromptTokens; u.localTokens += o.localTokens
                usage = u
            } else {
                usage = o
            }
        }
    }
}

/// Local token counts of prompts (MiniLM's WordPiece), to calibrate estimates against what the LLM
/// server reports. Nil when the MiniLM vocabulary is not installed.
enum PromptTokens {
    static let tokenizer: WordPieceTokenizer? = try? WordPieceTokenizer(
        vocabularyURL: MiniLMEncoder.defaultModelDirectory().appendingPathComponent("vocab.txt"))

    /// WordPiece tokens of one text (0 without the vocabulary). The vocabulary loads on first use, so a
    /// run whose documents are all cached never reads it.
    static let textCount: @Sendable (String) -> Int = { tokenizer?.encode($0).count ?? 0 }

    /// WordPiece tokens of a prompt's messages (role names included, special tokens not).
    static func count(_ messages: [ChatMessage]) -> Int {
        guard let t = tokenizer else { return 0 }
        return messages.reduce(0) { $0 + t.encode($1.role + ": " + $1.content).count - 2 }
    }
}

enum Labeling {
    static func client(_ options: RunOptions) -> OpenAICompatibleClient {
        let key = OpenAICompatibleClient.Configuration.apiKey(fromEnvironment: ["STRATA_LLM_API_KEY", "OPENAI_API_KEY"])
        var c = OpenAICompatibleClient.Configuration(baseURL: options.llmBaseURL, apiKey: key)
        c.requestTimeout = 120
        return OpenAICompatibleClient(configuration: c)
    }

    /// Cache key of a prompt: SHA-256 over the model and the exact messages.
    static func promptHash(model: String, messages: [ChatMessage]) -> String {
        var text = model
        for m in messages { text += "\u{1F}" + m.role + "\u{1E}" + m.content }
        return SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Labels prompts through the cache: cached replies are reused, the rest go to the LLM
    /// concurrently, and valid new replies are cached. Falls back to `fallbacks` per prompt.
    static func label(prompts: [[ChatMessage]], fallbacks: [TopicLabel], groundings: [String?], model: String, options: RunOptions,
                      state: StateDatabase, reporter: RunReporter, what: String) async throws -> LabelingResult {
        var result = LabelingResult(labels: fallbacks)
        var pending: [Int] = []
        var hashes: [String] = []
        for (i, p) in prompts.enumerated() {
            let h = promptHash(model: model, messages: p)
            hashes.append(h)
            if let reply = try state.cachedLabel(model: model, promptHash: h), let o = LLMLabeler.Outcome.cached(reply, fallback: fallbacks[i]) {
                result.labels[i] = o.label
            } else {
                pending.append(i)
            }
        }
        if let sink = options.dryRun {
            sink.add(pending.map { prompts[$0] })
            return result
        }
        reporter.info("\(prompts.count - pending.count) \(what) label(s) from cache, \(pending.count) to ask \(model)")
        var outcomes: [LLMLabeler.Outcome] = []
        if !pending.isEmpty {
            var labeler = LLMLabeler(model: model, client: client(options))
            labeler.concurrency = options.llmConcurrency
            labeler.seed = Int(truncatingIfNeeded: options.seed)
            outcomes = await labeler.label(pending.map { (prompts[$0], fallbacks[$0], groundings[$0]) }) { done, total in
                reporter.progress("label", done: done, total: total)
            }
        }
        var usage = StateDatabase.LLMUsage(model: model)
        for (o, i) in zip(outcomes, pending) {
            result.labels[i] = o.label
            result.calls += o.calls
            result.promptTokens += o.promptTokens
            result.completionTokens += o.completionTokens
            usage.prompts += 1
            if o.firstPromptTokens > 0 {
                usage.answeredPrompts += 1
                usage.firstPromptTokens += o.firstPromptTokens
                usage.localTokens += PromptTokens.count(prompts[i])
            }
            result.notes += o.notes.map { "\(what) \(i): \($0)" }
            if let reply = o.cacheableReply { try state.storeLabel(model: model, promptHash: hashes[i], reply: reply) }
        }
        usage.calls = result.calls; usage.promptTokens = result.promptTokens; usage.completionTokens = result.completionTokens
        if !pending.isEmpty { result.usage = usage }
        let fellBack = result.labels.filter { $0.source == .keywords }.count
        if fellBack > 0 {
            let msg = "\(fellBack) of \(prompts.count) \(what) label(s) fell back to keywords (see run.labeler.notes)"
            result.warnings.append(msg)
            reporter.warning(msg)
        }
        return result
    }

    static func run(_ sketches: [TopicSketch], spec: LabelerSpec, options: RunOptions, state: StateDatabase,
                    reporter: RunReporter) async throws -> LabelingResult {
        let fallbacks = sketches.map(KeywordLabeler.label)
        var result: LabelingResult
        switch spec {
        case .keywords:
            result = LabelingResult(labels: fallbacks)
        case .openai(let model):
            let groundings: [String?] = sketches.map { ($0.keywords + $0.representatives).joined(separator: " ") }
            result = try await label(prompts: sketches.map(LabelPrompt.messages), fallbacks: fallbacks, groundings: groundings, model: model,
                                     options: options, state: state, reporter: reporter, what: "topic")
        }
        disambiguate(&result.labels, sketches: sketches)
        return result
    }
}
