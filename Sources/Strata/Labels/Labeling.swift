import Foundation
import StrataEmbed
import StrataHTTP
import StrataLabel
import StrataLinalg
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
    /// How the LLM was asked (nil for the keyword labeler).
    var mode: LabelMode?
    /// Each label's verification margin (nil when labels were not verified).
    var confidence: [Double]?

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
        c.requestTimeout = options.llmTimeout
        c.totalTimeout = options.llmTimeout   // retries of 429/5xx included: a stuck server costs one timeout
        return OpenAICompatibleClient(configuration: c)
    }

    /// Cache key of a prompt: SHA-256 over the model and the exact messages.
    static func promptHash(model: String, messages: [ChatMessage]) -> String {
        var text = model
        for m in messages { text += "\u{1F}" + m.role + "\u{1E}" + m.content }
        return SHA256.hex(text)
    }

    /// The mode the run asks in: `--llm-mode`, or the automatic choice for the model and server.
    static func mode(_ options: RunOptions, model: String) -> LabelMode {
        options.llmMode ?? LabelMode.automatic(model: model, host: options.llmBaseURL.host)
    }

    /// The prompt sent (and cached) for a request in `mode`, as role/content pairs: the chat
    /// messages, or the completion text under the role "completion".
    static func prompt(_ r: LLMLabeler.Request, mode: LabelMode) -> [ChatMessage] {
        if mode == .completion, let text = r.completion { return [ChatMessage(role: "completion", content: text)] }
        return r.messages
    }

    /// Labels requests through the cache: cached replies are reused, the rest go to the LLM
    /// concurrently, and valid new replies are cached (under the prompt of the mode that answered).
    static func label(_ requests: [LLMLabeler.Request], model: String, options: RunOptions,
                      state: StateDatabase, reporter: RunReporter, what: String) async throws -> LabelingResult {
        var result = LabelingResult(labels: requests.map(\.fallback))
        let mode = mode(options, model: model)
        result.mode = mode
        var pending: [Int] = []
        for (i, r) in requests.enumerated() {
            let h = promptHash(model: model, messages: prompt(r, mode: mode))
            if let reply = try state.cachedLabel(model: model, promptHash: h), let o = LLMLabeler.Outcome.cached(reply, fallback: r.fallback) {
                result.labels[i] = o.label
            } else {
                pending.append(i)
            }
        }
        if let sink = options.dryRun {
            sink.add(pending.map { prompt(requests[$0], mode: mode) })
            return result
        }
        reporter.info("\(requests.count - pending.count) \(what) label(s) from cache, \(pending.count) to ask \(model) (\(mode.rawValue))")
        var outcomes: [LLMLabeler.Outcome] = []
        if !pending.isEmpty {
            var labeler = LLMLabeler(model: model, client: client(options))
            labeler.concurrency = options.llmConcurrency
            labeler.seed = Int(truncatingIfNeeded: options.seed)
            labeler.mode = mode
            outcomes = await labeler.label(pending.map { requests[$0] }) { done, total in
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
                usage.localTokens += PromptTokens.count(prompt(requests[i], mode: o.mode))
            }
            if o.mode != mode { result.mode = o.mode }
            result.notes += o.notes.map { "\(what) \(i): \($0)" }
            if let reply = o.cacheableReply {
                try state.storeLabel(model: model, promptHash: promptHash(model: model, messages: prompt(requests[i], mode: o.mode)), reply: reply)
            }
        }
        usage.calls = result.calls; usage.promptTokens = result.promptTokens; usage.completionTokens = result.completionTokens
        if !pending.isEmpty { result.usage = usage }
        let fellBack = result.labels.filter { $0.source == .keywords }.count
        let failures = outcomes.compactMap { $0.notes.first { $0.hasPrefix("LLM request failed") } }
        if let first = failures.first {
            let msg = "\(failures.count) of \(requests.count) \(what) label request(s) failed; their labels fell back to keywords — "
                + "check --llm-base-url, the model name and the server (first: \(first.dropFirst("LLM request failed: ".count).prefix(200)))"
            result.warnings.append(msg)
            reporter.warning(msg)
        } else if fellBack > 0 {
            result.notes.append("\(fellBack) of \(requests.count) \(what) label(s): the LLM gave nothing usable; keyphrases compete alone")
        }
        return result
    }

    /// Labels topics (`rows[i]` is sketch i's centroid row in `context`), then verifies the labels
    /// against the centroids when the run's embedder can embed text (not `field:`, not a dry run).
    static func run(_ sketches: [TopicSketch], rows: [Int], context: VerificationContext?, spec: LabelerSpec, options: RunOptions,
                    state: StateDatabase, reporter: RunReporter) async throws -> LabelingResult {
        let fallbacks = sketches.map(KeywordLabeler.label)
        var result: LabelingResult
        switch spec {
        case .keywords:
            result = LabelingResult(labels: fallbacks)
        case .openai(let model):
            let requests = sketches.map { s in
                LLMLabeler.Request(messages: LabelPrompt.messages(s), completion: CompletionPrompt.topic(s), fallback: KeywordLabeler.label(s),
                                   grounding: (s.keywords + s.representatives).joined(separator: " "))
            }
            result = try await label(requests, model: model, options: options, state: state, reporter: reporter, what: "topic")
        }
        if let context, options.dryRun == nil, let embedder = try EmbeddingStage.makeEmbedder(options.embedder, baseURL: options.embeddingBaseURL) {
            reporter.info("verifying \(sketches.count) label(s) against the topic centroids")
            let verified = try await LabelVerification.verify(result.labels, sketches: sketches, rows: rows, context: context,
                                                              embedder: embedder, what: "topic")
            result.labels = verified.labels
            result.confidence = verified.confidence
            result.notes += verified.notes
            let unverified = verified.unverified.map {
                "topic \(rows[$0]): no candidate label lands nearest its own topic; kept \"\(verified.labels[$0].label)\" (unverified)"
            }
            result.warnings += verified.warnings + unverified
            for w in verified.warnings + unverified { reporter.warning(w) }
        } else {
            disambiguate(&result.labels, sketches: sketches)
        }
        return result
    }

    /// Each label's verification margin against `centroids` (row i ↔ label i); nil when the run's
    /// embedder cannot embed text (`field:`) or in a dry run.
    static func confidence(_ labels: [String], centroids: Matrix, options: RunOptions) async throws -> [Double]? {
        guard options.dryRun == nil, !labels.isEmpty,
              let embedder = try EmbeddingStage.makeEmbedder(options.embedder, baseURL: options.embeddingBaseURL) else { return nil }
        return try await LabelVerification.confidence(labels: labels, rows: Array(labels.indices), centroids: centroids, embedder: embedder)
    }
}
