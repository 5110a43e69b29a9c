import Foundation

/// Word tokenisation for topic keywords: lower-cased runs of letters/digits (apostrophes inside
/// words kept), at least 2 characters, pure numbers and English stop words dropped; unigrams plus
/// bigrams of adjacent kept words.
public enum KeywordTokenizer {
    /// Common English function words (articles, pronouns, auxiliaries, prepositions, conjunctions,
    /// frequent adverbs) that never make useful topic keywords.
    public static let stopWords: Set<String> = Set("""
        a about above across after afterwards again against all almost alone along already also although always am \
        among amongst an and another any anyhow anyone anything anyway anywhere are around as at back be became \
        because become becomes becoming been before beforehand behind being below beside besides between beyond both \
        but by can cannot could did do does doing done down due during each either else elsewhere enough etc even \
        ever every everyone everything everywhere except few for former formerly from further get gets got had has \
        have having he hence her here hereafter hereby herein hers herself him himself his how however i if in \
        indeed into is it its itself just keep last latter latterly least less let like made make many may me \
        meanwhile might mine more moreover most mostly much must my myself namely neither never nevertheless next \
        no nobody none noone nor not nothing now nowhere of off often on once one only onto or other others \
        otherwise our ours ourselves out over own per perhaps please put quite rather re really same say says said \
        see seem seemed seeming seems several she should since so some somehow someone something sometime sometimes \
        somewhere still such than that the their theirs them themselves then thence there thereafter thereby \
        therefore therein thereupon these they thing things this those though through throughout thru thus to \
        together too toward towards under until up upon us use used using very via was we well were what whatever \
        when whence whenever where whereafter whereas whereby wherein whereupon wherever whether which while whither \
        who whoever whole whom whose why will with within without would yet you your yours yourself yourselves \
        ll ve don doesn didn isn wasn aren weren won wouldn shouldn couldn can't don't it's i'm you're \
        two three four five six seven eight nine ten hundred thousand first second third
        """.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init))

    /// Kept words of `text`, in order.
    public static func words(_ text: String) -> [String] {
        var out: [String] = []
        var current = ""
        func flush() {
            var w = current
            while w.hasSuffix("'") { w.removeLast() }
            while w.hasPrefix("'") { w.removeFirst() }
            if w.hasSuffix("'s") { w.removeLast(2) }
            if w.count >= 2, !stopWords.contains(w), !w.allSatisfy(\.isNumber) { out.append(w) }
            current = ""
        }
        for ch in text.lowercased() {
            if ch.isLetter || ch.isNumber || (ch == "'" && !current.isEmpty) { current.append(ch) } else if !current.isEmpty { flush() }
        }
        if !current.isEmpty { flush() }
        return out
    }

    /// Unigrams and bigrams of `text`.
    public static func terms(_ text: String) -> [String] {
        let w = words(text)
        var t = w
        if w.count > 1 { for i in 0..<(w.count - 1) { t.append(w[i] + " " + w[i + 1]) } }
        return t
    }
}

/// Class-based TF-IDF (c-TF-IDF, as in BERTopic): all documents of a topic form one class document;
/// a term's weight in a class is its L1-normalised frequency there times log(1 + A / f), where A is
/// the average number of term occurrences per class and f the term's total frequency over all
/// classes. Terms found in fewer than `minDocumentFrequency` documents are ignored.
public enum ClassTFIDF {
    /// One weighted keyword.
    public struct Keyword: Sendable, Equatable, Codable {
        public let term: String
        public let weight: Double
    }

    /// Top `count` keywords per class. `labels[i]` is document i's class in `0..<classCount`
    /// (negative labels are ignored). O(total terms + vocabulary · classes).
    public static func keywords(texts: [String], labels: [Int], classCount: Int, count: Int = 10,
                                minDocumentFrequency: Int = 2) -> [[Keyword]] {
        precondition(texts.count == labels.count)
        var vocabulary: [String: Int] = [:]
        var documentFrequency: [Int] = []
        var perDoc: [[Int]] = []
        perDoc.reserveCapacity(texts.count)
        for text in texts {
            var ids: [Int] = []
            var seen = Set<Int>()
            for term in KeywordTokenizer.terms(text) {
                let id: Int
                if let existing = vocabulary[term] { id = existing } else {
                    id = vocabulary.count
                    vocabulary[term] = id
                    documentFrequency.append(0)
                }
                ids.append(id)
                if seen.insert(id).inserted { documentFrequency[id] += 1 }
            }
            perDoc.append(ids)
        }
        let kept = documentFrequency.map { $0 >= minDocumentFrequency }
        var classCounts = [[Int: Double]](repeating: [:], count: classCount)
        var totalFrequency = [Double](repeating: 0, count: vocabulary.count)
        for (ids, label) in zip(perDoc, labels) where label >= 0 && label < classCount {
            for id in ids where kept[id] {
                classCounts[label][id, default: 0] += 1
                totalFrequency[id] += 1
            }
        }
        let classSizes = classCounts.map { $0.values.reduce(0, +) }
        let nonEmpty = classSizes.filter { $0 > 0 }
        let average = nonEmpty.isEmpty ? 0 : nonEmpty.reduce(0, +) / Double(nonEmpty.count)
        var terms = [String](repeating: "", count: vocabulary.count)
        for (t, id) in vocabulary { terms[id] = t }
        return (0..<classCount).map { c in
            guard classSizes[c] > 0 else { return [] }
            var scored = classCounts[c].map { id, tf in
                (id, tf / classSizes[c] * log(1 + average / totalFrequency[id]))
            }
            scored.sort { $0.1 > $1.1 || ($0.1 == $1.1 && terms[$0.0] < terms[$1.0]) }
            // Drop a unigram when a bigram containing it ranks above it, to keep the list varied.
            var out: [Keyword] = []
            for (id, w) in scored {
                let term = terms[id]
                if !term.contains(" "), out.contains(where: { $0.term.split(separator: " ").contains(Substring(term)) }) { continue }
                out.append(Keyword(term: term, weight: w))
                if out.count == count { break }
            }
            return out
        }
    }
}
