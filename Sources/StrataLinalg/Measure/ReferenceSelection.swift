import Foundation

/// Choosing reference texts for clusters (labels, descriptions) by where their embeddings land.
///
/// All matrices hold unit-norm rows, so dot products are cosines. Candidates belong to clusters
/// through `owner` (candidate row → cluster index in `0..<centroids.rows`).
public enum ReferenceSelection {
    /// Where one candidate lands among the centroids.
    public struct Placement: Sendable, Equatable {
        /// Cosine to its own cluster's centroid minus the largest cosine to any other centroid:
        /// positive iff its own centroid is the nearest. (With one cluster: the cosine itself.)
        public var margin: Float
        /// The nearest centroid's cluster index.
        public var nearest: Int
        /// Cosine to its own centroid.
        public var own: Float
        public init(margin: Float, nearest: Int, own: Float) { self.margin = margin; self.nearest = nearest; self.own = own }
    }

    /// The placement of every candidate. O(m·k·d): one SGEMM of candidates (m × d) against centroids
    /// (k × d). Throws when the dimensions differ or an owner is out of range.
    public static func placements(_ candidates: Matrix, centroids: Matrix, owner: [Int]) throws -> [Placement] {
        guard candidates.cols == centroids.cols else {
            throw LinalgError.shapeMismatch(operation: "ReferenceSelection.placements", expected: "\(centroids.cols) columns", got: "\(candidates.cols)")
        }
        guard owner.count == candidates.rows, owner.allSatisfy({ (0..<centroids.rows).contains($0) }) else {
            throw LinalgError.invalidParameter(name: "owner", reason: "every candidate needs an owner in 0..<\(centroids.rows)")
        }
        let sims = dotProducts(candidates, centroids)
        let k = centroids.rows
        return owner.enumerated().map { c, t in
            var nearest = t, other = -Float.infinity
            for u in 0..<k {
                let s = sims[c * k + u]
                if u != t && s > other { other = s }
                if s > sims[c * k + nearest] { nearest = u }
            }
            let own = sims[c * k + t]
            return Placement(margin: k > 1 ? own - other : own, nearest: nearest, own: own)
        }
    }

    /// Neighbour precision of each candidate: the share of its `neighbours` nearest documents (by
    /// cosine) that belong to the candidate's own cluster. A label whose nearest documents are mostly
    /// another topic's means something else in this corpus ("Windows" over X11 desktops), even when
    /// its embedding still lands nearest its own centroid. O(m·n·d) for one SGEMM plus O(m·n) to
    /// select; ties at the cut are broken by the lower document row.
    ///
    /// - Parameters:
    ///   - candidates: m × d unit rows; `owner[c]` is candidate c's cluster.
    ///   - documents: n × d unit rows (a sample); `clusterOf[i]` is document i's cluster.
    ///   - neighbours: how many nearest documents count (clamped to 1…n).
    /// - Returns: m shares in 0…1; all 0 when there are no documents.
    public static func neighbourPrecision(_ candidates: Matrix, owner: [Int], documents: Matrix, clusterOf: [Int],
                                          neighbours: Int = 20) throws -> [Float] {
        guard candidates.cols == documents.cols || candidates.rows == 0 || documents.rows == 0 else {
            throw LinalgError.shapeMismatch(operation: "ReferenceSelection.neighbourPrecision", expected: "\(documents.cols) columns", got: "\(candidates.cols)")
        }
        guard owner.count == candidates.rows, clusterOf.count == documents.rows else {
            throw LinalgError.invalidParameter(name: "owner/clusterOf", reason: "need one entry per candidate and per document")
        }
        let n = documents.rows
        guard n > 0 else { return [Float](repeating: 0, count: candidates.rows) }
        let k = min(max(1, neighbours), n)
        let sims = dotProducts(candidates, documents)
        return (0..<candidates.rows).map { c in
            let own = nearest(k, of: sims[(c * n)..<(c * n + n)]).filter { clusterOf[$0] == owner[c] }.count
            return Float(own) / Float(k)
        }
    }

    /// Offsets (from the slice's start) of the `k` largest values, largest first, ties to the lower
    /// offset: one pass keeping a sorted top-k, O(n·k) worst case, O(n) typical.
    static func nearest(_ k: Int, of values: ArraySlice<Float>) -> [Int] {
        var top: [(value: Float, at: Int)] = []
        top.reserveCapacity(k + 1)
        for (at, v) in zip(0..., values) {
            if top.count == k, let last = top.last, v <= last.value { continue }
            var i = top.count
            while i > 0 && top[i - 1].value < v { i -= 1 }
            top.insert((v, at), at: i)
            if top.count > k { top.removeLast() }
        }
        return top.map(\.at)
    }

