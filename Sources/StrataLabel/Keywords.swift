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

    /// Kept words of `text`, in order. Walks Unicode scalars (ASCII lower-cased in place; a letter,
    /// digit, combining mark or inner apostrophe continues a word), which is ~10× faster than walking
    /// grapheme clusters of a lower-cased copy and splits the same way on real text.
    public static func words(_ text: String) -> [String] {
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return asciiWords(text) }
        var out: [String] = []
        var current = String.UnicodeScalarView()
        func flush() {
            var w = String(current)
            current = String.UnicodeScalarView()
            while w.hasSuffix("'") { w.removeLast() }
            while w.hasPrefix("'") { w.removeFirst() }
            if w.hasSuffix("'s") { w.removeLast(2) }
            if w.count >= 2, !stopWords.contains(w), !w.allSatisfy(\.isNumber) { out.append(w) }
        }
        for scalar in text.unicodeScalars {
            let v = scalar.value
            if v < 128 {
                if (v >= 97 && v <= 122) || (v >= 48 && v <= 57) {
                    current.append(scalar)
                } else if v >= 65 && v <= 90 {
                    current.append(Unicode.Scalar(v + 32)!)
                } else if v == 39 && !current.isEmpty {
                    current.append(scalar)
                } else if !current.isEmpty {
                    flush()
                }
                continue
            }
            let p = scalar.properties
            if p.isAlphabetic || p.numericType != nil {
                if p.changesWhenLowercased { current.append(contentsOf: p.lowercaseMapping.unicodeScalars) } else { current.append(scalar) }
            } else if !current.isEmpty, p.generalCategory == .nonspacingMark || p.generalCategory == .spacingMark
                        || p.generalCategory == .enclosingMark {
                current.append(scalar)
            } else if v == 0x2019 && !current.isEmpty {   // ’ typographic apostrophe
                current.append("'")
            } else if !current.isEmpty {
                flush()
            }
        }
        if !current.isEmpty { flush() }
        return out
    }

    /// ``words(_:)`` for pure-ASCII text, on bytes: the same rules without building scalars one by one.
    static func asciiWords(_ text: String) -> [String] {
        var out: [String] = []
        var current: [UInt8] = []
        current.reserveCapacity(32)
        let utf8 = text.utf8
        var i = utf8.startIndex
        func emit() {
            var lo = 0, hi = current.count
            while hi > lo && current[hi - 1] == 39 { hi -= 1 }
            while lo < hi && current[lo] == 39 { lo += 1 }
            if hi - lo >= 2 && current[hi - 2] == 39 && current[hi - 1] == 115 { hi -= 2 }
            if hi - lo >= 2 {
                var allDigits = true
                for b in current[lo..<hi] where !(b >= 48 && b <= 57) { allDigits = false; break }
                if !allDigits {
                    let w = String(decoding: current[lo..<hi], as: UTF8.self)
                    if !stopWords.contains(w) { out.append(w) }
                }
            }
            current.removeAll(keepingCapacity: true)
        }
        while i != utf8.endIndex {
            let b = utf8[i]
            if (b >= 97 && b <= 122) || (b >= 48 && b <= 57) {
                current.append(b)
            } else if b >= 65 && b <= 90 {
                current.append(b + 32)
            } else if b == 39 && !current.isEmpty {
                current.append(b)
            } else if !current.isEmpty {
                emit()
            }
            i = utf8.index(after: i)
        }
        if !current.isEmpty { emit() }
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

    /// Every document's terms (unigrams and bigrams), tokenised once, as ids into one vocabulary, so
    /// that several labelings of the same documents (topics, then their parents) share one pass.
    public struct TermIndex: Sendable {
        /// Term text per id.
        public let terms: [String]
        /// Documents containing each term at least once.
        let documentFrequency: [Int32]
        /// Term ids of document i: `ids[offsets[i]..<offsets[i + 1]]`, in text order, repeats kept.
        let ids: [Int32]
        let offsets: [Int]
        public var documentCount: Int { offsets.count - 1 }

        /// O(total characters). Bigrams are keyed by their two word ids, so no string is built per
        /// occurrence, only per distinct term.
        public init(texts: [String]) {
            var wordID: [String: Int32] = [:]
            var bigramID: [Int64: Int32] = [:]
            var wordTerm: [Int32] = []   // word id → term id
            var terms: [String] = []
            var df: [Int32] = []
            var ids: [Int32] = []
            var offsets = [0]
            var lastSeen: [Int32] = []   // term id → last document index + 1 that counted it
            offsets.reserveCapacity(texts.count + 1)
            func termID(_ text: String) -> Int32 {
                let id = Int32(terms.count)
                terms.append(text); df.append(0); lastSeen.append(0)
                return id
            }
            for (docIndex, text) in texts.enumerated() {
                let words = KeywordTokenizer.words(text)
                var wordIDs: [Int32] = []
                wordIDs.reserveCapacity(words.count)
                func count(_ t: Int32) {
                    ids.append(t)
                    if lastSeen[Int(t)] != Int32(docIndex + 1) { lastSeen[Int(t)] = Int32(docIndex + 1); df[Int(t)] += 1 }
                }
                for w in words {
                    let wid: Int32
                    if let e = wordID[w] { wid = e } else {
                        wid = Int32(wordTerm.count)
                        wordID[w] = wid
                        wordTerm.append(termID(w))
                    }
                    wordIDs.append(wid)
                    count(wordTerm[Int(wid)])
                }
                if wordIDs.count > 1 {
                    for i in 0..<(wordIDs.count - 1) {
                        let key = Int64(wordIDs[i]) << 32 | Int64(wordIDs[i + 1])
                        let t: Int32
                        if let e = bigramID[key] { t = e } else {
                            t = termID(words[i] + " " + words[i + 1])
                            bigramID[key] = t
                        }
                        count(t)
                    }
                }
                offsets.append(ids.count)
            }
            self.terms = terms
            self.documentFrequency = df
            self.ids = ids
            self.offsets = offsets
        }
    }

    /// Top `count` keywords per class. `labels[i]` is document i's class in `0..<classCount`
    /// (negative labels are ignored). O(total terms + vocabulary · classes).
    public static func keywords(texts: [String], labels: [Int], classCount: Int, count: Int = 10,
                                minDocumentFrequency: Int = 2) -> [[Keyword]] {
        keywords(index: TermIndex(texts: texts), labels: labels, classCount: classCount, count: count,
                 minDocumentFrequency: minDocumentFrequency)
    }

    /// Top `count` keywords per class over an already tokenised corpus (`labels` indexes its documents).
    /// O(total term occurrences + Σ per-class distinct terms · log).
    public static func keywords(index: TermIndex, labels: [Int], classCount: Int, count: Int = 10,
                                minDocumentFrequency: Int = 2) -> [[Keyword]] {
        precondition(index.documentCount == labels.count)
        let minDF = Int32(minDocumentFrequency)
        var classCounts = [[Int32: Double]](repeating: [:], count: classCount)
        var totalFrequency = [Double](repeating: 0, count: index.terms.count)
        for (doc, label) in labels.enumerated() where label >= 0 && label < classCount {
            for p in index.offsets[doc]..<index.offsets[doc + 1] {
                let id = index.ids[p]
                guard index.documentFrequency[Int(id)] >= minDF else { continue }
                classCounts[label][id, default: 0] += 1
                totalFrequency[Int(id)] += 1
            }
        }
        let classSizes = classCounts.map { $0.values.reduce(0, +) }
        let nonEmpty = classSizes.filter { $0 > 0 }
        let average = nonEmpty.isEmpty ? 0 : nonEmpty.reduce(0, +) / Double(nonEmpty.count)
        let terms = index.terms
        return (0..<classCount).map { c in
            guard classSizes[c] > 0 else { return [] }
            var scored = classCounts[c].map { id, tf in
                (id, tf / classSizes[c] * log(1 + average / totalFrequency[Int(id)]))
            }
            scored.sort { $0.1 > $1.1 || ($0.1 == $1.1 && terms[Int($0.0)] < terms[Int($1.0)]) }
            // Drop a unigram when a bigram containing it ranks above it, to keep the list varied.
            var out: [Keyword] = []
            for (id, w) in scored {
                let term = terms[Int(id)]
                if !term.contains(" "), out.contains(where: { $0.term.split(separator: " ").contains(Substring(term)) }) { continue }
                out.append(Keyword(term: term, weight: w))
                if out.count == count { break }
            }
            return out
        }
    }
}
