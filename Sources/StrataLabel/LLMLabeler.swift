import Foundation
import StrataHTTP

/// A chat prompt.
public struct ChatMessage: Sendable, Codable, Equatable {
    public let role: String
    public let content: String
    public init(role: String, content: String) { self.role = role; self.content = content }
}

/// The structured-output modes tried, strongest first. Servers that reject one (4xx/5xx) are asked
/// again with the next; the first that works is remembered for the rest of the run.
/// `jsonObjectSchema` is llama.cpp's dialect (`{"type": "json_object", "schema": …}`, grammar-constrained),
/// which its server accepts where it rejects OpenAI's `json_schema` with HTTP 500.
public enum ResponseFormat: Int, Sendable, CaseIterable, Comparable {
    case jsonSchema, jsonObjectSchema, jsonObject, none
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }

    static var schema: [String: Any] { [
        "type": "object",
        "properties": ["label": ["type": "string", "maxLength": 60], "description": ["type": "string", "maxLength": 300]],
        "required": ["label", "description"], "additionalProperties": false,
    ] }

    var payload: Any? {
        switch self {
        case .jsonSchema:
            return ["type": "json_schema", "json_schema": ["name": "topic_label", "strict": true, "schema": Self.schema]]
        case .jsonObjectSchema: return ["type": "json_object", "schema": Self.schema]
        case .jsonObject: return ["type": "json_object"]
        case .none: return nil
        }
    }
}

/// Builds the labeling prompts. Pure functions: the same sketch always gives the same prompt (and so
/// the same cache key).
public enum LabelPrompt {
    /// Instructions, phrased as a plain question: small models copy placeholders and example objects
    /// verbatim, and some chat templates (Gemma's in llama.cpp) drop system messages, so everything
    /// goes into one user message.
    public static let instructions = """
        These documents come from one cluster of a larger collection. What is their common topic? \
        Answer with a JSON object with two keys: "label", a specific name for the topic in two to six \
        words, and "description", one sentence saying what the documents are about.
        """

    /// The user message for one topic: keywords, representative documents, contrast topics, question.
    public static func user(_ s: TopicSketch) -> String {
        var text = "Keywords: \(s.keywords.prefix(10).joined(separator: ", "))\n\nDocuments:\n"
        for (i, r) in s.representatives.enumerated() { text += "\(i + 1). \(r)\n" }
        if !s.contrast.isEmpty {
            text += "\nOther clusters, which are different topics: \(s.contrast.joined(separator: "; "))\n"
        }
        text += "\n" + instructions
        return text
    }

    /// The user message for naming a parent of several topics.
    public static func parent(childLabels: [String]) -> [ChatMessage] {
        [ChatMessage(role: "user", content: "These topics belong to one group: " + childLabels.joined(separator: "; ")
            + ".\n\nWhat is the group's common theme? Answer with a JSON object with two keys: \"label\", a name for the group in two to six words, and \"description\", one sentence.")]
    }

    public static func messages(_ s: TopicSketch) -> [ChatMessage] {
        [ChatMessage(role: "user", content: user(s))]
    }
}

/// Labels topics with any OpenAI-compatible chat-completions endpoint, validating and repairing
/// replies, retrying bad ones, and falling back to ``KeywordLabeler``.
public struct LLMLabeler: Sendable {
    public let model: String
    public let client: OpenAICompatibleClient
    /// Requests in flight at once.
    public var concurrency = 4
    /// Retries after an invalid reply, before falling back to keywords.
    public var invalidReplyRetries = 2
    /// Cap on generated tokens per reply (small models ramble).
    public var maxTokens = LLMLabeler.defaultMaxTokens
    /// Default cap on generated tokens per reply (also what `strata estimate` assumes per call).
    public static let defaultMaxTokens = 96
    public var temperature = 0.2
    /// Sampling seed sent with every request.
    public var seed = 42
    /// Chat (structured output) or few-shot completion; see ``LabelMode``.
    public var mode: LabelMode = .chat
    /// Cap on generated tokens of a completion-mode continuation (one label line).
    public static let completionMaxTokens = 28

    public init(model: String, client: OpenAICompatibleClient) {
        self.model = model
        self.client = client
    }

