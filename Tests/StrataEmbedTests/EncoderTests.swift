import Foundation
import Testing
@testable import StrataEmbed

@Suite("MiniLM encoder", .serialized)
struct EncoderTests {
    static func cosine(_ a: ArraySlice<Float>, _ b: [Float]) -> Double {
        var dot = 0.0, na = 0.0, nb = 0.0
        for (x, y) in zip(a, b) { dot += Double(x) * Double(y); na += Double(x) * Double(x); nb += Double(y) * Double(y) }
        return dot / (na.squareRoot() * nb.squareRoot())
    }

    /// Checks every fixture text and returns the minimum cosine.
    static func check(_ encoder: MiniLMEncoder, options: EncodeOptions, label: String) throws {
        let records = try Fixtures.reference()
        let d = encoder.dimension
        let vectors = encoder.embed(records.map(\.text), options: options)
        #expect(vectors.count == records.count * d)
        var minCos = Double.infinity, worst = -1
        var failures: [String] = []
        for (i, r) in records.enumerated() {
            let c = cosine(vectors[i * d ..< (i + 1) * d], r.embedding)
            if c < minCos { minCos = c; worst = i }
            if !(c >= 0.99999) { failures.append("#\(i) cos=\(c) \(String(reflecting: r.text).prefix(120))") }
        }
        print("encoder [\(label)]: minimum cosine over \(records.count) texts = \(minCos) (1 − cos = \(1 - minCos), text #\(worst))")
        #expect(failures.isEmpty, "cosine < 0.99999 for \(failures.count) texts:\n\(failures.joined(separator: "\n"))")
    }

    @Test("embeddings match sentence-transformers (cosine ≥ 0.99999 for every text), worker threads")
    func matchesReferenceWorkers() throws {
        let encoder = try MiniLMEncoder(modelDirectory: Fixtures.modelDirectory())
        try Self.check(encoder, options: EncodeOptions(maxBatchTokens: 512, parallelism: .workers(2)), label: "workers(2)")
    }

    @Test("embeddings match sentence-transformers with BLAS threads and tiny chunks")
    func matchesReferenceBLAS() throws {
        let encoder = try MiniLMEncoder(modelDirectory: Fixtures.modelDirectory())
        try Self.check(encoder, options: EncodeOptions(maxBatchTokens: 4096, chunkSize: 50, parallelism: .blasThreads),
                       label: "blasThreads, chunks of 50")
    }

    @Test("results come back in input order, unit length, whatever the batching; progress reaches total")
    func orderAndProgress() throws {
        let encoder = try MiniLMEncoder(modelDirectory: Fixtures.modelDirectory())
        let texts = ["short", "a much longer sentence about topic models and embeddings", "", "short"]
        let d = encoder.dimension
        let single = texts.flatMap { encoder.embed([$0]) }
        let seen = LockedBox<[Int]>([])
        let batched = encoder.embed(texts, options: EncodeOptions(maxBatchTokens: 1, chunkSize: 3)) { done, total in
            #expect(total == texts.count)
            seen.mutate { $0.append(done) }
        }
        for i in texts.indices {
            let a = Array(single[i * d ..< (i + 1) * d])
            #expect(Self.cosine(batched[i * d ..< (i + 1) * d], a) > 0.999999)
            let norm = a.reduce(0) { $0 + $1 * $1 }.squareRoot()
            #expect(abs(norm - 1) < 1e-5)
        }
        // The same text in another batch differs only by GEMM rounding.
        #expect(Self.cosine(batched[0 ..< d], Array(batched[3 * d ..< 4 * d])) > 0.9999999)
        #expect(seen.value.last == texts.count)
        #expect(encoder.embed([]).isEmpty)
    }

    @Test("a missing model directory says how to fetch the model")
    func missingModel() throws {
        let dir = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let error = #expect(throws: EmbedError.self) {
            _ = try MiniLMEncoder(modelDirectory: dir.appendingPathComponent("absent"))
        }
        #expect(error?.code == .modelNotFound)
        #expect(error?.description.contains("scripts/fetch-model.sh") == true)
    }

    @Test("a model directory without vocab.txt, or with a truncated safetensors, fails with a typed error")
    func brokenModelDirectory() throws {
        let source = try Fixtures.modelDirectory()
        let dir = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fm = FileManager.default
        for name in ["config.json", "sentence_bert_config.json"] {
            try fm.copyItem(at: source.appendingPathComponent(name), to: dir.appendingPathComponent(name))
        }
        var error = #expect(throws: EmbedError.self) { _ = try MiniLMEncoder(modelDirectory: dir) }
        #expect(error?.code == .vocabularyMissing)

        try fm.copyItem(at: source.appendingPathComponent("vocab.txt"), to: dir.appendingPathComponent("vocab.txt"))
        let weights = try Data(contentsOf: source.appendingPathComponent("model.safetensors"), options: .alwaysMapped)
        try weights.prefix(weights.count / 2).write(to: dir.appendingPathComponent("model.safetensors"))
        error = #expect(throws: EmbedError.self) { _ = try MiniLMEncoder(modelDirectory: dir) }
        #expect(error?.code == .safetensorsTruncated)

        let headerLength = weights.prefix(8).reversed().reduce(0) { $0 << 8 | Int($1) }
        var corrupt = weights.prefix(8 + headerLength)
        corrupt[8] = UInt8(ascii: "#")   // the header JSON no longer starts with "{"
        try corrupt.write(to: dir.appendingPathComponent("model.safetensors"))
        error = #expect(throws: EmbedError.self) { _ = try MiniLMEncoder(modelDirectory: dir) }
        #expect(error?.code == .safetensorsCorrupt)
    }

    @Test("FLOP model: ≈ 21 MFLOP per token for MiniLM-L6")
    func flops() throws {
        let encoder = try MiniLMEncoder(modelDirectory: Fixtures.modelDirectory())
        #expect(abs(encoder.config.linearFlopsPerToken / 1e6 - 21.23) < 0.01)
    }
}

/// A value shared with a `@Sendable` callback in tests.
final class LockedBox<Value: Sendable>: @unchecked Sendable {
    private var stored: Value
    private let lock = NSLock()
    init(_ value: Value) { stored = value }
    var value: Value { lock.lock(); defer { lock.unlock() }; return stored }
    func mutate(_ body: (inout Value) -> Void) { lock.lock(); defer { lock.unlock() }; body(&stored) }
}
