import Foundation

/// The shape of a set of published labels, the way a person reading a filter menu sees it: how many
/// words each label has, how many are a single word, which are duplicates, and which parent labels are
/// two of their children's labels joined ("Plants and fish"). Pure and cheap (O(total characters)).
public enum LabelShape {
    /// Words of a label: runs of letters, digits, apostrophes or hyphens ("X11 window managers" → 3).
    public static func wordCount(_ label: String) -> Int { LabelRules.words(label).count }

    /// True when `label` is two of `children` joined by "and", "&" or "/" ("Plants and fish" over
    /// children "Plants" and "Fish"), compared case-insensitively; a parent named this way describes
    /// nothing its children do not already say.
    public static func isConjunction(_ label: String, of children: [String]) -> Bool {
        let lowered = Set(children.map { normalized($0) }.filter { !$0.isEmpty })
        guard lowered.count >= 2 else { return false }
        let text = " " + normalized(label) + " "
        for joiner in [" and ", " & ", " / "] {
            let parts = text.components(separatedBy: joiner)
            guard parts.count == 2 else { continue }
            let a = parts[0].trimmingCharacters(in: .whitespaces), b = parts[1].trimmingCharacters(in: .whitespaces)
            if a != b && lowered.contains(a) && lowered.contains(b) { return true }
        }
        return false
    }

    /// True when two labels are the same name up to case and plural endings ("Skin disease",
    /// "skin diseases"): their words' crude stems (``LabelRules``) agree one by one.
    public static func sameName(_ a: String, _ b: String) -> Bool {
        let x = LabelRules.words(a).map(LabelRules.stem), y = LabelRules.words(b).map(LabelRules.stem)
        return !x.isEmpty && x == y
    }

    static func normalized(_ s: String) -> String {
        s.lowercased().split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    /// Headline figures over labels.
    public struct Summary: Codable, Sendable, Equatable {
        /// Median words per label (the mean of the two middle ones for an even count); 0 for none.
        public var medianWords: Double
        /// Share of labels with exactly one word (0…1); 0 for none.
        public var oneWordShare: Double
        /// Labels that occur more than once (case-insensitive), each listed once, sorted.
        public var duplicates: [String]
        public init(medianWords: Double, oneWordShare: Double, duplicates: [String]) {
            self.medianWords = medianWords; self.oneWordShare = oneWordShare; self.duplicates = duplicates
        }
        enum CodingKeys: String, CodingKey {
            case medianWords = "median_words", oneWordShare = "one_word_share", duplicates
        }
    }

    /// The summary of `labels` (empty input: zeros and no duplicates).
    public static func summary(_ labels: [String]) -> Summary {
        let counts = labels.map(wordCount).sorted()
        var median = 0.0
        if !counts.isEmpty {
            let m = counts.count / 2
            median = counts.count % 2 == 1 ? Double(counts[m]) : Double(counts[m - 1] + counts[m]) / 2
        }
        let ones = counts.filter { $0 == 1 }.count
        var seen: [String: Int] = [:]
        for l in labels { seen[normalized(l), default: 0] += 1 }
        return Summary(medianWords: median, oneWordShare: labels.isEmpty ? 0 : Double(ones) / Double(labels.count),
                       duplicates: seen.filter { $0.value > 1 }.map(\.key).sorted())
    }
}
