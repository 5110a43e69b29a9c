import Foundation

/// Validates and repairs the JSON replies of small LLMs.
public enum ReplyParser {
    /// A parsed reply.
    public struct Parsed: Sendable, Equatable {
        public let label: String
        public let description: String
        /// True when anything had to be fixed (prose around JSON, truncation, over-long fields).
        public let repaired: Bool
        /// Other names the model gave (completion mode's second name, after " / "), each a plausible label.
        public var alternatives: [String] = []
        public init(label: String, description: String, repaired: Bool, alternatives: [String] = []) {
            self.label = label; self.description = description; self.repaired = repaired; self.alternatives = alternatives
        }
    }

    /// Extracts `{"label": …, "description": …}` from `content`, repairing common defects.
    /// Returns nil when no usable label can be recovered (empty, prompt echo, no label field).
    public static func parse(_ content: String) -> Parsed? {
        var text = content.trimmingCharacters(in: .whitespacesAndNewlines)
        if text.hasPrefix("```") {
            text = text.split(separator: "\n", omittingEmptySubsequences: false).dropFirst()
                .filter { !$0.hasPrefix("```") }.joined(separator: "\n")
        }
        guard !text.isEmpty else { return nil }
        var repaired = text != content.trimmingCharacters(in: .whitespacesAndNewlines)
        var object = decode(text)
        if object == nil {
            // Raw newlines or tabs inside strings (seen from grammar-constrained small models).
            let escaped = escapeControlCharactersInStrings(text)
            if escaped != text, let o = decode(escaped) { object = o; text = escaped; repaired = true }
        }
        if object == nil, let start = text.firstIndex(of: "{") {
            repaired = true
            let tail = escapeControlCharactersInStrings(String(text[start...]))
            object = decode(balancedPrefix(tail) ?? closeTruncated(tail))
        }
        var label = object?["label"] as? String
        var description = object?["description"] as? String
        if label == nil, let l = field("label", in: text) { label = l; description = description ?? field("description", in: text); repaired = true }
        guard var l = label.map({ clean($0) }), !l.isEmpty else { return nil }
        // Prompt echoes and rambling are not labels.
        if !isPlausibleLabel(l) { return nil }
        let words = l.split(separator: " ")
        if words.count > TopicLabel.maxLabelWords {
            l = words.prefix(TopicLabel.maxLabelWords).joined(separator: " ")
            repaired = true
        }
        var d = clean(description ?? "", trimming: " \"'*`#")
        if description == nil { repaired = true }
        let sentences = splitSentences(d)
        if sentences.count > 2 { d = sentences.prefix(2).joined(separator: " "); repaired = true }
        if d.count > 400 { d = String(d.prefix(400)); repaired = true }
        let alternatives = (object?["alternatives"] as? [String] ?? []).map { clean($0) }.filter { !$0.isEmpty && isPlausibleLabel($0) }
        return Parsed(label: l, description: d, repaired: repaired, alternatives: alternatives)
    }

    /// Rejects echoes of the prompt, placeholders, identifiers and punctuation: a label needs a word of
    /// at least three letters and must not be about labels, JSON, keywords or descriptions.
    public static func isPlausibleLabel(_ label: String) -> Bool {
        let lower = label.lowercased()
        if label.count > 80 || lower.contains("_") { return false }
        let banned = ["keyword", "json", "label", "description of", "a description", "topic", "cluster", "document",
                      "model", "placeholder", "words", "example"]
        if banned.contains(where: { lower.contains($0) }) { return false }
        let words = lower.split(whereSeparator: { !$0.isLetter })
        return words.contains { $0.count >= 3 }
    }

