import Foundation
import Testing
import StrataLabel
import StrataLinalg
@testable import Strata

@Suite("streamed fit: k-means on a sample, every document assigned in slices (issue #27)")
struct StreamedFitTests {
    @Test("the sample is seeded, distinct, ascending and of the asked size; a small corpus is taken whole")
    func sample() {
        let a = StreamedFit.sample(count: 10_000, size: 700, seed: 42)
        #expect(a.count == 700 && Set(a).count == 700 && a == a.sorted() && a.allSatisfy { (0..<10_000).contains($0) })
        #expect(StreamedFit.sample(count: 10_000, size: 700, seed: 42) == a)
        #expect(StreamedFit.sample(count: 10_000, size: 700, seed: 43) != a)
        #expect(StreamedFit.sample(count: 50, size: 700, seed: 42) == Array(0..<50))
    }

    @Test("representatives from the 25 closest members are MMR's picks over all members")
    func representativesFromPools() throws {
        var rng = SeededGenerator(seed: 7)
        let n = 300, d = 6
        let x = try Matrix(rows: n, cols: d, storage: (0..<(n * d)).map { _ in Float.random(in: -1...1, using: &rng) }).normalizedRows()
        let labels = (0..<n).map { $0 % 3 }
        let centroids = Similarity.unitCentroids(x, labels: labels, k: 3)
        // Rounded scores make ties, which both sides must break by document order.
        let scores = Similarity.assignedDots(x, centroids, assignment: labels).map { ($0 * 20).rounded() / 20 }
        let members = (0..<3).map { t in (0..<n).filter { labels[$0] == t } }
        let pooled = try Describe.representatives(members, scores: scores, count: 5) { x.gathering(rows: $0) }
        for t in 0..<3 {
            let m = members[t]
            let all = Representatives.select(similarities: m.map { scores[$0] }, vector: { x.row(m[$0]) }, count: 5).map { m[$0] }
            #expect(pooled[t] == all)
        }
    }

    /// 3,000 documents in 6 separated groups of 16-dimensional field vectors.
    func corpus() throws -> (dir: URL, path: String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("strata-streamed-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var rng = SeededGenerator(seed: 11)
        let lines = try (0..<3_000).map { i -> String in
            let c = i % 6
            let vec = (0..<16).map { j in (j == c ? 1.0 : 0.0) + Double.random(in: -0.15...0.15, using: &rng) }
            let row: [String: Any] = ["id": "d\(i)", "text": "group \(c) words \(i % 17) more \(i % 5)", "vec": vec]
            return String(decoding: try JSONSerialization.data(withJSONObject: row), as: UTF8.self)
        }
        let path = dir.appendingPathComponent("docs.jsonl").path
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return (dir, path)
    }

    @Test("a sample (--fit-sample 300, raised to 256 a centroid: 1,536 of 3,000) gives every document the whole fit's topic; no temporary file is left")
    func sampledRunMatchesWholeFit() async throws {
        let (dir, path) = try corpus()
        defer { try? FileManager.default.removeItem(at: dir) }
        func run(sample: Int, state: String, fitted: Int) async throws -> Set<Set<String>> {
            var options = RunOptions(source: .jsonl(path))
            options.embedder = .field("vec")
            options.k = .fixed(6)
            options.fitSample = sample
            options.stateDirectory = dir.appendingPathComponent(state).path
            let result = try await Pipeline.run(options)
            #expect(result.document.topics.reduce(0) { $0 + $1.size } == 3_000)
            #expect(result.document.run.kmeans.fittedDocuments == fitted)
            let left = try FileManager.default.contentsOfDirectory(atPath: options.stateDirectory).filter { $0.hasPrefix(".strata-vectors") }
            #expect(left.isEmpty, "left behind: \(left)")
            return Set(result.document.topics.map { Set($0.documentIDs ?? []) })
        }
        let sampled = try await run(sample: 300, state: "sampled", fitted: 1_536)
        let whole = try await run(sample: 100_000, state: "whole", fitted: 3_000)
        #expect(sampled.count == 6)
        #expect(sampled == whole)
    }
}

@Suite("progress: rate and time left")
struct ProgressPaceTests {
    @Test("a rate appears after the first second, and a new stage or a count that goes back restarts it")
    func pace() {
        let r = ConsoleReporter(mode: .quiet)
        #expect(r.pace("embed", done: 0, total: 1_000).rate == nil)
        r.rateStart = Date().addingTimeInterval(-10)
        let (rate, eta) = r.pace("embed", done: 500, total: 1_000)
        #expect(abs((rate ?? 0) - 50) < 1 && abs((eta ?? 0) - 10) < 0.5)
        #expect(r.pace("assign", done: 10, total: 1_000).rate == nil)
        #expect(ConsoleReporter.paceText(6_420.4, 59.4) == ", 6420/s, 59 s left")
        #expect(ConsoleReporter.paceText(2.25, 600) == ", 2.2/s, 10 min left" || ConsoleReporter.paceText(2.25, 600) == ", 2.3/s, 10 min left")
        #expect(ConsoleReporter.paceText(nil, nil) == "")
    }
}
