import Foundation

/// Where a label candidate came from.
public enum CandidateOrigin: String, Sendable, Codable, Equatable {
    /// The LLM's answer.
    case llm
    /// The LLM's other, longer name for the same topic (completion mode's second name, after " / ").
    case llmLonger
    /// A keyphrase from the topic's c-TF-IDF n-grams (one keyword, or two joined by "and").
    case keyphrase
    /// A label kept from an earlier run or the keyword labeler's list.
    case given
}

/// A label a topic could be published with.
public struct LabelCandidate: Sendable, Equatable {
    public var text: String
    public var origin: CandidateOrigin
    public init(text: String, origin: CandidateOrigin) { self.text = text; self.origin = origin }
}

/// What a published label must look like: a readable name of 1–6 words (not a comma-separated list)
/// with no word or stem repeated, no version string or stray number, and not just one document's title.
public enum LabelRules {
    /// A crude stem: lowercased letters, trailing "s"/"es"/"ies" removed, at most 6 letters ("dict" and
    /// "dictionary" share one; so do "tax" and "taxes").
    static func stem(_ word: Substring) -> String {
        var w = word.lowercased()
        for suffix in ["ies", "es", "s"] where w.count > suffix.count + 2 && w.hasSuffix(suffix) { w.removeLast(suffix.count); break }
        return String(w.prefix(6))
    }

    /// Two stems of one word: equal, or one a prefix (≥ 4 letters) of the other ("dict", "dictio").
    static func sameStem(_ a: String, _ b: String) -> Bool {
        a == b || (min(a.count, b.count) >= 4 && (a.hasPrefix(b) || b.hasPrefix(a)))
    }

    static func words(_ label: String) -> [Substring] {
        label.split(whereSeparator: { !$0.isLetter && !$0.isNumber && $0 != "'" && $0 != "-" })
    }

    static let stopwords: Set<String> = ["and", "or", "of", "the", "a", "an", "in", "on", "for", "to", "with", "by", "at"]

