import Foundation
import Testing
import StrataLinalg

/// Brute-force count: documents whose own cluster's chosen row is the nearest of all chosen rows.
func bruteHits(_ docs: Matrix, _ clusterOf: [Int], _ cands: Matrix, _ choice: [Int]) -> Int {
    var hits = 0
    for i in 0..<docs.rows where clusterOf[i] >= 0 {
        let sims = choice.map { c in zip(docs.row(i), cands.row(c)).reduce(Float(0)) { $0 + $1.0 * $1.1 } }
        if sims[clusterOf[i]] >= sims.max()! { hits += 1 }
    }
    return hits
}

func randomUnit(_ rows: Int, _ cols: Int, _ rng: inout SplitMix) throws -> Matrix {
    try Matrix(rows: rows, cols: cols, storage: (0..<(rows * cols)).map { _ in Float(rng.next() % 2001) / 1000 - 1 }).normalizedRows()
}

struct SplitMix { var s: UInt64; mutating func next() -> UInt64 { s &+= 0x9E3779B97F4A7C15; var z = s; z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9; z = (z ^ (z >> 27)) &* 0x94D049BB133111EB; return z ^ (z >> 31) } }

@Suite("reference selection: label placements and the fidelity-maximising choice")
struct ReferenceSelectionTests {
    @Test("placements: margin = own cosine − best other; positive iff own centroid nearest")
    func placements() throws {
        let centroids = try Matrix(rows: 3, cols: 3, storage: [1, 0, 0, 0, 1, 0, 0, 0, 1])
        let cands = try Matrix(rows: 2, cols: 3, storage: [0.8, 0.6, 0, 0.6, 0.8, 0])
        let p = try ReferenceSelection.placements(cands, centroids: centroids, owner: [0, 0])
        #expect(abs(p[0].margin - 0.2) < 1e-6 && p[0].nearest == 0)
        #expect(abs(p[1].margin + 0.2) < 1e-6 && p[1].nearest == 1)
        #expect(throws: LinalgError.self) { try ReferenceSelection.placements(cands, centroids: centroids, owner: [0, 3]) }
    }

    @Test("neighbourPrecision: the own-cluster share of the k nearest documents equals a brute-force sort; k clamps to n")
    func neighbourPrecision() throws {
        var rng = SplitMix(s: 11)
        let n = 200, d = 6
        let docs = try randomUnit(n, d, &rng)
        let clusterOf = (0..<n).map { $0 % 3 }
        let cands = try randomUnit(7, d, &rng)
        let owner = (0..<7).map { $0 % 3 }
        for k in [1, 5, 20] {
            let p = try ReferenceSelection.neighbourPrecision(cands, owner: owner, documents: docs, clusterOf: clusterOf, neighbours: k)
            for c in 0..<cands.rows {
                let sims = (0..<n).map { i in zip(docs.row(i), cands.row(c)).reduce(Float(0)) { $0 + $1.0 * $1.1 } }
                let top = (0..<n).sorted { sims[$0] != sims[$1] ? sims[$0] > sims[$1] : $0 < $1 }.prefix(k)
                let want = Float(top.filter { clusterOf[$0] == owner[c] }.count) / Float(k)
                #expect(p[c] == want, "k \(k) candidate \(c)")
            }
        }
        // Hand-made: a candidate whose two nearest documents are the other cluster's scores 0 at k = 2, ½ at k = 4.
        let line = try Matrix(rows: 4, cols: 2, storage: [1, 0, 0.9, 0.1, 0.5, 0.5, 0.4, 0.6]).normalizedRows()
        let one = try Matrix(rows: 1, cols: 2, storage: [1, 0])
        #expect(try ReferenceSelection.neighbourPrecision(one, owner: [0], documents: line, clusterOf: [1, 1, 0, 0], neighbours: 2) == [0])
        #expect(try ReferenceSelection.neighbourPrecision(one, owner: [0], documents: line, clusterOf: [1, 1, 0, 0], neighbours: 99) == [0.5])
        #expect(throws: LinalgError.self) { try ReferenceSelection.neighbourPrecision(one, owner: [0, 1], documents: line, clusterOf: [1, 1, 0, 0]) }
    }

    @Test("maximizeHits: its count is the brute-force count, never below the start, and no single change improves it")
    func maximizeHits() throws {
        var rng = SplitMix(s: 7)
        for trial in 0..<5 {
            let k = 4, per = 3, d = 8, n = 300
            let cands = try randomUnit(k * per, d, &rng)
            let owner = (0..<(k * per)).map { $0 / per }
            let docs = try randomUnit(n, d, &rng)
            // Documents belong to the cluster of their nearest candidate (plus some noise labels).
            let clusterOf = (0..<n).map { i -> Int in
                if i % 17 == 0 { return -1 }
                let sims = (0..<cands.rows).map { c in zip(docs.row(i), cands.row(c)).reduce(Float(0)) { $0 + $1.0 * $1.1 } }
                return owner[sims.indices.max { sims[$0] < sims[$1] }!]
            }
            let initial = (0..<k).map { $0 * per }
            let (choice, hits) = try ReferenceSelection.maximizeHits(documents: docs, clusterOf: clusterOf, candidates: cands,
                                                                     owner: owner, initial: initial, rounds: 100)
            #expect(hits == bruteHits(docs, clusterOf, cands, choice), "trial \(trial)")
            #expect(hits >= bruteHits(docs, clusterOf, cands, initial))
            for t in 0..<k {
                for c in (t * per)..<((t + 1) * per) {
                    var other = choice
                    other[t] = c
                    #expect(bruteHits(docs, clusterOf, cands, other) <= hits)
                }
            }
        }
    }
}
