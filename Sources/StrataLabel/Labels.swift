import Foundation

/// What the labeler sees of one topic.
public struct TopicSketch: Sendable, Codable, Equatable {
    /// Position of the topic in the current fit (not its stable id).
    public let index: Int
    /// c-TF-IDF keywords, best first.
    public let keywords: [String]
    /// Representative document texts (already truncated to the prompt budget).
    public let representatives: [String]
    /// Keywords of the nearest other topics, one string per topic, for contrast.
    public let contrast: [String]
    /// Number of documents.
    public let size: Int

    public init(index: Int, keywords: [String], representatives: [String], contrast: [String], size: Int) {
        self.index = index
        self.keywords = keywords
        self.representatives = representatives
        self.contrast = contrast
        self.size = size
    }
}

/// Where a topic's label came from (recorded as `label_source` in topics.json).
public enum LabelSource: String, Sendable, Codable, Equatable {
    /// A valid reply from the LLM.
    case llm
    /// An LLM reply that needed repair (JSON in prose, truncated JSON, over-long label).
    case llmRepaired = "llm-repaired"
    /// The keyword labeler (offline default, or fallback after the LLM failed).
    case keywords
    /// A cached LLM label for the same model and prompt.
    case cache
    /// A person's label (`strata topics rename` or `pin`), kept through incremental runs and refits.
    case user
}

/// A topic's name and description.
public struct TopicLabel: Sendable, Codable, Equatable {
    /// At most ``TopicLabel/maxLabelWords`` words.
    public var label: String
    /// At most two sentences.
    public var description: String
    public var source: LabelSource
    /// Other names the LLM proposed in the same answer (completion mode's second name, after " / "); candidates
    /// for verification, never published unverified. Not encoded.
    public var alternatives: [String] = []

    public static let maxLabelWords = 6

    enum CodingKeys: String, CodingKey { case label, description, source }

    public init(label: String, description: String, source: LabelSource, alternatives: [String] = []) {
        self.label = label
        self.description = description
        self.source = source
        self.alternatives = alternatives
    }
}

/// Names topics from their keywords alone: offline, free, deterministic.
public enum KeywordLabeler {
    /// "Word, Word, Word" from the top keywords (≤ 6 words), and a one-sentence description.
    public static func label(_ sketch: TopicSketch) -> TopicLabel {
        var words: [String] = []
        var parts: [String] = []
        for k in sketch.keywords {
            let w = k.split(separator: " ").map(String.init)
            if words.count + w.count > TopicLabel.maxLabelWords { break }
            if parts.count == 3 { break }
            words += w
            parts.append(k)
        }
        let label = parts.isEmpty ? "Topic \(sketch.index)" : parts.map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined(separator: ", ")
        let description = sketch.keywords.isEmpty
            ? "A group of \(sketch.size) documents."
            : "Documents about \(sketch.keywords.prefix(10).joined(separator: ", "))."
        return TopicLabel(label: label, description: description, source: .keywords)
    }
}

/// Makes labels unique across topics by appending the first distinguishing keyword (or a number).
public func disambiguate(_ labels: inout [TopicLabel], sketches: [TopicSketch]) {
    var seen: [String: Int] = [:]
    for i in labels.indices {
        let key = labels[i].label.lowercased()
        if seen[key] == nil { seen[key] = i; continue }
        let used = Set(labels[i].label.lowercased().split(separator: " ").map(String.init))
        if let extra = sketches[i].keywords.first(where: { !used.contains($0) && !$0.contains(" ") }) {
            var words = labels[i].label.split(separator: " ").map(String.init)
            if words.count >= TopicLabel.maxLabelWords { words.removeLast() }
            labels[i].label = (words + ["(\(extra))"]).joined(separator: " ")
        }
        var candidate = labels[i].label
        var n = 2
        while seen[candidate.lowercased()] != nil { candidate = labels[i].label + " \(n)"; n += 1 }
        labels[i].label = candidate
        seen[candidate.lowercased()] = i
    }
}
