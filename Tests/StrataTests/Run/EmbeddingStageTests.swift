import Foundation
import Strata
import StrataStore
import Testing

@Suite("embedding sources")
struct EmbeddingStageTests {
    @Test("field:NAME vectors: used as given (normalised); a wrong dimension names the record")
    func fieldVectors() async throws {
        let state = try StateDatabase(directory: makeTempDir())
        let good = [Document(id: "a", text: "x", metadata: ["v": .array([.number(3), .number(4)])], location: "f:1"),
                    Document(id: "b", text: "y", metadata: ["v": .array([.integer(0), .integer(2)])], location: "f:2")]
        let r = try await EmbeddingStage.embed(good, spec: .field("v"), baseURL: URL(string: "http://unused")!, state: state,
                                               tokenCounter: nil, reporter: SilentReporter())
        #expect(r.matrix.rows == 2 && r.matrix.cols == 2)
        #expect(abs(r.matrix[0, 0] - 0.6) < 1e-6 && abs(r.matrix[1, 1] - 1) < 1e-6)
        let bad = good + [Document(id: "c", text: "z", metadata: ["v": .array([.number(1), .number(2), .number(3)])], location: "f:3")]
        await #expect {
            try await EmbeddingStage.embed(bad, spec: .field("v"), baseURL: URL(string: "http://unused")!, state: state,
                                           tokenCounter: nil, reporter: SilentReporter())
        } throws: { error in
            "\(error)".contains("f:3") && "\(error)".contains("3 dimensions, expected 2")
        }
        let missing = [Document(id: "d", text: "z", metadata: [:], location: "f:9")]
        await #expect(throws: StrataError.self) {
            try await EmbeddingStage.embed(missing, spec: .field("v"), baseURL: URL(string: "http://unused")!, state: state,
                                           tokenCounter: nil, reporter: SilentReporter())
        }
    }

    @Test func specParsing() throws {
        #expect(try EmbedderSpec.parse("minilm") == .minilm)
        #expect(try EmbedderSpec.parse("openai:text-embedding-3-small") == .openai(model: "text-embedding-3-small"))
        #expect(try EmbedderSpec.parse("field:vec") == .field("vec"))
        #expect(throws: StrataError.self) { try EmbedderSpec.parse("bert") }
        #expect(try EmbedderSpec.parse("static") == .staticMiniLM(dimension: 256))
        #expect(try EmbedderSpec.parse("static:128") == .staticMiniLM(dimension: 128))
        #expect(EmbedderSpec.staticMiniLM(dimension: 256).description == "static")
        #expect(EmbedderSpec.staticMiniLM(dimension: 128).description == "static:128")
        for bad in ["static:0", "static:385", "static:x"] { #expect(throws: StrataError.self) { try EmbedderSpec.parse(bad) } }
        #expect(try KChoice.parse("auto") == .auto)
        #expect(throws: StrataError.self) { try KChoice.parse("1") }
    }
}
