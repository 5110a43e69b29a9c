import Foundation
import Testing
import StrataHTTP
import StrataLabel
import StrataTestSupport

/// An OpenAI chat-completions reply whose message content is `content`.
func chatReply(_ content: String, prompt: Int = 50, completion: Int = 10) -> String {
    let obj: [String: Any] = [
        "choices": [["message": ["role": "assistant", "content": content], "index": 0]],
        "usage": ["prompt_tokens": prompt, "completion_tokens": completion],
    ]
    return String(decoding: try! JSONSerialization.data(withJSONObject: obj), as: UTF8.self)
}

let sketch = TopicSketch(index: 0, keywords: ["dog", "cat", "pet food", "animal"], representatives: ["A dog is a pet."],
                         contrast: ["car, engine, wheel"], size: 10)

func labeler(_ server: ScriptedHTTPServer, timeout: TimeInterval = 5) -> LLMLabeler {
    var c = OpenAICompatibleClient.Configuration(baseURL: server.baseURL)
    c.requestTimeout = timeout
    c.initialBackoff = 0.05
    c.maxRetries = 2
    return LLMLabeler(model: "test-model", client: OpenAICompatibleClient(configuration: c))
}

func run(_ replies: [ScriptedHTTPServer.Reply], timeout: TimeInterval = 5) async throws -> (LLMLabeler.Outcome, ScriptedHTTPServer) {
    let server = try ScriptedHTTPServer(replies)
    let outcomes = await labeler(server, timeout: timeout).label([LLMLabeler.Request(messages: LabelPrompt.messages(sketch), completion: nil, fallback: KeywordLabeler.label(sketch), grounding: nil)])
    server.stop()
    return (outcomes[0], server)
}