    /// True when some content word of `label` (or its first five letters, a crude stem) occurs in
    /// `context` — the topic's keywords and representative texts. Catches fluent labels that have
    /// nothing to do with the documents.
    public static func isGrounded(_ label: String, in context: String) -> Bool {
        let haystack = context.lowercased()
        let words = label.lowercased().split(whereSeparator: { !$0.isLetter }).map(String.init).filter { $0.count >= 3 }
        return words.contains { w in haystack.contains(w) || (w.count > 5 && haystack.contains(String(w.prefix(5)))) }
    }

    /// Replaces raw control characters inside JSON strings with spaces.
    static func escapeControlCharactersInStrings(_ s: String) -> String {
        var out = ""
        var inString = false, escaped = false
        for ch in s {
            if inString {
                if escaped { escaped = false } else if ch == "\\" { escaped = true } else if ch == "\"" { inString = false }
                else if ch.isNewline || ch == "\t" || (ch.asciiValue.map { $0 < 0x20 } ?? false) { out.append(" "); continue }
            } else if ch == "\"" { inString = true }
            out.append(ch)
        }
        return out
    }

    static func decode(_ s: String) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(s.utf8))) as? [String: Any]
    }

    /// The shortest prefix of `s` (starting with `{`) whose braces balance, ignoring braces in strings.
    static func balancedPrefix(_ s: String) -> String? {
        var depth = 0, inString = false, escaped = false
        for (i, ch) in s.enumerated() {
            if inString {
                if escaped { escaped = false } else if ch == "\\" { escaped = true } else if ch == "\"" { inString = false }
                continue
            }
            if ch == "\"" { inString = true } else if ch == "{" { depth += 1 } else if ch == "}" {
                depth -= 1
                if depth == 0 { return String(s.prefix(i + 1)) }
            }
        }
        return nil
    }

    /// Closes an unterminated string and any open braces of a truncated JSON object.
    static func closeTruncated(_ s: String) -> String {
        var depth = 0, inString = false, escaped = false
        for ch in s {
            if inString {
                if escaped { escaped = false } else if ch == "\\" { escaped = true } else if ch == "\"" { inString = false }
                continue
            }
            if ch == "\"" { inString = true } else if ch == "{" { depth += 1 } else if ch == "}" { depth -= 1 }
        }
        var out = s
        if escaped { out.removeLast() }
        if inString { out += "\"" }
        var trimmed = out.trimmingCharacters(in: .whitespacesAndNewlines)
        while trimmed.hasSuffix(",") || trimmed.hasSuffix(":") { trimmed.removeLast() }
        if trimmed.hasSuffix("\"description\"") || trimmed.hasSuffix("\"label\"") { trimmed += ": \"\"" }
        return trimmed + String(repeating: "}", count: max(0, depth))
    }

    /// `"name": "value"` found anywhere in the text (value may be unterminated).
    static func field(_ name: String, in text: String) -> String? {
        guard let key = text.range(of: "\"\(name)\"") else { return nil }
        var rest = text[key.upperBound...].drop(while: { $0 == " " || $0 == ":" || $0 == "\n" })
        guard rest.first == "\"" else { return nil }
        rest = rest.dropFirst()
        var value = ""
        var escaped = false
        for ch in rest {
            if escaped { value.append(ch); escaped = false; continue }
            if ch == "\\" { escaped = true; continue }
            if ch == "\"" { break }
            value.append(ch)
        }
        return value
    }

    static func clean(_ s: String, trimming: String = " \"'*`#.:;-") -> String {
        let t = s.replacingOccurrences(of: "\n", with: " ").split(separator: " ").joined(separator: " ")
        return t.trimmingCharacters(in: CharacterSet(charactersIn: trimming))
    }

    static func splitSentences(_ s: String) -> [String] {
        var out: [String] = []
        var current = ""
        for ch in s {
            current.append(ch)
            if ch == "." || ch == "!" || ch == "?" {
                out.append(current.trimmingCharacters(in: .whitespaces))
                current = ""
            }
        }
        let rest = current.trimmingCharacters(in: .whitespaces)
        if !rest.isEmpty { out.append(rest) }
        return out
    }
}
