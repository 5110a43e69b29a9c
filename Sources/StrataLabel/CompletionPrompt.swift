import Foundation

/// How the LLM is asked for a label.
///
/// - `chat`: one user message on `/v1/chat/completions` with structured output (JSON schema, or
///   the strongest format the server accepts). Right for instruction-tuned models.
/// - `completion`: a few-shot text pattern on `/v1/completions`, the model continues it after
///   "Topic label:". Base models (the shipped Gemma 3 270M is one) continue patterns far better than
///   they follow instructions: on the demo's 12 topics, 10 sensible labels against 8.
public enum LabelMode: String, Sendable, Codable, CaseIterable {
    case chat, completion

    /// The automatic choice for a model name and server: `completion` for a model on a local server
    /// (loopback host) whose name does not say it is instruction-tuned (`instruct`, `-it`, `chat`),
    /// `chat` otherwise (hosted APIs serve instruction-tuned models and often no `/v1/completions`).
    /// A server that answers `/v1/completions` with 404/405/501 falls back to chat at run time.
    public static func automatic(model: String, host: String?) -> LabelMode {
        let local = host.map { ["127.0.0.1", "localhost", "::1", "[::1]"].contains($0) || $0.hasPrefix("127.") } ?? false
        let m = model.lowercased()
        let tuned = ["instruct", "-it", "_it", "chat", "gpt-", "claude", "-rl", "sft", "dpo"].contains { m.contains($0) }
        return local && !tuned ? .completion : .chat
    }
}

/// Few-shot text prompts for `/v1/completions`: five fixed, made-up examples of the pattern, then
/// three short representative documents of the topic and its keywords, ending at "Topic label:". The
/// model writes one line: the label, " / ", and a longer name (two candidates from one request); generation
/// stops at the end of that line. Pure: the same sketch always gives the
/// same prompt (and cache key).
///
/// The examples' names have 2–4 words at the level a person would file documents under ("Bowed string
/// instruments", not "Violin"): a base model copies the examples' shape, and with one-word examples
/// most of its labels were one word (BENCHMARKS "Specific labels"). Documents come before keywords:
/// shown keywords first, Gemma 3 270M answered a quarter of the demo's topics with the keyword list.
public enum CompletionPrompt {
    /// Stop sequences sent with every completion request: the end of the answer's line.
    public static let stop = ["\n"]
    /// Words kept of each representative document.
    public static let exampleWords = 18
    /// Representative documents shown per topic.
    public static let exampleCount = 3
    /// Keywords shown per topic.
    public static let keywordCount = 5
    /// What separates the two names on the answer's line: the label, then a longer, more specific name
    /// (3–5 words in the examples). One line rather than a second "Longer name:" line: the model
    /// generates about 30% fewer tokens (100 topics in 72 s instead of 89 s, BENCHMARKS "Specific labels").
    static let separator = " / "

    static let topicExamples = """
        Examples: "a bowed stringed instrument with four strings"; "the lowest member of the violin family"; "a musician who plays the viola in an orchestra"
        Keywords: violin, cello, strings, bow, orchestra
        Topic label: Bowed string instruments / Violin family instruments

        Examples: "I was charged twice for my subscription this month"; "where can I download last year's invoices"; "the refund never reached my card"
        Keywords: refund, invoice, charge, payment, card
        Topic label: Billing and refunds / Double charges and refunds

        Examples: "molten rock that reaches the surface of the earth"; "a mountain formed by erupted material"; "the ash cloud closed airports for a week"
        Keywords: volcano, lava, eruption, magma, crater
        Topic label: Volcanic eruptions / Lava flows and ash

        Examples: "loadable kernel module for a wireless network card"; "firmware needed by the graphics driver at boot"; "the kernel panics when the module loads"
        Keywords: kernel, driver, module, boot, firmware
        Topic label: Linux hardware drivers / Wireless card drivers

        Examples: "a loaf of bread made from rye flour"; "dough left to rise overnight before baking"; "a small sweet cake baked in a tin"
        Keywords: bread, flour, dough, oven, baked
        Topic label: Baking bread and cakes / Rye bread and cakes


        """