@Suite("LLM labeler against a scripted server: every failure ends in a recorded outcome")
struct LabelerTests {
    @Test func validJSON() async throws {
        let (o, server) = try await run([.init(body: chatReply(#"{"label": "Pets and animals", "description": "About pets."}"#))])
        #expect(o.label == TopicLabel(label: "Pets and animals", description: "About pets.", source: .llm))
        #expect(o.calls == 1 && o.promptTokens == 50 && o.completionTokens == 10)
        #expect(o.cacheableReply != nil)
        // The first request asks for the strongest structured format.
        #expect(server.requests[0].body.contains("json_schema"))
    }

    @Test func jsonInProse() async throws {
        let (o, _) = try await run([.init(body: chatReply("Sure! Here it is:\n```json\n{\"label\": \"Pet care\", \"description\": \"Dogs and cats.\"}\n```\nHope that helps."))])
        #expect(o.label.label == "Pet care")
        #expect(o.label.source == .llmRepaired)
    }

    @Test func truncatedJSON() async throws {
        let (o, _) = try await run([.init(body: chatReply(#"{"label": "Household pets", "description": "Documents about dogs, cats and how to fee"#))])
        #expect(o.label.label == "Household pets")
        #expect(o.label.description.hasPrefix("Documents about dogs"))
        #expect(o.label.source == .llmRepaired)
    }

    @Test func overLongLabel() async throws {
        let (o, _) = try await run([.init(body: chatReply(#"{"label": "All about the many different kinds of household pets", "description": "x."}"#))])
        #expect(o.label.label.split(separator: " ").count == 6)
        #expect(o.label.source == .llmRepaired)
    }

    @Test("empty replies are retried, then the keyword label is used")
    func emptyReply() async throws {
        let (o, server) = try await run([.init(body: chatReply(""))])
        #expect(o.label.source == .keywords)
        #expect(o.label == KeywordLabeler.label(sketch))
        #expect(server.requests.count == 3)  // first try + 2 retries
        #expect(o.notes.last == "fell back to keywords")
    }

    @Test("HTTP 500 on json_schema downgrades the response format and succeeds")
    func serverErrorDowngrade() async throws {
        let (o, server) = try await run([
            .init(status: 500, body: #"{"error": "json_schema not supported"}"#),
            .init(body: chatReply(#"{"label": "Pets", "description": "Pets."}"#)),
        ])
        #expect(o.label.label == "Pets")
        #expect(server.requests.count == 2)
        #expect(server.requests[1].body.contains("json_object"))
        #expect(server.requests[1].body.contains("\"schema\""))
        #expect(o.notes.contains { $0.contains("trying jsonObjectSchema") })
    }

    @Test("persistent HTTP 500 ends in the keyword fallback, recorded")
    func persistentServerError() async throws {
        let (o, _) = try await run([.init(status: 500, body: "down")])
        #expect(o.label.source == .keywords)
        #expect(o.notes.contains { $0.contains("500") })
    }

    @Test("429 with Retry-After is waited out")
    func rateLimited() async throws {
        let start = Date()
        let (o, _) = try await run([
            .init(body: chatReply(#"{"label": "Pets", "description": "Pets."}"#)),  // confirms the format
        ])
        #expect(o.label.source == .llm)
        let server = try ScriptedHTTPServer([
            .init(body: chatReply(#"{"label": "Pets", "description": "Pets."}"#)),
            .init(status: 429, headers: ["Retry-After": "1"], body: "slow down"),
            .init(body: chatReply(#"{"label": "Cars", "description": "Cars."}"#)),
        ])
        defer { server.stop() }
        let other = TopicSketch(index: 1, keywords: ["car"], representatives: ["cars"], contrast: [], size: 3)
        // One request at a time, so the scripted replies meet the prompts in order.
        var sequential = labeler(server)
        sequential.concurrency = 1
        let outs = await sequential.label([LLMLabeler.Request(messages: LabelPrompt.messages(sketch), completion: nil, fallback: KeywordLabeler.label(sketch), grounding: nil),
                                           LLMLabeler.Request(messages: LabelPrompt.messages(other), completion: nil, fallback: KeywordLabeler.label(other), grounding: nil)])
        #expect(outs[1].label.label == "Cars")
        #expect(Date().timeIntervalSince(start) >= 1)
    }

    @Test("a server slower than the timeout ends in the keyword fallback, not a hang")
    func timeout() async throws {
        let start = Date()
        let (o, _) = try await run([.init(body: chatReply(#"{"label": "Late"}"#), delay: 3)], timeout: 0.5)
        #expect(o.label.source == .keywords)
        #expect(Date().timeIntervalSince(start) < 15)
    }
}

@Suite("reply repair")
struct ReplyParserTests {
    @Test("junk labels are rejected; labels must be grounded in the topic")
    func validation() async throws {
        for junk in ["1", ",", "model_100", "A description of a topic", "Keywords: dog"] {
            #expect(ReplyParser.parse("{\"label\": \"\(junk)\", \"description\": \"x\"}") == nil, "\(junk)")
        }
        #expect(ReplyParser.isGrounded("Flowering plants", in: "flowers leaves genus tree"))
        #expect(!ReplyParser.isGrounded("Hockey polo", in: "flowers leaves genus tree"))
        // An ungrounded reply is retried and, when it persists, replaced by the keyword label.
        let server = try ScriptedHTTPServer([.init(body: chatReply(#"{"label": "Ice hockey", "description": "Sport."}"#))])
        defer { server.stop() }
        let o = await labeler(server).label([LLMLabeler.Request(messages: LabelPrompt.messages(sketch), completion: nil, fallback: KeywordLabeler.label(sketch), grounding: "dog cat pet food animal")])
        #expect(o[0].label.source == .keywords)
        #expect(server.requests.count == 3)
    }

    @Test func cases() {
        #expect(ReplyParser.parse(#"{"label": "Tax forms", "description": "One. Two. Three."}"#)?.description == "One. Two.")
        #expect(ReplyParser.parse("") == nil)
        #expect(ReplyParser.parse("Keywords: dog, cat") == nil)
        #expect(ReplyParser.parse(#"{"label": "Keywords: dog, cat, JSON"}"#) == nil)
        #expect(ReplyParser.parse(#"label is "label": "Tax forms""#)?.label == "Tax forms")
        #expect(ReplyParser.parse(#"{"label": "Tax {forms}", "description": "a } b"} trailing"#)?.label == "Tax {forms}")
        // A raw newline inside a string (grammar-constrained small models do this).
        let raw = ReplyParser.parse("{ \"label\": \"Pet care\", \"description\": \"took the puppy to the vet.\n\" }")
        #expect(raw?.label == "Pet care" && raw?.description == "took the puppy to the vet." && raw?.repaired == true)
    }

    @Test func disambiguation() {
        let a = TopicSketch(index: 0, keywords: ["python", "pip"], representatives: [], contrast: [], size: 1)
        let b = TopicSketch(index: 1, keywords: ["python", "snake"], representatives: [], contrast: [], size: 1)
        var labels = [TopicLabel(label: "Python", description: "", source: .llm), TopicLabel(label: "python", description: "", source: .llm)]
        disambiguate(&labels, sketches: [a, b])
        #expect(labels[0].label == "Python")
        #expect(labels[1].label == "python (snake)")
    }
}

@Suite("keywords, representatives, prices")
struct DescribeTests {
    @Test("c-TF-IDF weights follow tf/|class| · log(1 + A/f)")
    func ctfidf() {
        let texts = ["apple banana", "apple cherry", "dog cat", "dog bird"]
        let k = ClassTFIDF.keywords(texts: texts, labels: [0, 0, 1, 1], classCount: 2, count: 5, minDocumentFrequency: 1)
        // Class 0 terms: apple×2, banana, cherry, "apple banana", "apple cherry" = 6 occurrences; class 1 the same shape.
        // A = 6; f(apple) = 2 → weight 2/6 · log(1 + 6/2).
        #expect(k[0].first?.term == "apple")
        #expect(abs(k[0].first!.weight - 2.0 / 6.0 * log(4.0)) < 1e-12)
        #expect(k[1].first?.term == "dog")
        #expect(!k[0].contains { $0.term == "dog" })
        let filtered = ClassTFIDF.keywords(texts: texts, labels: [0, 0, 1, 1], classCount: 2, count: 5, minDocumentFrequency: 2)
        #expect(filtered[0].map(\.term) == ["apple"])
    }

    @Test func tokenizerDropsStopWordsAndNumbers() {
        #expect(KeywordTokenizer.words("The dog's 2 bones and THE cat") == ["dog", "bones", "cat"])
        #expect(KeywordTokenizer.terms("python packaging wheels") == ["python", "packaging", "wheels", "python packaging", "packaging wheels"])
        // Non-ASCII text: letters with accents, a typographic apostrophe, combining marks.
        #expect(KeywordTokenizer.words("Café DOG’s naïve 2024 x'y Cafe\u{301}") == ["café", "dog", "naïve", "x'y", "cafe\u{301}"])
    }

    @Test("the ASCII fast path splits exactly like the Unicode path")
    func asciiFastPathAgrees() {
        let texts = ["Don't panic -- it's 42, O'Reilly's 'quoted' words'' and ''leading", "e-mail: bob@example.com (x2, 3rd) S's",
                     "  MIXED case\tTabs\nnewlines ... ellipsis'''", "a b c 12 ab 1a a1 'tis rock'n'roll"]
        for t in texts {
            // One non-ASCII word at the end sends the text down the Unicode path.
            let unicode = KeywordTokenizer.words(t + " ünïcode")
            #expect(Array(unicode.dropLast()) == KeywordTokenizer.words(t), "\(t)")
            #expect(unicode.last == "ünïcode")
        }
    }

    @Test("MMR picks the closest first, then a diverse second")
    func mmr() {
        // Three unit vectors: 0 and 1 nearly identical, 2 different.
        let v: [Float] = [1, 0, 0.999, 0.0447, 0.6, 0.8]
        let picked = Representatives.select(similarities: [0.95, 0.94, 0.9], vectors: v, dimension: 2, count: 2, lambda: 0.5)
        #expect(picked == [0, 2])
    }

    @Test func prices() throws {
        let table = try PriceTable.shipped()
        #expect(table.cost(model: "gpt-4o-mini", input: 1_000_000, output: 0) == 0.15)
        #expect(table.price(for: "gpt-4o-mini-2024-07-18") == table.price(for: "gpt-4o-mini"))
        #expect(table.cost(model: "some-unknown-model", input: 1, output: 1) == nil)
    }
}

/// An OpenAI completions reply whose text is `text`.
func completionReply(_ text: String, prompt: Int = 300, completion: Int = 12) -> String {
    let obj: [String: Any] = [
        "choices": [["text": text, "index": 0, "finish_reason": "stop"]],
        "usage": ["prompt_tokens": prompt, "completion_tokens": completion],
    ]
    return String(decoding: try! JSONSerialization.data(withJSONObject: obj), as: UTF8.self)
}

@Suite("few-shot completion mode")
struct CompletionModeTests {
    func completionLabeler(_ server: ScriptedHTTPServer) -> LLMLabeler {
        var l = labeler(server)
        l.mode = .completion
        l.concurrency = 1
        return l
    }

    func request(_ s: TopicSketch) -> LLMLabeler.Request {
        .init(messages: LabelPrompt.messages(s), completion: CompletionPrompt.topic(s), fallback: KeywordLabeler.label(s), grounding: nil)
    }

    @Test("the prompt is the fixed pattern plus the topic, ending at the label slot")
    func prompt() {
        let p = CompletionPrompt.topic(sketch)
        #expect(p.hasSuffix("Examples: \"A dog is a pet.\"\nKeywords: dog, cat, pet food, animal\nTopic label:"))
        #expect(p.components(separatedBy: "Topic label:").count == 7)   // five examples + the open slot
        #expect(CompletionPrompt.topic(sketch) == p)                       // pure: same sketch, same prompt
    }

    @Test("a continuation parses into label and description; one request, sent to /v1/completions with stops")
    func parses() async throws {
        let server = try ScriptedHTTPServer([.init(body: completionReply(" Pets and animals\nDescription: Dogs, cats and what they eat"))])
        defer { server.stop() }
        let o = await completionLabeler(server).label([request(sketch)])[0]
        #expect(o.label == TopicLabel(label: "Pets and animals", description: "Dogs, cats and what they eat.", source: .llm))
        #expect(o.mode == .completion && o.calls == 1 && o.firstPromptTokens == 300)
        #expect(server.requests.count == 1 && server.requests[0].path == "/v1/completions")
        let body = try JSONSerialization.jsonObject(with: Data(server.requests[0].body.utf8)) as! [String: Any]
        #expect(body["stop"] as? [String] == CompletionPrompt.stop)
        #expect((body["prompt"] as? String)?.hasSuffix("Topic label:") == true)
        #expect(body["temperature"] as? Double == 0)
    }

    @Test("a second name after \" / \" is a second candidate, kept in the cached reply; a repeat of the label or junk is dropped")
    func otherName() async throws {
        let p = try #require(CompletionPrompt.parse(" bowed strings / orchestra strings"))
        #expect(p.label == "Bowed strings" && p.alternatives == ["Orchestra strings"])
        #expect(CompletionPrompt.parse(" Pets / pets")?.alternatives == [])
        #expect(CompletionPrompt.parse(" Linux hardware drivers") == nil)              // an example's name: an echo
        #expect(CompletionPrompt.parse(" Pets / Rye bread and cakes")?.alternatives == [])
        #expect(CompletionPrompt.parse(" Pets / keywords: dog")?.alternatives == [])
        let server = try ScriptedHTTPServer([.init(body: completionReply(" Pet care / Dogs and cats"))])
        defer { server.stop() }
        let o = await completionLabeler(server).label([request(sketch)])[0]
        #expect(o.label.label == "Pet care" && o.label.alternatives == ["Dogs and cats"])
        let reply = try #require(o.cacheableReply)
        let cached = try #require(LLMLabeler.Outcome.cached(reply, fallback: KeywordLabeler.label(sketch)))
        #expect(cached.label.alternatives == ["Dogs and cats"] && cached.label.source == .cache)
    }

    @Test("an unusable continuation is not retried and falls back, cached as such")
    func unusable() async throws {
        for junk in ["", "\n", " Keywords: dog, cat", " label_1"] {
            let server = try ScriptedHTTPServer([.init(body: completionReply(junk))])
            let o = await completionLabeler(server).label([request(sketch)])[0]
            server.stop()
            #expect(o.label.source == .keywords, "\(junk)")
            #expect(server.requests.count == 1)
            #expect(o.cacheableReply == LLMLabeler.fallbackMarker)
        }
    }

    @Test("a server without /v1/completions falls back to chat for every request")
    func fallsBackToChat() async throws {
        let server = try ScriptedHTTPServer([
            .init(status: 404, body: #"{"error": "not found"}"#),
            .init(body: chatReply(#"{"label": "Pets", "description": "About pets."}"#)),
        ])
        defer { server.stop() }
        let other = TopicSketch(index: 1, keywords: ["car"], representatives: ["cars"], contrast: [], size: 3)
        let outs = await completionLabeler(server).label([request(sketch), request(other)])
        #expect(outs.map(\.label.label) == ["Pets", "Pets"])
        #expect(outs.allSatisfy { $0.mode == .chat })
        #expect(outs[0].notes.first?.contains("no /v1/completions") == true)
        // One 404, then chat only: the second request never tries completions.
        #expect(server.requests.map(\.path) == ["/v1/completions", "/v1/chat/completions", "/v1/chat/completions"])
    }

    @Test("429 with Retry-After and 503 are retried in completion mode, four topics in flight: every label is the model's")
    func rateLimitedCompletion() async throws {
        let server = try ScriptedHTTPServer([
            .init(status: 429, headers: ["Retry-After": "1"], body: "slow down"),
            .init(status: 429, headers: ["Retry-After": "1"], body: "slow down"),
            .init(status: 503, body: "busy"),
            .init(body: completionReply(" Pets and animals\nDescription: Dogs and cats")),
        ])
        defer { server.stop() }
        var l = labeler(server)
        l.mode = .completion
        l.concurrency = 4
        let sketches = (0..<4).map { TopicSketch(index: $0, keywords: ["dog\($0)", "cat"], representatives: ["a pet"], contrast: [], size: 5) }
        let start = Date()
        let outs = await l.label(sketches.map(request))
        #expect(outs.allSatisfy { $0.label.source == .llm && $0.mode == .completion }, "\(outs.map(\.notes))")
        #expect(server.requests.count == 7)   // three refusals, four answers
        #expect(Date().timeIntervalSince(start) >= 1)   // Retry-After was honoured
    }

    @Test("a server that never recovers ends in keyword fallbacks within the client's total timeout")
    func neverRecovers() async throws {
        let server = try ScriptedHTTPServer([.init(status: 429, headers: ["Retry-After": "1"], body: "slow down")])
        defer { server.stop() }
        var c = OpenAICompatibleClient.Configuration(baseURL: server.baseURL)
        c.requestTimeout = 2.5
        c.totalTimeout = 2.5
        c.maxRetries = 100
        var l = LLMLabeler(model: "test-model", client: OpenAICompatibleClient(configuration: c))
        l.mode = .completion
        let start = Date()
        let outs = await l.label([request(sketch)])
        let seconds = Date().timeIntervalSince(start)
        #expect(outs[0].label.source == .keywords)
        #expect(outs[0].notes.contains { $0.contains("no time left") }, "\(outs[0].notes)")
        #expect(seconds < 3.5 && server.requests.count <= 3, "\(seconds) s, \(server.requests.count) requests")
    }

    @Test("the automatic mode: completion for a base model on a local server, chat otherwise")
    func automatic() {
        #expect(LabelMode.automatic(model: "gemma-3-270m", host: "127.0.0.1") == .completion)
        #expect(LabelMode.automatic(model: "gemma-3-270m-it", host: "127.0.0.1") == .chat)
        #expect(LabelMode.automatic(model: "SmolLM2-135M-Instruct", host: "localhost") == .chat)
        #expect(LabelMode.automatic(model: "gpt-4o-mini", host: "api.openai.com") == .chat)
        #expect(LabelMode.automatic(model: "llama3", host: "api.example.com") == .chat)
    }
}

@Suite("label rules: readable, distinct names")
struct LabelRulesTests {
    @Test("rejected: repeats, version strings, stray numbers, one document's title, over-long")
    func rules() {
        let kw = ["network", "protocol", "packet", "router"]
        let reps = ["IPFIX exporter for flow records", "a TCP/IP packet router", "network protocol analyser"]
        #expect(LabelRules.problem("Dict, Dictionary dict", keywords: ["dict"], representatives: []) != nil)
        #expect(LabelRules.problem("Dictionary dict", keywords: ["dict"], representatives: []) == "repeats a word")
        #expect(LabelRules.problem("person, inhabitant, native", keywords: ["person"], representatives: []) != nil)
        #expect(LabelRules.problem("algebra 10.4", keywords: ["algebra"], representatives: []) != nil)
        #expect(LabelRules.problem("NHL Season 2016", keywords: ["line", "point"], representatives: []) != nil)
        #expect(LabelRules.problem("IPFIX", keywords: kw, representatives: reps) != nil)
        #expect(LabelRules.problem("One two three four five six seven", keywords: kw, representatives: []) != nil)
        #expect(LabelRules.problem("Network protocols", keywords: kw, representatives: reps) == nil)
        #expect(LabelRules.problem("Emotions", keywords: ["feeling", "anger"], representatives: ["a strong feeling", "rage"]) == nil)
        #expect(LabelRules.problem("Taxes in 2016", keywords: ["2016", "tax"], representatives: []) == nil)
    }

    @Test("keyphrases: single keywords and stem-disjoint pairs, best first")
    func keyphrases() {
        let k = LabelRules.keyphrases(["fish", "fishes", "bird", "insect"]).map(\.text)
        #expect(k.prefix(4) == ["Fish", "Fishes", "Bird", "Insect"])
        #expect(k.contains("Fish and bird") && !k.contains("Fish and fishes"))
    }
}

@Suite("description candidates")
struct DescriptionCandidateTests {
    @Test("keyword sentences, then one and two examples; short documents are no examples")
    func candidates() {
        let kw = (1...12).map { "k\($0)" }
        let d = LabelRules.descriptions(keywords: kw, representatives: ["a dog is a loyal pet.", "cats sleep a lot", "one species"])
        #expect(d[0] == "Documents about k1, k2, k3, k4 and k5.")
        #expect(d.count == 2 + 2 * 2 + 1)   // 5 and 10 terms (15 > 12); 2 usable examples × 2; 1 pair
        #expect(d.contains("Documents about k1, k2, k3, k4 and k5, such as \"a dog is a loyal pet\"."))
        #expect(d.contains("Documents about k1, k2, k3, k4 and k5, such as \"a dog is a loyal pet\" and \"cats sleep a lot\"."))
        #expect(!d.contains { $0.contains("one species") })
    }
}

@Suite("chat format probing under load")
struct ProbingTests {
    @Test("a 503 while the format is being probed is retried with the same format, not read as a rejection")
    func transient503() async throws {
        let server = try ScriptedHTTPServer([
            .init(status: 503, body: "busy"),
            .init(status: 429, headers: ["Retry-After": "0"], body: "slow down"),
            .init(body: chatReply(#"{"label": "Pets and animals", "description": "About pets."}"#)),
        ])
        defer { server.stop() }
        let o = await labeler(server).label([LLMLabeler.Request(messages: LabelPrompt.messages(sketch), completion: nil,
                                                                fallback: KeywordLabeler.label(sketch), grounding: nil)])[0]
        #expect(o.label.label == "Pets and animals" && o.label.source == .llm)
        #expect(!o.notes.contains { $0.contains("rejected response_format") })
        #expect(server.requests.count == 3)
        #expect(server.requests.allSatisfy { $0.body.contains("json_schema") })
    }

    @Test("a 500 while probing still downgrades the format (llama.cpp's answer to json_schema)")
    func format500() async throws {
        let server = try ScriptedHTTPServer([
            .init(status: 500, body: "unsupported"),
            .init(body: chatReply(#"{"label": "Pets and animals", "description": "About pets."}"#)),
        ])
        defer { server.stop() }
        let o = await labeler(server).label([LLMLabeler.Request(messages: LabelPrompt.messages(sketch), completion: nil,
                                                                fallback: KeywordLabeler.label(sketch), grounding: nil)])[0]
        #expect(o.label.source == .llm)
        #expect(o.notes.contains { $0.contains("rejected response_format") })
        #expect(server.requests.count == 2)
    }
}
