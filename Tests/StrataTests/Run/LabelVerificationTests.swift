import Foundation
import Testing
@testable import Strata
import StrataEmbed
import StrataLabel
import StrataLinalg

/// A bag-of-words stand-in for a sentence encoder: each known word points along one axis; unknown
/// words along a fourth ("nothing in particular"). Deterministic, so the placements are known.
struct WordAxisEmbedder: Embedder {
    static let axes: [String: Int] = ["dog": 0, "dogs": 0, "cat": 0, "pet": 0, "pets": 0, "car": 1, "engine": 1, "wheel": 1,
                                      "hockey": 1, "tax": 2, "refund": 2, "invoice": 2, "money": 2]
    var fingerprint: String { "word-axis" }
    var dimension: Int? { 4 }
    func embed(_ texts: [String], progress: (@Sendable (Int, Int) -> Void)?) async throws -> EmbeddingBatch {
        var values: [Float] = []
        for t in texts {
            var v = [Float](repeating: 0, count: 4)
            for w in t.lowercased().split(whereSeparator: { !$0.isLetter }) { v[Self.axes[String(w)] ?? 3] += 1 }
            values += v
        }
        return EmbeddingBatch(dimension: 4, values: values)
    }
}

@Suite("label verification (in process)")
struct LabelVerificationTests {
    let centroids = try! Matrix(rows: 3, cols: 4, storage: [1, 0, 0, 0.1, 0, 1, 0, 0.1, 0, 0, 1, 0.1]).normalizedRows()
    let sketches = [
        TopicSketch(index: 0, keywords: ["dog", "cat", "pet"], representatives: ["a dog", "a cat"], contrast: [], size: 10),
        TopicSketch(index: 1, keywords: ["car", "engine", "wheel"], representatives: ["a car", "an engine"], contrast: [], size: 10),
        TopicSketch(index: 2, keywords: ["tax", "refund", "invoice"], representatives: ["my tax", "a refund"], contrast: [], size: 10),
    ]

    @Test("an off-topic LLM label is never published; a grounded one is kept; every published label lands on its topic")
    func offTopic() async throws {
        let proposed = [TopicLabel(label: "Ice hockey", description: "", source: .llm),
                        TopicLabel(label: "Car engines", description: "", source: .llm),
                        TopicLabel(label: "Tax refund", description: "Money back.", source: .llmRepaired)]
        let v = try await LabelVerification.verify(proposed, sketches: sketches, rows: [0, 1, 2],
                                                   context: VerificationContext(centroids: centroids), embedder: WordAxisEmbedder(), what: "topic")
        #expect(v.labels[0].label != "Ice hockey" && v.labels[0].source == .keywords)
        #expect(v.notes.contains { $0.contains("\"Ice hockey\" lands nearer topic 1") })
        #expect(v.labels[1].label == "Car engines" && v.labels[1].source == .llm)
        #expect(v.labels[2].label == "Tax refund" && v.labels[2].source == .llmRepaired)
        #expect(v.confidence.allSatisfy { $0 > 0 })
        let texts = v.labels.map(\.label)
        let placed = try ReferenceSelection.placements(try await LabelVerification.embed(texts, embedder: WordAxisEmbedder()),
                                                       centroids: centroids, owner: [0, 1, 2])
        #expect(placed.map(\.nearest) == [0, 1, 2])
        #expect(v.warnings.isEmpty)
    }

    @Test("a label another topic already has is not published twice")
    func duplicate() async throws {
        var context = VerificationContext(centroids: centroids)
        context.fixed[2] = TopicLabel(label: "Tax", description: "", source: .keywords)
        let proposed = [TopicLabel(label: "Dogs", description: "", source: .llm), TopicLabel(label: "Dogs", description: "", source: .llm)]
        let v = try await LabelVerification.verify(proposed, sketches: Array(sketches.prefix(2)), rows: [0, 1], context: context,
                                                   embedder: WordAxisEmbedder(), what: "topic")
        #expect(v.labels[0].label == "Dogs")
        #expect(v.labels[1].label != "Dogs" && v.labels[1].label != "Tax")
        #expect(Set(v.labels.map { $0.label.lowercased() }).count == 2)
    }

    @Test("descriptions: the one that sends the most documents to their own topic wins")
    func descriptions() async throws {
        // The LLM's sentence says nothing the encoder places near topic 0's documents; the keyword
        // sentence does.
        let docs = try Matrix(rows: 4, cols: 4, storage: [1, 0, 0.5, 0, 1, 0, 0.5, 0, 0, 0, 1, 0, 0, 1, 0, 0]).normalizedRows()
        var context = VerificationContext(centroids: centroids, documents: (docs, [0, 0, 2, 1]))
        context.fixed[1] = TopicLabel(label: "Cars", description: "", source: .keywords)
        context.fixed[2] = TopicLabel(label: "Tax", description: "Tax.", source: .keywords)
        let s0 = TopicSketch(index: 0, keywords: ["dog", "money", "pet", "cat", "wheel"], representatives: [], contrast: [], size: 2)
        let proposed = [TopicLabel(label: "Pets", description: "Something else entirely here.", source: .llm)]
        let v = try await LabelVerification.verify(proposed, sketches: [s0], rows: [0], context: context, embedder: WordAxisEmbedder(),
                                                   what: "topic")
        #expect(v.labels[0].label == "Pets")
        #expect(v.labels[0].description.contains("money"))
    }