    static let parentExamples = """
        Subtopics: Bowed string instruments; Drums and percussion; Choir singing
        Keywords: music, instrument, song, sound, play
        Group label: Music and performance / Music played and sung

        Subtopics: Billing and refunds; Password resets; Account deletion
        Keywords: account, charge, login, password, refund
        Group label: Customer account support / Customer accounts and payments

        Subtopics: Volcanic eruptions; Earthquakes; Plate tectonics
        Keywords: earth, rock, crust, plate, eruption
        Group label: Earth sciences / Forces shaping the earth's crust

        Subtopics: Linux hardware drivers; File systems; Process scheduling
        Keywords: kernel, disk, memory, process, driver
        Group label: Operating system internals / Operating system kernel design


        """

    /// One line of text, quotes and newlines removed, at most `words` words.
    static func excerpt(_ text: String, words: Int) -> String {
        let w = text.split(whereSeparator: { $0.isWhitespace }).prefix(words).joined(separator: " ")
        return w.replacingOccurrences(of: "\"", with: "'")
    }

    /// The prompt for one topic.
    public static func topic(_ s: TopicSketch) -> String {
        let examples = s.representatives.prefix(exampleCount).map { "\"\(excerpt($0, words: exampleWords))\"" }.joined(separator: "; ")
        return topicExamples + "Examples: \(examples)\nKeywords: \(s.keywords.prefix(keywordCount).joined(separator: ", "))\nTopic label:"
    }

    /// The prompt for a parent of several topics (`childLabels`) with the parent's own keywords.
    public static func parent(childLabels: [String], keywords: [String]) -> String {
        parentExamples + "Subtopics: \(childLabels.joined(separator: "; "))\n"
            + "Keywords: \(keywords.prefix(5).joined(separator: ", "))\nGroup label:"
    }

    /// Parses a continuation: the first line holds the label and, after " / ", a second candidate (the
    /// longer name); the description is the text after a "Description:" line. Nil when no plausible label
    /// is there (empty, an echo of the pattern).
    public static func parse(_ continuation: String) -> ReplyParser.Parsed? {
        let lines = continuation.split(separator: "\n", omittingEmptySubsequences: true).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        guard let first = lines.first else { return nil }
        let names = first.components(separatedBy: separator)
        guard var (label, repaired) = name(names[0]) else { return nil }
        label = label.prefix(1).uppercased() + label.dropFirst()
        var alternatives: [String] = []
        if names.count > 1, let (other, _) = name(names[1]), other.lowercased() != label.lowercased() {
            alternatives.append(other.prefix(1).uppercased() + other.dropFirst())
        }
        var description = ""
        if let d = lines.dropFirst().first(where: { $0.lowercased().hasPrefix("description:") }) {
            description = ReplyParser.clean(String(d.dropFirst("description:".count)), trimming: " \"'*`#")
            if let s = ReplyParser.splitSentences(description).first, s != description { description = s; repaired = true }
            if !description.isEmpty && !description.hasSuffix(".") { description += "." }
        }
        return ReplyParser.Parsed(label: label, description: description, repaired: repaired, alternatives: alternatives)
    }

    /// One line as a name: cleaned, cut to ``TopicLabel/maxLabelWords`` words (repaired = true), nil
    /// when empty or not plausible.
    static func name(_ line: String) -> (String, Bool)? {
        var label = ReplyParser.clean(line)
        var repaired = false
        if label.split(separator: " ").count > TopicLabel.maxLabelWords {
            label = label.split(separator: " ").prefix(TopicLabel.maxLabelWords).joined(separator: " ")
            repaired = true
        }
        guard !label.isEmpty, ReplyParser.isPlausibleLabel(label), !exampleNames.contains(label.lowercased()) else { return nil }
        return (label, repaired)
    }

    /// The examples' own names, lowercased: a continuation that repeats one copies the pattern, it does
    /// not name the topic.
    static let exampleNames: Set<String> = Set((topicExamples + parentExamples).split(separator: "\n").flatMap { line -> [String] in
        guard let colon = line.firstIndex(of: ":"), ["Topic label", "Group label"].contains(line[..<colon].trimmingCharacters(in: .whitespaces)) else { return [] }
        return line[line.index(after: colon)...].components(separatedBy: separator).map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
    })
}
