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
}