    @Test("ambiguity: an LLM label that lands on its topic but whose nearest documents are another topic's loses to a keyphrase")
    func ambiguous() async throws {
        // Topic 0's documents point at "dog"; topic 2's lean on "dog" and "tax" alike, so "Pets dog tax"
        // lands nearest centroid 0 yet its 20 nearest documents are all topic 2's (precision 0 vs 1).
        let rows = [Float](repeating: 0, count: 0) + (0..<25).flatMap { _ in [Float(1), 0, 0, 0] } + (0..<25).flatMap { _ in [Float(0.7), 0, 0.714, 0] }
        let docs = try Matrix(rows: 50, cols: 4, storage: rows).normalizedRows()
        let context = VerificationContext(centroids: centroids, documents: (docs, (0..<50).map { $0 < 25 ? 0 : 2 }))
        let proposed = [TopicLabel(label: "Pets dog tax", description: "", source: .llm)]
        let v = try await LabelVerification.verify(proposed, sketches: [sketches[0]], rows: [0], context: context,
                                                   embedder: WordAxisEmbedder(), what: "topic")
        #expect(v.labels[0].source == .keywords && v.labels[0].label != "Pets dog tax")
        #expect(v.notes.contains { $0.contains("\"Pets dog tax\" ranks below it (neighbour precision 0.00)") })
        #expect(v.confidence[0] > 0)
    }

    @Test("tiers: the LLM's first name of several words, then its longer name, then a one-word LLM name, then keyphrases")
    func tiers() {
        func options(_ texts: [(String, CandidateOrigin)], margins: [Float], precision: [Float]?) -> LabelVerification.Options {
            var o = LabelVerification.Options(list: texts.map { LabelCandidate(text: $0.0, origin: $0.1) })
            o.placed = margins.map { ReferenceSelection.Placement(margin: $0, nearest: 0, own: 0.5) }
            o.precision = precision
            return o
        }
        let o = options([("Dogs", .llm), ("Pet dogs and cats", .llmLonger), ("Dog", .keyphrase)], margins: [0.1, 0.05, 0.3], precision: [0.6, 0.5, 0.9])
        #expect(LabelVerification.choose(o, taken: []) == 1)
        #expect(LabelVerification.choose(o, taken: ["pet dogs and cats"]) == 0)
        let both = options([("Pet care", .llm), ("Dog food and cat toys", .llmLonger)], margins: [0.05, 0.2], precision: [0.5, 0.9])
        #expect(LabelVerification.choose(both, taken: []) == 0)   // the first name of several words before the longer one
        let failing = options([("Pet dogs and cats", .llm), ("Dog", .keyphrase)], margins: [-0.01, 0.3], precision: nil)
        #expect(LabelVerification.choose(failing, taken: []) == 1)
        #expect(LabelVerification.choose(options([("Dog", .keyphrase)], margins: [-0.1], precision: nil), taken: []) == nil)
    }

    @Test("near-duplicates across topics: the one with the smaller margin moves to a candidate apart from the other")
    func nearDuplicates() async throws {
        // "Dog" and "Dog pet car" (cosine 0.89) each land nearest their own centroid.
        let c = try Matrix(rows: 2, cols: 4, storage: [1, 0, 0, 0, 0.8, 0.6, 0, 0])
        let s = [TopicSketch(index: 0, keywords: ["dog", "cat"], representatives: [], contrast: [], size: 5),
                 TopicSketch(index: 1, keywords: ["car", "engine", "wheel"], representatives: [], contrast: [], size: 5)]
        let proposed = [TopicLabel(label: "Dog", description: "", source: .llm), TopicLabel(label: "Dog pet car", description: "", source: .llm)]
        let v = try await LabelVerification.verify(proposed, sketches: s, rows: [0, 1], context: VerificationContext(centroids: c),
                                                   embedder: WordAxisEmbedder(), what: "topic")
        #expect(v.labels[0].label == "Dog")
        #expect(v.labels[1].label != "Dog pet car" && !v.labels[1].label.lowercased().contains("dog"))
        #expect(v.notes.contains { $0.contains("\"Dog pet car\" reads like topic 0's \"Dog\"") })
        #expect(v.confidence.allSatisfy { $0 > 0 })
    }

    @Test("a parent's LLM name that joins two of its children's labels is refused, and no keyphrase does either")
    func gluedParent() async throws {
        let proposed = [TopicLabel(label: "Dog and car", description: "", source: .llm)]
        let s = TopicSketch(index: 0, keywords: ["dog", "car", "pet"], representatives: [], contrast: [], size: 5)
        let v = try await LabelVerification.verify(proposed, sketches: [s], rows: [0], context: VerificationContext(centroids: centroids),
                                                   embedder: WordAxisEmbedder(), what: "parent", avoid: [["Dog", "Car"]])
        #expect(v.notes.contains { $0.contains("\"Dog and car\" not published: joins two child topics' labels") })
        #expect(!LabelShape.isConjunction(v.labels[0].label, of: ["Dog", "Car"]))
        #expect(!["dog", "car"].contains(v.labels[0].label.lowercased()))
    }
}