    /// Why `label` cannot be published, or nil when it can. `keywords` are the topic's c-TF-IDF terms
    /// (numbers that occur there are allowed); `representatives` its representative document texts.
    public static func problem(_ label: String, keywords: [String], representatives: [String]) -> String? {
        let w = words(label)
        if w.isEmpty { return "empty" }
        if w.count > TopicLabel.maxLabelWords { return "more than \(TopicLabel.maxLabelWords) words" }
        if !ReplyParser.isPlausibleLabel(label) { return "not a name (echo, placeholder or punctuation)" }
        if label.filter({ $0 == "," || $0 == ";" || $0 == "/" || $0 == "|" }).count >= 1 { return "a list, not a name" }
        let content = w.filter { !stopwords.contains($0.lowercased()) }
        let stems = content.map(stem)
        for i in stems.indices { for j in stems.indices where j > i && sameStem(stems[i], stems[j]) { return "repeats a word" } }
        if label.range(of: #"\d+\.\d+|\bv\d"#, options: .regularExpression) != nil { return "a version string" }
        let keywordText = keywords.joined(separator: " ").lowercased()
        if let number = w.first(where: { $0.contains(where: \.isNumber) }), !keywordText.contains(number.lowercased()) {
            return "a number not among the keywords (\(number))"
        }
        if namesOneDocument(content, keywords: keywordText, representatives: representatives) { return "one document's title" }
        return nil
    }

    /// True when none of the label's content words is a keyword and all of them occur in exactly one
    /// representative document: the label names that document, not the topic ("IPFIX", "Courier MTA").
    static func namesOneDocument(_ content: [Substring], keywords: String, representatives: [String]) -> Bool {
        guard representatives.count >= 2, !content.isEmpty, content.enumerated().contains(where: isNameLike) else { return false }
        let lowered = content.map { $0.lowercased() }
        if lowered.contains(where: { keywords.contains(stem(Substring($0))) }) { return false }
        let containing = representatives.filter { r in
            let text = r.lowercased()
            return lowered.allSatisfy { text.contains($0) }
        }
        let anyWordElsewhere = lowered.contains { w in representatives.filter { $0.lowercased().contains(w) }.count >= 2 }
        return containing.count == 1 && !anyWordElsewhere
    }

    /// A word that reads as a proper name or code: an upper-case letter after its first character
    /// ("IPFIX", "MTA", "iPhone"), a digit, or a capital on a word other than the first.
    static func isNameLike(_ position: Int, _ word: Substring) -> Bool {
        word.dropFirst().contains(where: \.isUppercase) || word.contains(where: \.isNumber) || (position > 0 && word.first?.isUppercase == true)
    }

    /// A keyword as a label: first letter capitalised.
    static func titled(_ s: String) -> String { s.prefix(1).uppercased() + s.dropFirst() }

    /// Keyphrase candidates from c-TF-IDF keywords: each of the first six keywords, and "A and B" for
    /// pairs of the first four, skipping pairs that share a stem. Best keywords first.
    public static func keyphrases(_ keywords: [String]) -> [LabelCandidate] {
        var out: [LabelCandidate] = []
        for k in keywords.prefix(6) { out.append(LabelCandidate(text: titled(k), origin: .keyphrase)) }
        let top = Array(keywords.prefix(4))
        for i in top.indices {
            for j in top.indices where j > i {
                let a = words(top[i]).map(stem), b = words(top[j]).map(stem)
                if a.contains(where: { x in b.contains { sameStem(x, $0) } }) { continue }
                out.append(LabelCandidate(text: titled(top[i]) + " and " + top[j], origin: .keyphrase))
            }
        }
        return out
    }

    /// Second-round keyphrases for a topic none of whose first candidates lands on it: keywords 7–20
    /// alone, and the first keyword joined with each of keywords 2–10.
    public static func moreKeyphrases(_ keywords: [String]) -> [LabelCandidate] {
        var out = keywords.dropFirst(6).prefix(14).map { LabelCandidate(text: titled($0), origin: .keyphrase) }
        if let first = keywords.first {
            for k in keywords.dropFirst().prefix(9) where !words(k).contains(where: { w in words(first).contains { sameStem(stem($0), stem(w)) } }) {
                out.append(LabelCandidate(text: titled(first) + " and " + k, origin: .keyphrase))
            }
        }
        return out
    }

    /// Description candidates besides the LLM's, each one sentence grounded in the topic: keyword
    /// sentences of 5, 10, 15 and 20 c-TF-IDF terms; the 5- and 10-term sentences followed by one
    /// example — the start (≤ `exampleWords` words) of one of the first `examples` representative
    /// documents; and the 5-term sentence with two examples. At most 4 + 3·`examples` + C(examples, 2)
    /// sentences (24 with the defaults). Measured on the full corpora (BENCHMARKS "Verified labels"):
    /// examples lift label fidelity from 0.648 to 0.734 (WordNet nouns) and 0.532 to 0.633 (fortunes).
    public static func descriptions(keywords: [String], representatives: [String] = [], examples: Int = 5,
                                    exampleWords: Int = 20) -> [String] {
        guard !keywords.isEmpty else { return [] }
        func about(_ n: Int) -> String {
            let list = keywords.prefix(n)
            return list.count == 1 ? list[list.startIndex] : list.dropLast().joined(separator: ", ") + " and " + list.last!
        }
        var out: [String] = []
        for n in [5, 10, 15, 20] where n <= max(5, keywords.count) {
            let candidate = "Documents about \(about(n))."
            if !out.contains(candidate) { out.append(candidate) }
        }
        let excerpts: [String] = representatives.prefix(examples).compactMap { r in
            let words = r.split(whereSeparator: \.isWhitespace).filter { $0 != "…" }
            var excerpt = words.prefix(exampleWords).joined(separator: " ").replacingOccurrences(of: "\"", with: "'")
            while let last = excerpt.last, ".,;:!?".contains(last) { excerpt.removeLast() }
            if words.count > exampleWords { excerpt += " …" }
            return words.count < 4 ? nil : excerpt   // "one species" is no example
        }
        for e in excerpts {
            for n in [5, 10] where n <= max(5, keywords.count) {
                let candidate = "Documents about \(about(n)), such as \"\(e)\"."
                if !out.contains(candidate) { out.append(candidate) }
            }
        }
        for i in excerpts.indices {
            for j in excerpts.indices where j > i {
                let candidate = "Documents about \(about(5)), such as \"\(excerpts[i])\" and \"\(excerpts[j])\"."
                if !out.contains(candidate) { out.append(candidate) }
            }
        }
        return out
    }
}
