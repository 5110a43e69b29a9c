import Foundation

/// Clustering quality metrics with scikit-learn's definitions, computed in `Double`.
public enum ClusterMetrics {
    /// Distance for silhouette scores.
    public enum Distance: Sendable { case euclidean, cosine }

    static func checkLabels(_ x: Matrix, _ labels: [Int], _ op: String) throws -> Int {
        guard labels.count == x.rows else {
            throw LinalgError.shapeMismatch(operation: op, expected: "\(x.rows) labels", got: "\(labels.count)")
        }
        guard labels.allSatisfy({ $0 >= 0 }) else {
            throw LinalgError.invalidParameter(name: "labels", reason: "must be ≥ 0 (drop unassigned rows first)")
        }
        let k = (labels.max() ?? -1) + 1
        let distinct = Set(labels).count
        guard distinct >= 2 && distinct <= x.rows - 1 else {
            throw LinalgError.invalidParameter(name: "labels",
                                               reason: "need 2 ≤ number of clusters ≤ n − 1, got \(distinct)")
        }
        try x.checkFinite()
        return k
    }

    /// Per-row silhouette s = (b − a) / max(a, b), where a is the mean distance to the other members of
    /// its cluster and b the smallest mean distance to another cluster; 0 for singleton clusters.
    /// Pairwise distances come from DGEMM in row tiles (the n×n matrix is never stored). O(n²·d).
    public static func silhouetteSamples(_ x: Matrix, labels: [Int], distance: Distance = .euclidean) throws -> [Double] {
        let k = try checkLabels(x, labels, "silhouette")
        let n = x.rows, d = x.cols
        var xd = x.storage.map(Double.init)
        if distance == .cosine {
            for r in 0..<n {
                var s = 0.0
                for j in 0..<d { s += xd[r * d + j] * xd[r * d + j] }
                let inv = s > 0 ? 1 / s.squareRoot() : 0
                for j in 0..<d { xd[r * d + j] *= inv }
            }
        }
        var norms = [Double](repeating: 0, count: n)
        for r in 0..<n { var s = 0.0; for j in 0..<d { s += xd[r * d + j] * xd[r * d + j] }; norms[r] = s }
        var sizes = [Int](repeating: 0, count: k)
        for l in labels { sizes[l] += 1 }
        var out = [Double](repeating: 0, count: n)
        let tile = 256
        xd.withUnsafeBufferPointer { xp in
            out.withUnsafeMutableBufferPointer { op in
                let obase = op.baseAddress!
                Parallel.rowTiles(rows: n, tileRows: tile) { _, tiles in
                    var g = [Double](repeating: 0, count: tile * n)
                    var clusterSums = [Double](repeating: 0, count: k)
                    g.withUnsafeMutableBufferPointer { gp in
                        for span in tiles {
                            let r0 = span.lowerBound, rows = span.count
                            BLAS.gemm(.none, .transpose, m: rows, n: n, k: d, alpha: 1,
                                       a: xp.baseAddress! + r0 * d, lda: d, b: xp.baseAddress!, ldb: d,
                                       beta: 0, c: gp.baseAddress!, ldc: n)
                            for r in 0..<rows {
                                let i = r0 + r
                                for c in 0..<k { clusterSums[c] = 0 }
                                let row = gp.baseAddress! + r * n
                                for j in 0..<n where j != i {
                                    let dist: Double
                                    if distance == .cosine {
                                        dist = max(0, 1 - row[j])
                                    } else {
                                        dist = max(0, norms[i] + norms[j] - 2 * row[j]).squareRoot()
                                    }
                                    clusterSums[labels[j]] += dist
                                }
                                let own = labels[i]
                                if sizes[own] <= 1 { obase[i] = 0; continue }
                                let a = clusterSums[own] / Double(sizes[own] - 1)
                                var b = Double.infinity
                                for c in 0..<k where c != own && sizes[c] > 0 { b = min(b, clusterSums[c] / Double(sizes[c])) }
                                let m = max(a, b)
                                obase[i] = m > 0 ? (b - a) / m : 0
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// All pairwise distances of a (sample) matrix, computed once with one SGEMM and kept (n² floats),
    /// so that many labelings of the same rows can be scored without recomputing them: the k scan.
    public struct PairwiseDistances: Sendable {
        public let count: Int
        /// Row-major n×n, zero diagonal.
        let values: [Float]

        /// O(n²·d) time (one SSYRK: the upper triangle of the Gram matrix, mirrored in 64×64 blocks),
        /// 4·n² bytes.
        public init(_ x: Matrix, distance: Distance) throws {
            try x.checkFinite()
            let n = x.rows, d = x.cols
            let rows = distance == .cosine ? x.normalizedRows() : x
            var g = [Float](repeating: 0, count: n * n)
            rows.storage.withUnsafeBufferPointer { xp in
                g.withUnsafeMutableBufferPointer { gp in
                    BLAS.ssyrk(n: n, k: d, alpha: 1, a: xp.baseAddress!, lda: d, beta: 0, c: gp.baseAddress!, ldc: n)
                }
            }
            var norms = [Float](repeating: 0, count: n)
            for i in 0..<n { norms[i] = g[i * n + i] }
            let block = 64, blocks = (n + block - 1) / block
            g.withUnsafeMutableBufferPointer { gp in
                let base = gp.baseAddress!
                // Block row bi turns its upper blocks (bj ≥ bi) into distances and copies each to its
                // mirror below the diagonal; worker w owns block rows w, w + W, … (the triangle's rows
                // shrink, so interleaving balances the work).
                let workers = min(Parallel.workerCount, blocks)
                Parallel.chunks(count: workers, workers: workers) { w, _ in
                    for bi in stride(from: w, to: blocks, by: workers) {
                        let i0 = bi * block, i1 = min(n, i0 + block)
                        for bj in bi..<blocks {
                            let j0 = bj * block, j1 = min(n, j0 + block)
                            for i in i0..<i1 {
                                let row = base + i * n
                                for j in max(j0, i)..<j1 {
                                    row[j] = distance == .cosine ? max(0, 1 - row[j]) : max(0, norms[i] + norms[j] - 2 * row[j]).squareRoot()
                                }
                                row[i] = 0
                            }
                            guard bj > bi else {
                                for i in i0..<i1 { for j in i0..<i { base[i * n + j] = base[j * n + i] } }
                                continue
                            }
                            for j in j0..<j1 {
                                let dst = base + j * n
                                for i in i0..<i1 { dst[i] = base[i * n + j] }
                            }
                        }
                    }
                }
            }
            count = n
            values = g
        }

        /// Mean silhouette of `labels` (in `0..<k`) over these rows; singletons score 0, as in
        /// ``ClusterMetrics/silhouetteSamples(_:labels:distance:)``; over `workers` threads. O(n² + n·k).
        public func silhouette(labels: [Int], k: Int, workers: Int = Parallel.workerCount) -> Double {
            precondition(labels.count == count)
            let n = count
            var sizes = [Int](repeating: 0, count: k)
            for l in labels { sizes[l] += 1 }
            let ranges = Parallel.chunkRanges(count: n, workers: workers)
            var partial = [Double](repeating: 0, count: ranges.count)
            values.withUnsafeBufferPointer { dp in
                partial.withUnsafeMutableBufferPointer { pp in
                    let out = pp.baseAddress!
                    Parallel.chunks(count: n, workers: workers) { chunk, range in
                        var sums = [Double](repeating: 0, count: k)
                        var total = 0.0
                        for i in range {
                            for c in 0..<k { sums[c] = 0 }
                            let row = dp.baseAddress! + i * n
                            for j in 0..<n { sums[labels[j]] += Double(row[j]) }   // row[i] = 0
                            let own = labels[i]
                            guard sizes[own] > 1 else { continue }
                            let a = sums[own] / Double(sizes[own] - 1)
                            var b = Double.infinity
                            for c in 0..<k where c != own && sizes[c] > 0 { b = min(b, sums[c] / Double(sizes[c])) }
                            let m = max(a, b)
                            if m > 0 && b.isFinite { total += (b - a) / m }
                        }
                        out[chunk] = total
                    }
                }
            }
            return partial.reduce(0, +) / Double(n)
        }
    }

    /// Exact mean silhouette under cosine distance (1 − cos, scikit-learn's `silhouette_score` with
    /// `metric="cosine"`) without a pairwise matrix: for unit rows the summed distance from row i to the
    /// members of cluster C is |C| − x̂ᵢ·S_C with S_C = Σ_{j∈C} x̂ⱼ, so one DGEMM of the rows against the
    /// k cluster sums gives every a(i) and b(i). Zero rows are at distance 1 from everything;
    /// singletons score 0. O(n·k·d) time (about one k-means iteration) and O(k·d + tile·(k + d)) memory,
    /// instead of O(n²·d) and 4·n² bytes; Double throughout. `workers` = 1 runs on the calling thread
    /// with OpenBLAS as the caller set it (for use inside `BLAS.withThreads`).
    public static func cosineSilhouette(_ x: Matrix, labels: [Int], workers: Int = Parallel.workerCount) throws -> Double {
        let k = try checkLabels(x, labels, "cosineSilhouette")
        try x.checkFinite()
        let n = x.rows, d = x.cols
        var sizes = [Int](repeating: 0, count: k)
        var sums = [Double](repeating: 0, count: k * d)
        var inverseNorms = [Double](repeating: 0, count: n)
        x.withUnsafeBufferPointer { xp in
            for i in 0..<n {
                let row = xp.baseAddress! + i * d
                var s = 0.0
                for j in 0..<d { s += Double(row[j]) * Double(row[j]) }
                let inv = s > 0 ? 1 / s.squareRoot() : 0
                inverseNorms[i] = inv
                let l = labels[i]
                sizes[l] += 1
                for j in 0..<d { sums[l * d + j] += Double(row[j]) * inv }
            }
        }
        let tile = 2_048
        let tiles = (n + tile - 1) / tile
        let w = max(1, min(workers, tiles))
        var partial = [Double](repeating: 0, count: w)
        x.withUnsafeBufferPointer { xp in
            sums.withUnsafeBufferPointer { sp in
                partial.withUnsafeMutableBufferPointer { pp in
                    let out = pp.baseAddress!
                    let work = {
                        Parallel.chunks(count: tiles, workers: w) { chunk, range in
                            var rows = [Double](repeating: 0, count: tile * d)
                            var g = [Double](repeating: 0, count: tile * k)
                            var total = 0.0
                            for t in range {
                                let r0 = t * tile, m = min(n, r0 + tile) - r0
                                for r in 0..<m {
                                    let src = xp.baseAddress! + (r0 + r) * d, inv = inverseNorms[r0 + r]
                                    for j in 0..<d { rows[r * d + j] = Double(src[j]) * inv }
                                }
                                rows.withUnsafeBufferPointer { rp in
                                    g.withUnsafeMutableBufferPointer { gp in
                                        BLAS.gemm(.none, .transpose, m: m, n: k, k: d, alpha: 1, a: rp.baseAddress!, lda: d,
                                                   b: sp.baseAddress!, ldb: d, beta: 0, c: gp.baseAddress!, ldc: k)
                                    }
                                }
                                for r in 0..<m {
                                    let own = labels[r0 + r]
                                    guard sizes[own] > 1 else { continue }
                                    var selfDot = 0.0
                                    for j in 0..<d { selfDot += rows[r * d + j] * rows[r * d + j] }
                                    let a = (Double(sizes[own] - 1) - (g[r * k + own] - selfDot)) / Double(sizes[own] - 1)
                                    var b = Double.infinity
                                    for c in 0..<k where c != own && sizes[c] > 0 {
                                        b = min(b, (Double(sizes[c]) - g[r * k + c]) / Double(sizes[c]))
                                    }
                                    let m = max(a, b)
                                    if m > 0 && b.isFinite { total += (b - a) / m }
                                }
                            }
                            out[chunk] = total
                        }
                    }
                    if w == 1 { work() } else { BLAS.withThreads(1, work) }
                }
            }
        }
        return partial.reduce(0, +) / Double(n)
    }

    /// Mean silhouette over all rows (scikit-learn's `silhouette_score`). O(n²·d).
    public static func silhouette(_ x: Matrix, labels: [Int], distance: Distance = .euclidean) throws -> Double {
        let s = try silhouetteSamples(x, labels: labels, distance: distance)
        return s.reduce(0, +) / Double(s.count)
    }

    /// Silhouette of a uniform random sample of at most `sampleSize` rows (without replacement,
    /// seeded), computed exactly within the sample — scikit-learn's `sample_size` semantics. A sample
    /// smaller than the data goes through ``PairwiseDistances`` (float32 distances, one SGEMM: ~2× the
    /// speed of the double-precision path, equal to 1e-5). O(s²·d) for s = min(n, sampleSize).
    public static func sampledSilhouette(_ x: Matrix, labels: [Int], sampleSize: Int = 20_000, seed: UInt64 = 0,
                                         distance: Distance = .euclidean) throws -> Double {
        if x.rows <= sampleSize { return try silhouette(x, labels: labels, distance: distance) }
        let k = try checkLabels(x, labels, "silhouette")
        let chosen = sampleRows(count: x.rows, sampleSize: sampleSize, seed: seed)
        return try PairwiseDistances(x.gathering(rows: chosen), distance: distance)
            .silhouette(labels: chosen.map { labels[$0] }, k: k)
    }

    /// The sorted row indices of a seeded uniform sample without replacement (partial Fisher–Yates);
    /// the same (count, sampleSize, seed) always gives the same rows. O(count).
    public static func sampleRows(count: Int, sampleSize: Int, seed: UInt64) -> [Int] {
        guard sampleSize < count else { return Array(0..<count) }
        var rng = SeededGenerator(seed: seed)
        var idx = Array(0..<count)
        for i in 0..<sampleSize { idx.swapAt(i, i + Int(rng.next() % UInt64(count - i))) }
        return Array(idx.prefix(sampleSize)).sorted()
    }

    /// Simplified silhouette (Hruschka et al.): a = distance to the own centroid, b = distance to the
    /// nearest other centroid, averaged over rows. O(n) given an ``Assignment`` with second distances.
    public static func simplifiedSilhouette(_ assignment: Assignment) -> Double {
        var s = 0.0
        for i in assignment.labels.indices {
            let a = Double(assignment.squaredDistances[i]).squareRoot()
            let b = Double(assignment.secondSquaredDistances[i]).squareRoot()
            let m = max(a, b)
            if m > 0 && m.isFinite { s += (b - a) / m }
        }
        return s / Double(max(1, assignment.labels.count))
    }

    static func centroidsAndMean(_ x: Matrix, _ labels: [Int], k: Int) -> (centroids: [Double], sizes: [Int], mean: [Double]) {
        let n = x.rows, d = x.cols
        var c = [Double](repeating: 0, count: k * d), sizes = [Int](repeating: 0, count: k)
        var mean = [Double](repeating: 0, count: d)
        for r in 0..<n {
            let l = labels[r]; sizes[l] += 1
            for j in 0..<d { let v = Double(x[r, j]); c[l * d + j] += v; mean[j] += v }
        }
        for l in 0..<k where sizes[l] > 0 { for j in 0..<d { c[l * d + j] /= Double(sizes[l]) } }
        for j in 0..<d { mean[j] /= Double(n) }
        return (c, sizes, mean)
    }

    /// Calinski–Harabasz index: (between-cluster dispersion / (k−1)) / (within-cluster dispersion / (n−k)).
    /// Higher is better. O(n·d).
    public static func calinskiHarabasz(_ x: Matrix, labels: [Int]) throws -> Double {
        _ = try checkLabels(x, labels, "calinskiHarabasz")
        let kAll = (labels.max() ?? 0) + 1
        let (c, sizes, mean) = centroidsAndMean(x, labels, k: kAll)
        let n = x.rows, d = x.cols
        let k = sizes.filter { $0 > 0 }.count
        var extra = 0.0, intra = 0.0
        for l in 0..<kAll where sizes[l] > 0 {
            var s = 0.0
            for j in 0..<d { let v = c[l * d + j] - mean[j]; s += v * v }
            extra += Double(sizes[l]) * s
        }
        for r in 0..<n { let l = labels[r]; for j in 0..<d { let v = Double(x[r, j]) - c[l * d + j]; intra += v * v } }
        return intra == 0 ? 1 : extra * Double(n - k) / (intra * Double(k - 1))
    }

    /// Davies–Bouldin index: mean over clusters of max_j (s_i + s_j) / ‖c_i − c_j‖, s = mean distance
    /// of members to their centroid. Lower is better. O(n·d + k²·d).
    public static func daviesBouldin(_ x: Matrix, labels: [Int]) throws -> Double {
        _ = try checkLabels(x, labels, "daviesBouldin")
        let kAll = (labels.max() ?? 0) + 1
        let (c, sizes, _) = centroidsAndMean(x, labels, k: kAll)
        let n = x.rows, d = x.cols
        let present = (0..<kAll).filter { sizes[$0] > 0 }
        var intra = [Double](repeating: 0, count: kAll)
        for r in 0..<n {
            let l = labels[r]
            var s = 0.0
            for j in 0..<d { let v = Double(x[r, j]) - c[l * d + j]; s += v * v }
            intra[l] += s.squareRoot()
        }
        for l in present { intra[l] /= Double(sizes[l]) }
        func dist(_ a: Int, _ b: Int) -> Double {
            var s = 0.0
            for j in 0..<d { let v = c[a * d + j] - c[b * d + j]; s += v * v }
            return s.squareRoot()
        }
        if present.allSatisfy({ intra[$0] == 0 }) { return 0 }
        var total = 0.0
        for a in present {
            var worst = 0.0
            for b in present where b != a {
                let dd = dist(a, b)
                worst = max(worst, dd == 0 ? 0 : (intra[a] + intra[b]) / dd)
            }
            total += worst
        }
        return total / Double(present.count)
    }

    /// Counts of (true class, predicted cluster) pairs.
    public struct Contingency: Sendable, Equatable {
        /// Sorted distinct true labels (rows of the table).
        public let classes: [Int]
        /// Sorted distinct predicted labels (columns of the table).
        public let clusters: [Int]
        /// Row-major counts, classes.count × clusters.count.
        public let counts: [Int]
        public subscript(row: Int, col: Int) -> Int { counts[row * clusters.count + col] }
    }

    /// Contingency table of two labelings of the same items. O(n + classes·clusters).
    public static func contingency(truth: [Int], predicted: [Int]) throws -> Contingency {
        guard truth.count == predicted.count else {
            throw LinalgError.shapeMismatch(operation: "contingency", expected: "\(truth.count) predicted labels",
                                            got: "\(predicted.count)")
        }
        let classes = Array(Set(truth)).sorted(), clusters = Array(Set(predicted)).sorted()
        let ci = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
        let ki = Dictionary(uniqueKeysWithValues: clusters.enumerated().map { ($1, $0) })
        var counts = [Int](repeating: 0, count: classes.count * clusters.count)
        for (t, p) in zip(truth, predicted) { counts[ci[t]! * clusters.count + ki[p]!] += 1 }
        return Contingency(classes: classes, clusters: clusters, counts: counts)
    }

    /// Mutual information (nats, ≥ 0) of a contingency table, with its row (class) and column (cluster)
    /// sums. O(classes · clusters).
    static func mutualInformation(_ t: Contingency) -> (mi: Double, rowSums: [Double], colSums: [Double]) {
        var rowSums = [Double](repeating: 0, count: t.classes.count)
        var colSums = [Double](repeating: 0, count: t.clusters.count)
        for r in 0..<t.classes.count { for c in 0..<t.clusters.count {
            rowSums[r] += Double(t[r, c]); colSums[c] += Double(t[r, c])
        } }
        let n = rowSums.reduce(0, +)
        var mi = 0.0
        for r in 0..<t.classes.count { for c in 0..<t.clusters.count where t[r, c] > 0 {
            let nij = Double(t[r, c])
            mi += nij / n * (log(nij) + log(n) - log(rowSums[r]) - log(colSums[c]))
        } }
        return (max(0, mi), rowSums, colSums)
    }

    /// Normalised mutual information with the arithmetic-mean normaliser (scikit-learn's default):
    /// MI / ((H(truth) + H(predicted)) / 2). 1 for identical partitions up to renaming. O(n).
    public static func normalizedMutualInformation(truth: [Int], predicted: [Int]) throws -> Double {
        let t = try contingency(truth: truth, predicted: predicted)
        if t.classes.count == t.clusters.count && t.classes.count <= 1 { return 1 }
        let (mi, rowSums, colSums) = mutualInformation(t)
        let n = Double(truth.count)
        if mi == 0 { return 0 }
        func entropy(_ sums: [Double]) -> Double { -sums.reduce(0) { $0 + ($1 > 0 ? $1 / n * log($1 / n) : 0) } }
        return mi / ((entropy(rowSums) + entropy(colSums)) / 2)
    }

    /// Adjusted mutual information with the arithmetic-mean normaliser (scikit-learn's default):
    /// (MI − E[MI]) / ((H(truth) + H(predicted)) / 2 − E[MI]), where E[MI] is the expected mutual
    /// information of two random partitions with the same cluster sizes (hypergeometric model, Vinh,
    /// Epps & Bailey 2010). Unlike NMI it does not grow with the number of clusters: ≈ 0 for random
    /// partitions, 1 for identical ones. O(n + Σ over class·cluster pairs of min(class size, cluster size)).
    public static func adjustedMutualInformation(truth: [Int], predicted: [Int]) throws -> Double {
        let t = try contingency(truth: truth, predicted: predicted)
        if t.classes.count == t.clusters.count && t.classes.count <= 1 { return 1 }
        let (mi, rowSums, colSums) = mutualInformation(t)
        let n = Double(truth.count)
        // E[MI]: for every (class, cluster) pair, sum over the feasible overlaps m of
        // (m/n)·log(n·m/(a·b)) · P(m), P hypergeometric; log P(m) is stepped from its first term by
        // the ratio P(m+1)/P(m) = (a−m)(b−m) / ((m+1)(n−a−b+m+1)).
        var emi = 0.0
        let logGamma: (Double) -> Double = lgamma
        func logFactorial(_ x: Double) -> Double { logGamma(x + 1) }
        let logN = log(n), logNFactorial = logFactorial(n)
        for a in rowSums { for b in colSums {
            let lo = max(1, a + b - n), hi = min(a, b)
            guard lo <= hi else { continue }
            let numerator: Double = logFactorial(a) + logFactorial(b) + logFactorial(n - a) + logFactorial(n - b)
            let denominator: Double = logNFactorial + logFactorial(lo) + logFactorial(a - lo) + logFactorial(b - lo)
                + logFactorial(n - a - b + lo)
            var logP = numerator - denominator
            let logAB = log(a) + log(b)
            var m = lo
            while m <= hi {
                let term: Double = m / n * (logN + log(m) - logAB)
                emi += term * exp(logP)
                let up: Double = (a - m) * (b - m), down: Double = (m + 1) * (n - a - b + m + 1)
                logP += log(up) - log(down)
                m += 1
            }
        } }
        func entropy(_ sums: [Double]) -> Double { -sums.reduce(0) { $0 + ($1 > 0 ? $1 / n * log($1 / n) : 0) } }
        var denominator = (entropy(rowSums) + entropy(colSums)) / 2 - emi
        denominator = denominator < 0 ? min(denominator, -Double.ulpOfOne) : max(denominator, Double.ulpOfOne)
        return (mi - emi) / denominator
    }

    /// Adjusted Rand index (Hubert & Arabie) from the pair-confusion matrix. 1 for identical
    /// partitions, ≈ 0 for random ones. O(n + classes·clusters).
    public static func adjustedRandIndex(truth: [Int], predicted: [Int]) throws -> Double {
        let t = try contingency(truth: truth, predicted: predicted)
        let n = Double(truth.count)
        var sumSq = 0.0
        var rowSums = [Double](repeating: 0, count: t.classes.count)
        var colSums = [Double](repeating: 0, count: t.clusters.count)
        for r in 0..<t.classes.count { for c in 0..<t.clusters.count {
            let v = Double(t[r, c]); sumSq += v * v; rowSums[r] += v; colSums[c] += v
        } }
        let sumRows = rowSums.reduce(0) { $0 + $1 * $1 }, sumCols = colSums.reduce(0) { $0 + $1 * $1 }
        let tp = sumSq - n
        let fp = sumCols - sumSq   // scikit-learn's pair_confusion_matrix[0, 1]
        let fn = sumRows - sumSq   // [1, 0]
        let tn = n * n - fp - fn - sumSq
        if fn == 0 && fp == 0 { return 1 }
        return 2 * (tp * tn - fn * fp) / ((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn))
    }
}