    /// a (m × d) · bᵀ (n × d) as a row-major m × n buffer: one SGEMM, 2·m·n·d flops.
    public static func dotProducts(_ a: Matrix, _ b: Matrix) -> [Float] {
        precondition(a.cols == b.cols, "dotProducts: \(a.cols) vs \(b.cols) columns")
        var out = [Float](repeating: 0, count: a.rows * b.rows)
        guard a.rows > 0, b.rows > 0, a.cols > 0 else { return out }
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                out.withUnsafeMutableBufferPointer { op in
                    BLAS.gemm(.none, .transpose, m: a.rows, n: b.rows, k: a.cols, alpha: 1, a: ap.baseAddress!, lda: a.cols,
                               b: bp.baseAddress!, ldb: b.cols, beta: 0, c: op.baseAddress!, ldc: b.rows)
                }
            }
        }
        return out
    }

    /// Picks one candidate per cluster so that as many documents as possible have their own cluster's
    /// chosen candidate as the nearest of all chosen candidates (the "label fidelity" of the choice).
    ///
    /// Coordinate ascent from `initial`: each cluster in turn takes the candidate that maximises the
    /// total count with the others fixed (a change must strictly improve it), for at most `rounds`
    /// passes or until nothing changes. Monotone, so the result never scores below `initial`.
    /// Documents with `clusterOf[i] < 0` are ignored. O(rounds · (n·m + changes · n·k)) after one n × m
    /// SGEMM; `documents` should be a sample of at most a few tens of thousands of rows.
    ///
    /// - Parameters:
    ///   - documents: n × d unit rows.
    ///   - clusterOf: each document's cluster (−1 to ignore).
    ///   - candidates: m × d unit rows; `owner[c]` is candidate c's cluster.
    ///   - initial: a candidate row per cluster (owned by that cluster).
    /// - Returns: the chosen candidate row per cluster and the number of documents it gets right.
    public static func maximizeHits(documents: Matrix, clusterOf: [Int], candidates: Matrix, owner: [Int],
                                    initial: [Int], rounds: Int = 8) throws -> (choice: [Int], hits: Int) {
        let k = initial.count, n = documents.rows, m = candidates.rows
        guard clusterOf.count == n, owner.count == m, initial.enumerated().allSatisfy({ owner.indices.contains($1) && owner[$1] == $0 }) else {
            throw LinalgError.invalidParameter(name: "clusterOf/owner/initial", reason: "do not match the matrices, or an initial candidate belongs to another cluster")
        }
        guard documents.cols == candidates.cols else {
            throw LinalgError.shapeMismatch(operation: "ReferenceSelection.maximizeHits", expected: "\(documents.cols) columns", got: "\(candidates.cols)")
        }
        let sims = dotProducts(documents, candidates)
        var choice = initial
        var byCluster = [[Int]](repeating: [], count: k)
        for (c, t) in owner.enumerated() { byCluster[t].append(c) }
        var top = Tops(n: n)
        top.recompute(sims: sims, m: m, choice: choice)
        for _ in 0..<max(1, rounds) {
            var changed = false
            for t in 0..<k where byCluster[t].count > 1 {
                var best = choice[t], bestHits = hits(t: t, candidate: choice[t], sims: sims, m: m, clusterOf: clusterOf, choice: choice, top: top)
                for c in byCluster[t] where c != choice[t] {
                    let h = hits(t: t, candidate: c, sims: sims, m: m, clusterOf: clusterOf, choice: choice, top: top)
                    if h > bestHits { best = c; bestHits = h }
                }
                if best != choice[t] {
                    choice[t] = best
                    top.recompute(sims: sims, m: m, choice: choice)
                    changed = true
                }
            }
            if !changed { break }
        }
        let total = (0..<n).reduce(0) { acc, i in
            let t = clusterOf[i]
            return t >= 0 && sims[i * m + choice[t]] >= top.first[i] ? acc + 1 : acc
        }
        return (choice, total)
    }

    /// Per document: the largest and second-largest cosine to the chosen candidates, and whose.
    struct Tops {
        var first: [Float], second: [Float], firstCluster: [Int]
        init(n: Int) {
            first = [Float](repeating: -.infinity, count: n)
            second = first
            firstCluster = [Int](repeating: -1, count: n)
        }
        mutating func recompute(sims: [Float], m: Int, choice: [Int]) {
            for i in first.indices {
                var a = -Float.infinity, b = -Float.infinity, at = -1
                for (t, c) in choice.enumerated() {
                    let s = sims[i * m + c]
                    if s > a { b = a; a = s; at = t } else if s > b { b = s }
                }
                first[i] = a; second[i] = b; firstCluster[i] = at
            }
        }
    }

    /// Documents right if cluster t's choice became `candidate`, the others' unchanged.
    static func hits(t: Int, candidate: Int, sims: [Float], m: Int, clusterOf: [Int], choice: [Int], top: Tops) -> Int {
        var count = 0
        for i in clusterOf.indices {
            let own = clusterOf[i]
            guard own >= 0 else { continue }
            let s = sims[i * m + candidate]
            let others = top.firstCluster[i] == t ? top.second[i] : top.first[i]
            let best = max(others, s)
            let mine = own == t ? s : sims[i * m + choice[own]]
            if mine >= best { count += 1 }
        }
        return count
    }
}