    /// What happened to one request.
    public struct Outcome: Sendable {
        public let label: TopicLabel
        /// The validated reply as JSON, for the cache (nil when the keyword fallback was used).
        public let cacheableReply: String?
        public let calls: Int
        public let promptTokens: Int
        public let completionTokens: Int
        /// Server-counted prompt tokens of the first answered request (0 when none was answered):
        /// what the prompt costs once, without retries.
        public var firstPromptTokens: Int = 0
        /// Human-readable notes: format downgrades, HTTP errors, repairs, fallbacks.
        public var notes: [String]
        /// How the label was asked for (chat when completion mode fell back).
        public var mode: LabelMode = .chat
    }

    /// Shared across concurrent requests: whether the server serves `/v1/completions`.
    public final actor ModeState {
        public init() {}
        var completionAvailable = true
        func disableCompletion() -> Bool { defer { completionAvailable = false }; return completionAvailable }
        func completion() -> Bool { completionAvailable }
    }

    /// Shared across concurrent requests: the strongest response format the server accepted.
    public final actor FormatState {
        public init() {}
        var format: ResponseFormat = .jsonSchema
        var confirmed = false
        func downgrade(from f: ResponseFormat) -> ResponseFormat? {
            if confirmed && f == format { return nil }
            if f < format { return format }
            guard let next = ResponseFormat(rawValue: f.rawValue + 1) else { return nil }
            format = next
            return next
        }
        func confirm(_ f: ResponseFormat) { if !confirmed { format = f; confirmed = true } }
        func current() -> (ResponseFormat, Bool) { (format, confirmed) }
    }

    struct ChatReply: Decodable {
        struct Choice: Decodable { struct Message: Decodable { let content: String? }; let message: Message }
        struct Usage: Decodable { let prompt_tokens: Int?; let completion_tokens: Int? }
        let choices: [Choice]
        let usage: Usage?
    }

    /// One chat completion; returns (content, prompt tokens, completion tokens).
    func complete(_ messages: [ChatMessage], format: ResponseFormat, probing: Bool, temperature: Double) async throws -> (String, Int, Int) {
        var body: [String: Any] = [
            "model": model,
            "messages": messages.map { ["role": $0.role, "content": $0.content] },
            "max_tokens": maxTokens,
            "temperature": temperature,
            // Same prompt, same seed, same reply on servers that honour it (OpenAI, vLLM, llama.cpp):
            // reruns and retries are reproducible.
            "seed": seed,
        ]
        if let f = format.payload { body["response_format"] = f }
        let data = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
        // While the format is unconfirmed, a 500 means "format not supported" (llama.cpp) and is not
        // retried; transient statuses (429 with Retry-After, 502–504) are, as for any request.
        let reply = try await client.postJSON(path: "chat/completions", body: data,
                                              retryStatuses: probing ? Self.transientStatuses : nil)
        guard let decoded = try? JSONDecoder().decode(ChatReply.self, from: reply) else {
            throw HTTPClientError(.malformedResponse, "chat reply is not an OpenAI chat completion: \(String(decoding: reply.prefix(200), as: UTF8.self))")
        }
        return (decoded.choices.first?.message.content ?? "", decoded.usage?.prompt_tokens ?? 0, decoded.usage?.completion_tokens ?? 0)
    }

    struct CompletionReply: Decodable {
        struct Choice: Decodable { let text: String? }
        struct Usage: Decodable { let prompt_tokens: Int?; let completion_tokens: Int? }
        let choices: [Choice]
        let usage: Usage?
    }

    /// One text completion at temperature 0; returns (continuation, prompt tokens, completion tokens).
    func complete(prompt: String) async throws -> (String, Int, Int) {
        let body: [String: Any] = [
            "model": model, "prompt": prompt, "max_tokens": Self.completionMaxTokens, "temperature": 0,
            "stop": CompletionPrompt.stop, "seed": seed,
        ]
        let data = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
        let reply = try await client.postJSON(path: "completions", body: data)
        guard let decoded = try? JSONDecoder().decode(CompletionReply.self, from: reply) else {
            throw HTTPClientError(.malformedResponse, "completion reply is not an OpenAI completion: \(String(decoding: reply.prefix(200), as: UTF8.self))")
        }
        return (decoded.choices.first?.text ?? "", decoded.usage?.prompt_tokens ?? 0, decoded.usage?.completion_tokens ?? 0)
    }

    /// Statuses retried while a response format is being probed: transient ones, never 500.
    static let transientStatuses: Set<Int> = [408, 409, 429, 502, 503, 504]

