import Foundation
import Testing
@testable import StrataEmbed

@Suite("WordPiece tokenizer")
struct TokenizerTests {
    static let vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un", "##aff", "##able", "hello",
                        ",", "!", "world", "cafe", "a", "##b", "中", "国"]

    @Test("ids equal the reference for every fixture text")
    func matchesReference() throws {
        let tokenizer = try WordPieceTokenizer(
            vocabularyURL: try Fixtures.modelDirectory().appendingPathComponent("vocab.txt"))
        let records = try Fixtures.reference()
        #expect(records.count == 144)
        var mismatches: [String] = []
        for (i, r) in records.enumerated() {
            let ids = tokenizer.encode(r.text)
            if ids != r.input_ids {
                mismatches.append("#\(i) \(String(reflecting: r.text).prefix(200))\n  expected \(r.input_ids)\n  got      \(ids)")
            }
        }
        print("tokenizer: \(mismatches.count) mismatches over \(records.count) texts")
        #expect(mismatches.isEmpty, "\(mismatches.count) token-id mismatches:\n\(mismatches.joined(separator: "\n"))")
    }

    @Test("greedy longest match with ## continuations, [UNK] for uncoverable words")
    func wordPiece() throws {
        let t = try WordPieceTokenizer(vocabulary: Self.vocab)
        #expect(t.tokenize("unaffable") == ["un", "##aff", "##able"])
        #expect(t.tokenize("Hello, WORLD!") == ["hello", ",", "world", "!"])
        #expect(t.tokenize("unx hello") == ["[UNK]", "hello"])
        #expect(t.tokenize("Café") == ["cafe"])
        #expect(t.tokenize("中国") == ["中", "国"])
        #expect(t.tokenize("ab" + String(repeating: "b", count: 98)) == ["a"] + Array(repeating: "##b", count: 99))
        #expect(t.tokenize("ab" + String(repeating: "b", count: 99)) == ["[UNK]"])
        #expect(t.encode("") == [2, 3])
    }

    @Test("control characters are dropped, whitespace splits, literal special tokens are kept")
    func cleaning() throws {
        let t = try WordPieceTokenizer(vocabulary: Self.vocab)
        #expect(t.tokenize("hel\u{0}lo\u{200B}\u{FFFD}\tworld\u{00A0}a") == ["hello", "world", "a"])
        #expect(t.tokenize("hello[SEP]world") == ["hello", "[SEP]", "world"])
        #expect(t.tokenize("hello[sep]") == ["hello", "[UNK]", "[UNK]", "[UNK]"])
    }

    /// Expected values from Hugging Face `tokenizers` 0.23.3 (normaliser and pre-tokeniser of this
    /// model's tokenizer.json applied to "a" + c + "b"); the implementation agrees with it on all
    /// 1,112,064 scalars. These cases cover each rule of `legacyCategory` and the clean-up step.
    static let legacyCases: [(scalar: UInt32, words: [[UInt32]])] = [
        (0x0378, [[0x61, 0x0378, 0x62]]),       // unassigned: kept
        (0xFDD0, [[0x61, 0xFDD0, 0x62]]),       // noncharacter: kept
        (0x0890, [[0x61, 0x0890, 0x62]]),       // Cf added in Unicode 14: kept, not removed
        (0x166D, [[0x61], [0x166D], [0x62]]),   // So now, Po in 8.0: punctuation
        (0x1734, [[0x61, 0x62]]),               // Mc now, Mn in 8.0: stripped
        (0x1885, [[0x61, 0x1885, 0x62]]),       // Mn now, Lo in 8.0: kept
        (0x11938, [[0x61, 0x11938, 0x62]]),     // decomposable since Unicode 13: left as is
        (0xE000, [[0x61, 0x62]]),               // private use: dropped
        (0x0085, [[0x61, 0x62]]),               // C1 control: dropped
        (0x007F, [[0x61, 0x62]]),               // DEL: dropped
        (0x2028, [[0x61], [0x62]]),             // line separator: whitespace
        (0x0130, [[0x61, 0x69, 0x62]]),         // İ: NFD, strip the dot, lower-case
        (0x1C90, [[0x61, 0x10D0, 0x62]]),       // Georgian Mtavruli (Unicode 11): lower-cased
    ]

    /// Expected values from Hugging Face `tokenizers` 0.23.3 (normaliser and pre-tokeniser of this
    /// model's tokenizer.json applied to "a" + c + "b"); the implementation agrees with it on all
    /// 1,112,064 scalars. These cases cover each rule of `legacyCategory` and the clean-up step.
    @Test("Unicode categories follow the reference's Unicode 8.0 tables")
    func legacyCategories() throws {
        for (scalar, words) in Self.legacyCases {
            let c = try #require(Unicode.Scalar(scalar))
            var text = String.UnicodeScalarView()
            text.append("a"); text.append(c); text.append("b")
            let got = WordPieceTokenizer.preTokenize(WordPieceTokenizer.normalize(Substring(String(text))))
            #expect(got.map { $0.map(\.value) } == words, "U+\(String(scalar, radix: 16, uppercase: true))")
        }
    }

    @Test("truncation keeps maxLength tokens including [CLS] and [SEP]")
    func truncation() throws {
        let t = try WordPieceTokenizer(vocabulary: Self.vocab, maxLength: 5)
        #expect(t.encode("hello world hello world") == [2, 8, 11, 8, 3])
        #expect(t.encode("unaffable unaffable") == [2, 5, 6, 7, 3])
    }

    @Test("a missing vocabulary file is a typed error that says how to get it")
    func missingVocabulary() throws {
        let dir = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let error = #expect(throws: EmbedError.self) {
            _ = try WordPieceTokenizer(vocabularyURL: dir.appendingPathComponent("vocab.txt"))
        }
        #expect(error?.code == .vocabularyMissing)
        #expect(error?.description.contains("scripts/fetch-model.sh") == true)
    }

    @Test("a vocabulary without [UNK] or with duplicates is rejected")
    func invalidVocabulary() throws {
        let dir = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("vocab.txt")
        try Data("[PAD]\n[CLS]\n[SEP]\nhello\n".utf8).write(to: url)
        #expect(throws: EmbedError.self) { _ = try WordPieceTokenizer(vocabularyURL: url) }
        #expect((try? WordPieceTokenizer(vocabulary: ["[UNK]", "[CLS]", "[SEP]", "[PAD]", "a", "a"])) == nil)
        try Data().write(to: url)
        let error = #expect(throws: EmbedError.self) { _ = try WordPieceTokenizer(vocabularyURL: url) }
        #expect(error?.code == .vocabularyInvalid)
    }
}
