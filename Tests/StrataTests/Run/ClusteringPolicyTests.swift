import Foundation
import StrataEmbed
import StrataStore
import Testing
@testable import Strata

/// k, its range and the checks around it: one home (``ClusteringPolicy``) that run, fit and estimate call.
@Suite struct ClusteringPolicyTests {
    @Test func autoRangeFollowsTheCorpusSizeAndItsVariety() {
        #expect(ClusteringPolicy.autoRange(documents: 3000, distinct: 3000) == 13...54)
        #expect(ClusteringPolicy.autoRange(documents: 40_000, distinct: 40_000) == 50...100)
        // Beyond 40,000 documents the range stays 50…100 (it once became ⌊√n/4⌋…⌊√n/4⌋+1, e.g. 790…791 at 10M).
        #expect(ClusteringPolicy.autoRange(documents: 700_000, distinct: 700_000) == 50...100)
        #expect(ClusteringPolicy.autoRange(documents: 10_000_000, distinct: 10_000_000) == 50...100)
        #expect(ClusteringPolicy.autoRange(documents: 10, distinct: 10) == 2...3)
        // A low-variety corpus: the top is the number of distinct texts, never above it.
        #expect(ClusteringPolicy.autoRange(documents: 400, distinct: 4) == 4...4)
        #expect(ClusteringPolicy.autoRange(documents: 400, distinct: 12) == 5...12)
        #expect(ClusteringPolicy.autoRange(documents: 400, distinct: 1) == 2...2)
    }

    @Test func candidatesAndChecks() throws {
        let docs = (0..<400).map { Document(id: "d\($0)", text: "text \($0 % 4)") }
        #expect(ClusteringPolicy.candidates(.fixed(7), documents: docs) == 7...7)
        #expect(ClusteringPolicy.candidates(.auto, documents: docs) == 4...4)
        try ClusteringPolicy.checkVariety(docs, k: .fixed(4))
        #expect(throws: StrataError.self) { try ClusteringPolicy.checkVariety(docs, k: .fixed(5)) }
        #expect(throws: StrataError.self) { try ClusteringPolicy.checkVariety(docs.map { Document(id: $0.id, text: "same") }, k: .auto) }
        #expect(throws: StrataError.self) { try ClusteringPolicy.checkSeeds(5, k: .fixed(4), file: "seeds.txt") }
        try ClusteringPolicy.checkSeeds(5, k: .auto, file: "seeds.txt")
        #expect(ClusteringPolicy.refitReason(.fixed(6), fitted: 5) == "--k 6 differs from the fitted 5 topics")
        #expect(ClusteringPolicy.refitReason(.fixed(5), fitted: 5) == nil)
        #expect(ClusteringPolicy.refitReason(.auto, fitted: 5) == nil)
    }

    /// 400 documents with only 4 distinct texts (and vectors): `strata estimate` must assume the k the
    /// run then fits. It used to assume 20 (the top of ⌊√400/4⌋…⌊√400⌋) while the run fitted 4.
    @Test(.enabled(if: underCI || vocabularyPresent, "needs the MiniLM model files: scripts/fetch-model.sh"))
    func estimateAndRunAgreeOnKForALowVarietyCorpus() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("strata-k-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("docs.jsonl").path
        let lines = try (0..<400).map { i -> String in
            let c = i % 4
            let vec = (0..<8).map { j in j == c ? 1.0 : (j == c + 4 ? 0.5 : 0.0) }
            let row: [String: Any] = ["id": "d\(i)", "text": "topic \(c) text", "vec": vec]
            return String(decoding: try JSONSerialization.data(withJSONObject: row), as: UTF8.self)
        }
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        var options = RunOptions(source: .jsonl(path))
        options.embedder = .field("vec")
        let estimate = try await Estimator.estimate(options)
        let result = try await Pipeline.run(options)
        #expect(estimate.kAssumed == 4)
        #expect(result.document.topics.count == estimate.kAssumed)
    }
}

/// Whether the MiniLM vocabulary is in the model cache (the estimator counts tokens with it).
let vocabularyPresent = FileManager.default.fileExists(
    atPath: MiniLMEncoder.defaultModelDirectory().appendingPathComponent("vocab.txt").path)
