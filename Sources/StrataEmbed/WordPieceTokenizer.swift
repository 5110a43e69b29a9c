import Foundation

/// BERT uncased WordPiece tokenization, matching Hugging Face `tokenizers` (`BertNormalizer` +
/// `BertPreTokenizer` + `WordPiece` + the `[CLS] … [SEP]` template) as configured for
/// sentence-transformers/all-MiniLM-L6-v2.
///
/// Steps, all on Unicode scalars (Rust `char`s), not grapheme clusters:
/// 1. The special tokens (`[CLS]`, `[SEP]`, `[PAD]`, `[MASK]`, `[UNK]`) written literally in the raw
///    text are kept as those tokens; the text between them goes through steps 2–6.
/// 2. Clean: drop U+0000, U+FFFD and every control, format or private-use scalar (Cc, Cf, Co)
///    except tab, LF and CR; map every whitespace scalar (tab, LF, CR and the Unicode `White_Space`
///    property) to a space. Unassigned scalars are kept. General categories are those of Unicode
///    8.0, as in the reference (see ``legacyCategory(_:)``).
/// 3. Put spaces around CJK ideographs (the CJK Unified Ideographs blocks and compatibility blocks).
/// 4. Strip accents: canonical decomposition (NFD), then drop nonspacing marks (Mn).
/// 5. Lower-case each scalar with its full Unicode lowercase mapping (no context rules).
/// 6. Split on whitespace (dropped) and punctuation (ASCII 33–47, 58–64, 91–96, 123–126 and every
///    Unicode P* category; each becomes its own word), then WordPiece each word: greedy longest
///    match first, continuation pieces prefixed with `##`; a word longer than 100 scalars, or one
///    that cannot be covered by the vocabulary, becomes `[UNK]`.
///
/// The result is `[CLS]`, at most `maxLength - 2` pieces, `[SEP]`. Cost is O(text length) for the
/// normalisation plus O(w²) dictionary probes for a word of w scalars (w ≤ 100).
public struct WordPieceTokenizer: Sendable {
    /// Token id type (ids index rows of the embedding matrix).
    public typealias TokenID = Int32

    /// Total sequence length including `[CLS]` and `[SEP]` (sentence-transformers' `max_seq_length`).
    public let maxLength: Int
    /// Words longer than this many scalars become `[UNK]`.
    public let maxInputCharsPerWord: Int = 100

    public let clsID: TokenID
    public let sepID: TokenID
    public let padID: TokenID
    public let unkID: TokenID

    /// Number of entries in the vocabulary.
    public var vocabularySize: Int { tokens.count }

    private let vocab: [String: TokenID]
    private let tokens: [String]
    /// Literal special tokens recognised in raw text, longest first.
    private let specials: [(text: String, id: TokenID)]