    /// True for a status that says the request's response format was not accepted: a 4xx other than
    /// 408/409/429, or llama.cpp's 500. (A 503 or 429 is load, not a verdict on the format.)
    static func rejectsFormat(_ status: Int) -> Bool {
        status == 500 || ((400..<500).contains(status) && ![408, 409, 429].contains(status))
    }

    /// True for the answers of a server that has no `/v1/completions` (404, 405, 501).
    static func lacksEndpoint(_ error: Error) -> Bool {
        guard let e = error as? HTTPClientError, let s = e.status else { return false }
        return [404, 405, 501].contains(s)
    }

    /// Labels one few-shot completion prompt: one request at temperature 0, no retries (the same
    /// prompt would get the same continuation; the verifier has keyphrases to fall back on). Returns
    /// nil (with notes) when the server has no completion endpoint: the caller asks by chat instead.
    func labelByCompletion(prompt: String, fallback: TopicLabel, modes: ModeState) async -> (Outcome?, [String]) {
        guard await modes.completion() else { return (nil, []) }
        do {
            let (text, p, c) = try await complete(prompt: prompt)
            if let parsed = CompletionPrompt.parse(text) {
                let label = TopicLabel(label: parsed.label, description: parsed.description, source: parsed.repaired ? .llmRepaired : .llm,
                                       alternatives: parsed.alternatives)
                var reply: [String: Any] = ["label": label.label, "description": label.description]
                if !label.alternatives.isEmpty { reply["alternatives"] = label.alternatives }
                let json = (try? JSONSerialization.data(withJSONObject: reply, options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) }
                return (Outcome(label: label, cacheableReply: json, calls: 1, promptTokens: p, completionTokens: c, firstPromptTokens: p,
                                notes: parsed.repaired ? ["repaired continuation: \(text.prefix(120))"] : [], mode: .completion), [])
            }
            return (Outcome(label: fallback, cacheableReply: Self.fallbackMarker, calls: 1, promptTokens: p, completionTokens: c,
                            firstPromptTokens: p, notes: ["unusable continuation: \(text.prefix(120))", "fell back to keywords"],
                            mode: .completion), [])
        } catch where Self.lacksEndpoint(error) {
            let first = await modes.disableCompletion()
            return (nil, first ? ["the server has no /v1/completions (\(error)); asking by chat from now on"] : [])
        } catch {
            return (Outcome(label: fallback, cacheableReply: nil, calls: 1, promptTokens: 0, completionTokens: 0,
                            notes: ["LLM request failed: \(error)", "fell back to keywords"], mode: .completion), [])
        }
    }

    /// Labels one prompt. Never throws: every failure path ends in the keyword fallback with notes.
    /// A reply counts as valid when it parses (``ReplyParser``) and, when `grounding` is given, some
    /// word of the label occurs in it (the topic's keywords and documents). Retries raise the
    /// temperature so that a deterministic bad answer is not simply repeated.
    public func label(messages: [ChatMessage], fallback: TopicLabel, grounding: String? = nil,
                      formats: FormatState) async -> Outcome {
        var notes: [String] = []
        var calls = 0, promptTokens = 0, completionTokens = 0, firstPromptTokens = 0
        var invalid = 0
        var answeredButInvalid = false
        while true {
            let (format, confirmed) = await formats.current()
            do {
                calls += 1
                let (content, p, c) = try await complete(messages, format: format, probing: !confirmed,
                                                         temperature: min(1, temperature + 0.4 * Double(invalid)))
                promptTokens += p; completionTokens += c
                if firstPromptTokens == 0 { firstPromptTokens = p }
                await formats.confirm(format)
                if let parsed = ReplyParser.parse(content), grounding.map({ ReplyParser.isGrounded(parsed.label, in: $0) }) ?? true {
                    let label = TopicLabel(label: parsed.label, description: parsed.description,
                                           source: parsed.repaired ? .llmRepaired : .llm)
                    if parsed.repaired { notes.append("repaired reply: \(content.prefix(120))") }
                    let json = (try? JSONSerialization.data(withJSONObject: ["label": label.label, "description": label.description], options: [.sortedKeys]))
                        .map { String(decoding: $0, as: UTF8.self) }
                    return Outcome(label: label, cacheableReply: json, calls: calls, promptTokens: promptTokens,
                                   completionTokens: completionTokens, firstPromptTokens: firstPromptTokens, notes: notes)
                }
                invalid += 1
                notes.append("invalid reply \(invalid): \(content.prefix(120))")
                if invalid > invalidReplyRetries { answeredButInvalid = true; break }
            } catch let e as HTTPClientError where !confirmed && e.status.map(Self.rejectsFormat) == true {
                if let next = await formats.downgrade(from: format) {
                    notes.append("server rejected response_format \(format) (HTTP \(e.status!)); trying \(next)")
                    continue
                }
                notes.append("LLM request failed: \(e)")
                break
            } catch {
                notes.append("LLM request failed: \(error)")
                break
            }
        }
        notes.append("fell back to keywords")
        // When the model answered but never usefully, remember that (the same prompt would get the same
        // answers); transport and HTTP failures are not cached, so the next run asks again.
        return Outcome(label: fallback, cacheableReply: answeredButInvalid ? Self.fallbackMarker : nil, calls: calls, promptTokens: promptTokens,
                       completionTokens: completionTokens, firstPromptTokens: firstPromptTokens, notes: notes)
    }

