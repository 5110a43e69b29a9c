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

/// Few-shot text prompts for `/v1/completions`: three fixed, made-up examples of the pattern, then
/// the topic's keywords and two short representative documents, ending at "Topic label:". The model
/// writes a label line and a description line; generation stops at the blank line before the next
/// example would start. Pure: the same sketch always gives the same prompt (and cache key).
public enum CompletionPrompt {
    /// Stop sequences sent with every completion request: the label line only. (Asking for the
    /// description line too doubled the tokens generated — 100 topics took 108 s instead of ≤ 60 s on
    /// 2 cores — and verification chose a keyword sentence over it for most topics anyway.)
    public static let stop = ["\n"]
    /// Words kept of each representative document.
    public static let exampleWords = 18
    /// Keywords shown per topic.
    public static let keywordCount = 6

    static let topicExamples = """
        Keywords: violin, cello, strings, bow, orchestra, viola
        Examples: "a bowed stringed instrument with four strings"; "the lowest member of the violin family"
        Topic label: String instruments
        Description: Bowed and plucked instruments with strings and the music played on them.

        Keywords: refund, invoice, charge, payment, billing, card
        Examples: "I was charged twice for my subscription this month"; "where can I download last year's invoices"
        Topic label: Billing and refunds
        Description: Questions about charges, invoices, payment methods and refunds.

        Keywords: volcano, lava, eruption, magma, crater, ash
        Examples: "molten rock that reaches the surface of the earth"; "a mountain formed by erupted material"
        Topic label: Volcanoes
        Description: Volcanic landforms, eruptions, lava and magma.


        """

    static let parentExamples = """
        Subtopics: String instruments; Drums and percussion; Choirs and singing
        Keywords: music, instrument, song, sound, play
        Group label: Music
        Description: Musical instruments, singing and performance.

        Subtopics: Billing and refunds; Password resets; Account deletion
        Keywords: account, charge, login, password, refund
        Group label: Customer accounts
        Description: Questions about customers' accounts, sign-in and payments.

        Subtopics: Volcanoes; Earthquakes; Plate tectonics
        Keywords: earth, rock, crust, plate, eruption
        Group label: Geology
        Description: The structure of the earth and the forces that shape it.


        """

    /// One line of text, quotes and newlines removed, at most `words` words.
    static func excerpt(_ text: String, words: Int) -> String {
        let w = text.split(whereSeparator: { $0.isWhitespace }).prefix(words).joined(separator: " ")
        return w.replacingOccurrences(of: "\"", with: "'")
    }

    /// The prompt for one topic.
    public static func topic(_ s: TopicSketch) -> String {
        let examples = s.representatives.prefix(2).map { "\"\(excerpt($0, words: exampleWords))\"" }.joined(separator: "; ")
        return topicExamples + "Keywords: \(s.keywords.prefix(keywordCount).joined(separator: ", "))\n"
            + "Examples: \(examples)\nTopic label:"
    }

    /// The prompt for a parent of several topics (`childLabels`) with the parent's own keywords.
    public static func parent(childLabels: [String], keywords: [String]) -> String {
        parentExamples + "Subtopics: \(childLabels.joined(separator: "; "))\n"
            + "Keywords: \(keywords.prefix(5).joined(separator: ", "))\nGroup label:"
    }

    /// Parses a continuation: the label is the first line, the description the text after a
    /// "Description:" line. Nil when no plausible label is there (empty, an echo of the pattern).
    public static func parse(_ continuation: String) -> ReplyParser.Parsed? {
        let lines = continuation.split(separator: "\n", omittingEmptySubsequences: true).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        guard let first = lines.first else { return nil }
        var label = ReplyParser.clean(String(first))
        var repaired = false
        if label.split(separator: " ").count > TopicLabel.maxLabelWords {
            label = label.split(separator: " ").prefix(TopicLabel.maxLabelWords).joined(separator: " ")
            repaired = true
        }
        guard !label.isEmpty, ReplyParser.isPlausibleLabel(label) else { return nil }
        label = label.prefix(1).uppercased() + label.dropFirst()
        var description = ""
        if let d = lines.dropFirst().first(where: { $0.lowercased().hasPrefix("description:") }) {
            description = ReplyParser.clean(String(d.dropFirst("description:".count)), trimming: " \"'*`#")
            if let s = ReplyParser.splitSentences(description).first, s != description { description = s; repaired = true }
            if !description.isEmpty && !description.hasSuffix(".") { description += "." }
        }
        return ReplyParser.Parsed(label: label, description: description, repaired: repaired)
    }
}