    /// Loads a `vocab.txt` (one token per line, id = line number from 0).
    ///
    /// - Throws: ``EmbedError`` `.vocabularyMissing` when the file does not exist,
    ///   `.unreadableFile`, or `.vocabularyInvalid`.
    public init(vocabularyURL url: URL, maxLength: Int = 256) throws {
        let path = url.path
        guard FileManager.default.fileExists(atPath: path) else {
            throw EmbedError(.vocabularyMissing, path: path,
                             "Vocabulary file vocab.txt not found; run scripts/fetch-model.sh to download the model.")
        }
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw EmbedError(.unreadableFile, path: path,
                             "Could not read the vocabulary (\(error.localizedDescription)); check its permissions.")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw EmbedError(.vocabularyInvalid, path: path,
                             "The vocabulary is not valid UTF-8; delete it and run scripts/fetch-model.sh again.")
        }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.hasSuffix("\r") ? String($0.dropLast()) : String($0)
        }
        if lines.last == "" { lines.removeLast() }
        try self.init(vocabulary: lines, maxLength: maxLength, path: path)
    }

    /// Builds a tokenizer from a token list (id = index).
    ///
    /// - Throws: ``EmbedError`` `.vocabularyInvalid` for an empty list, duplicate tokens, a missing
    ///   special token, or `maxLength < 2`.
    public init(vocabulary: [String], maxLength: Int = 256, path: String? = nil) throws {
        func invalid(_ why: String) -> EmbedError {
            EmbedError(.vocabularyInvalid, path: path,
                       "Invalid vocabulary: \(why); delete it and run scripts/fetch-model.sh again.")
        }
        guard maxLength >= 2 else { throw invalid("maxLength \(maxLength) leaves no room for [CLS] and [SEP]") }
        guard !vocabulary.isEmpty else { throw invalid("the file is empty") }
        guard vocabulary.count <= Int(Int32.max) else { throw invalid("too many tokens") }
        var map: [String: TokenID] = [:]
        map.reserveCapacity(vocabulary.count)
        for (i, token) in vocabulary.enumerated() {
            guard map.updateValue(TokenID(i), forKey: token) == nil else {
                throw invalid("token '\(token)' appears twice")
            }
        }
        func id(_ token: String) throws -> TokenID {
            guard let id = map[token] else { throw invalid("it has no \(token) token") }
            return id
        }
        self.maxLength = maxLength
        self.vocab = map
        self.tokens = vocabulary
        self.clsID = try id("[CLS]")
        self.sepID = try id("[SEP]")
        self.padID = try id("[PAD]")
        self.unkID = try id("[UNK]")
        self.specials = ["[CLS]", "[SEP]", "[PAD]", "[MASK]", "[UNK]"].compactMap { t in
            map[t].map { (t, $0) }
        }
    }

    /// Token ids for `text`: `[CLS]`, the word pieces (truncated to `maxLength - 2`), `[SEP]`.
    public func encode(_ text: String) -> [TokenID] {
        var ids: [TokenID] = [clsID]
        ids.reserveCapacity(min(maxLength, text.utf8.count / 3 + 2))
        appendPieces(of: text, to: &ids, limit: maxLength - 2)
        ids.append(sepID)
        return ids
    }

    /// The word-piece strings for `text`, without `[CLS]`/`[SEP]` and without truncation (for
    /// inspection and debugging).
    public func tokenize(_ text: String) -> [String] {
        var ids: [TokenID] = []
        appendPieces(of: text, to: &ids, limit: Int.max)
        return ids.map { tokens[Int($0)] }
    }

    /// The vocabulary entry for an id, if the id is in range.
    public func token(for id: TokenID) -> String? {
        tokens.indices.contains(Int(id)) ? tokens[Int(id)] : nil
    }

    // MARK: - Pipeline

    /// Appends at most `limit` piece ids for `text` to `ids`.
    private func appendPieces(of text: String, to ids: inout [TokenID], limit: Int) {
        let end = ids.count + min(limit, Int.max - ids.count)
        var rest = Substring(text)
        // Step 1: literal special tokens split the raw text.
        if text.utf8.contains(UInt8(ascii: "[")) {
            while let (range, id) = firstSpecial(in: rest) {
                appendWordPieces(of: rest[..<range.lowerBound], to: &ids, end: end)
                if ids.count >= end { return }
                ids.append(id)
                rest = rest[range.upperBound...]
            }
        }
        appendWordPieces(of: rest, to: &ids, end: end)
    }

    private func firstSpecial(in text: Substring) -> (Range<Substring.Index>, TokenID)? {
        var best: (Range<Substring.Index>, TokenID)?
        for (special, id) in specials {
            // Compare on UTF-8 so that the match is byte-exact, not by canonical equivalence.
            guard let r = text.utf8.firstRange(of: special.utf8) else { continue }
            if let current = best, current.0.lowerBound <= r.lowerBound { continue }
            best = (r.lowerBound ..< r.upperBound, id)
        }
        return best
    }

    /// Steps 2–6 for a piece of raw text; stops once `ids.count` reaches `end`.
    private func appendWordPieces(of raw: Substring, to ids: inout [TokenID], end: Int) {
        guard !raw.isEmpty, ids.count < end else { return }
        for word in Self.preTokenize(Self.normalize(raw)) {
            if ids.count >= end { break }
            wordPiece(word, into: &ids)
        }
        if ids.count > end { ids.removeLast(ids.count - end) }
    }

    /// Steps 2–5: the normalised text as scalars.
    static func normalize(_ raw: Substring) -> String {
        var cleaned = String.UnicodeScalarView()
        var hasUnknown = false
        for s in raw.unicodeScalars {
            let v = s.value
            if v == 0 || v == 0xFFFD { continue }
            if v == 0x09 || v == 0x0A || v == 0x0D { cleaned.append(" "); continue }
            if v >= 0x80 {
                switch legacyCategory(s) {
                case .control, .format, .privateUse, .surrogate: continue
                case .unassigned: hasUnknown = true
                default: break
                }
            } else if v < 0x20 || v == 0x7F {
                continue
            }
            if s.properties.isWhitespace { cleaned.append(" "); continue }
            if isCJKIdeograph(v) {
                cleaned.append(" "); cleaned.append(s); cleaned.append(" ")
            } else {
                cleaned.append(s)
            }
        }
        var out = String.UnicodeScalarView()
        for s in canonicalDecomposition(String(cleaned), hasUnknown: hasUnknown).unicodeScalars {
            if s.value < 0x80 {
                out.append(s.value >= 0x41 && s.value <= 0x5A ? Unicode.Scalar(UInt8(s.value + 32)) : s)
                continue
            }
            if legacyCategory(s) == .nonspacingMark { continue }
            if s.properties.changesWhenLowercased {
                out.append(contentsOf: s.properties.lowercaseMapping.unicodeScalars)
            } else {
                out.append(s)
            }
        }
        return String(out)
    }

    /// NFD, leaving alone the scalars that ``legacyCategory(_:)`` calls unassigned (the reference
    /// does not decompose characters newer than its tables); they split the text into runs that are
    /// decomposed separately, which is exact because such a scalar acts as a starter (class 0).
    static func canonicalDecomposition(_ text: String, hasUnknown: Bool) -> String {
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return text }   // ASCII is already NFD
        guard hasUnknown else { return text.decomposedStringWithCanonicalMapping }
        var result = String.UnicodeScalarView()
        var run = String.UnicodeScalarView()
        for s in text.unicodeScalars {
            if s.value >= 0x80, legacyCategory(s) == .unassigned {
                result.append(contentsOf: String(run).decomposedStringWithCanonicalMapping.unicodeScalars)
                run.removeAll()
                result.append(s)
            } else {
                run.append(s)
            }
        }
        result.append(contentsOf: String(run).decomposedStringWithCanonicalMapping.unicodeScalars)
        return String(result)
    }

    /// The general category as the reference implementation sees it. Hugging Face `tokenizers`
    /// takes categories from tables of Unicode 8.0, so a character assigned later counts as
    /// unassigned (Cn: kept as an ordinary character, neither control, punctuation nor mark), and
    /// the seven characters whose category changed since 8.0 keep their 8.0 category. Verified
    /// against `tokenizers` 0.23.3 for every code point (the normaliser and pre-tokeniser outputs
    /// for "a" + c + "b" are identical). Case mapping and White_Space are current in both.
    static func legacyCategory(_ s: Unicode.Scalar) -> Unicode.GeneralCategory {
        switch s.value {
        case 0x166D, 0x111C9: return .otherPunctuation      // now So, Mn
        case 0x1734, 0x1171E: return .nonspacingMark        // now Mc
        case 0x1885, 0x1886: return .otherLetter            // now Mn
        case 0xA9BD: return .spacingMark                    // now Mn
        default: break
        }
        guard let age = s.properties.age, age <= (8, 0) else { return .unassigned }
        return s.properties.generalCategory
    }

    /// Step 6a: whitespace and punctuation splitting.
    static func preTokenize(_ text: String) -> [[Unicode.Scalar]] {
        var words: [[Unicode.Scalar]] = []
        var current: [Unicode.Scalar] = []
        for s in text.unicodeScalars {
            if s.value == 0x20 || s.properties.isWhitespace {
                if !current.isEmpty { words.append(current); current.removeAll(keepingCapacity: true) }
            } else if isPunctuation(s) {
                if !current.isEmpty { words.append(current); current.removeAll(keepingCapacity: true) }
                words.append([s])
            } else {
                current.append(s)
            }
        }
        if !current.isEmpty { words.append(current) }
        return words
    }

    /// Step 6b: greedy longest-match-first WordPiece for one word.
    private func wordPiece(_ word: [Unicode.Scalar], into ids: inout [TokenID]) {
        if word.count > maxInputCharsPerWord { ids.append(unkID); return }
        let mark = ids.count
        var start = 0
        while start < word.count {
            var end = word.count
            var found: TokenID?
            while start < end {
                var piece = String.UnicodeScalarView()
                if start > 0 { piece.append("#"); piece.append("#") }
                piece.append(contentsOf: word[start ..< end])
                if let id = vocab[String(piece)] { found = id; break }
                end -= 1
            }
            guard let id = found else {
                ids.removeLast(ids.count - mark)
                ids.append(unkID)
                return
            }
            ids.append(id)
            start = end
        }
    }

    static func isCJKIdeograph(_ v: UInt32) -> Bool {
        switch v {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F,
             0x2B740...0x2B81F, 0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
            true
        default:
            false
        }
    }

    static func isPunctuation(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v) {
            return true
        }
        if v < 0x80 { return false }
        switch legacyCategory(s) {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return true
        default:
            return false
        }
    }
}