    /// One topic (or parent) to label: its chat prompt, its few-shot completion prompt (nil when there
    /// is none), the label to publish when the LLM gives nothing usable, and grounding text for chat.
    public struct Request: Sendable {
        public var messages: [ChatMessage]
        public var completion: String?
        public var fallback: TopicLabel
        public var grounding: String?
        public init(messages: [ChatMessage], completion: String?, fallback: TopicLabel, grounding: String?) {
            self.messages = messages; self.completion = completion; self.fallback = fallback; self.grounding = grounding
        }
    }

    /// Labels one request in ``mode``: by completion when asked for and served, else by chat.
    func label(_ r: Request, formats: FormatState, modes: ModeState) async -> Outcome {
        var notes: [String] = []
        if mode == .completion, let prompt = r.completion {
            let (outcome, n) = await labelByCompletion(prompt: prompt, fallback: r.fallback, modes: modes)
            if let outcome { return outcome }
            notes = n
        }
        var o = await label(messages: r.messages, fallback: r.fallback, grounding: r.grounding, formats: formats)
        o.notes = notes + o.notes
        return o
    }

    /// Labels many requests with at most ``concurrency`` in flight; results in input order.
    public func label(_ requests: [Request], progress: (@Sendable (Int, Int) -> Void)? = nil) async -> [Outcome] {
        let formats = FormatState(), modes = ModeState()
        var results = [Outcome?](repeating: nil, count: requests.count)
        await withTaskGroup(of: (Int, Outcome).self) { group in
            var next = 0, done = 0
            func launch() {
                let i = next; next += 1
                let r = requests[i]
                group.addTask { (i, await label(r, formats: formats, modes: modes)) }
            }
            // All slots start at once: a server that rejects a response format does so at once (HTTP
            // 4xx/5xx), and FormatState.downgrade makes concurrent downgrades agree. (Waiting for the
            // first prompt's whole outcome, retries included, cost minutes with slow local models.)
            while next < min(requests.count, concurrency) { launch() }
            while let (i, outcome) = await group.next() {
                results[i] = outcome
                done += 1
                progress?(done, requests.count)
                if next < requests.count { launch() }
            }
        }
        return results.map { $0! }
    }
}

extension LLMLabeler {
    /// Cached in place of a reply when the model answered but no answer was usable.
    public static let fallbackMarker = #"{"fallback": true}"#
}

extension LLMLabeler.Outcome {
    /// A cached reply replayed as an outcome (no call, no tokens). A cached fallback marker replays
    /// as the keyword label `fallback`.
    public static func cached(_ reply: String, fallback: TopicLabel) -> LLMLabeler.Outcome? {
        if reply == LLMLabeler.fallbackMarker {
            return .init(label: fallback, cacheableReply: reply, calls: 0, promptTokens: 0, completionTokens: 0,
                         notes: ["cached: the model gave no usable label for this prompt before"])
        }
        guard let p = ReplyParser.parse(reply) else { return nil }
        return .init(label: TopicLabel(label: p.label, description: p.description, source: .cache, alternatives: p.alternatives),
                     cacheableReply: reply, calls: 0, promptTokens: 0, completionTokens: 0, notes: [])
    }
}
