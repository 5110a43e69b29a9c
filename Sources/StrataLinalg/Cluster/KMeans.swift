import Foundation

/// Lloyd's k-means on a BLAS core, with greedy k-means++ seeding and scikit-learn's semantics.
///
/// Each iteration computes squared distances ‖x‖² − 2x·c + ‖c‖² per row tile with one SGEMM
/// (tile × k × d), fuses the arg-min and the centroid sums over the tile, and never materialises the
/// n×k distance matrix: 2·n·k·d flops per iteration, O(tile·k) scratch per worker. By default tiles
/// run in parallel on all cores with OpenBLAS single-threaded inside (``Parallelism/tiles``; measured
/// faster than one multi-threaded GEMM per tile, see BENCHMARKS.md).
///
/// Convergence follows scikit-learn's `KMeans(algorithm="lloyd")`: stop when the labels no longer
/// change or the summed squared centre shift is ≤ `tolerance` × mean per-feature variance.
/// Empty clusters are re-seeded with the points farthest from their centres. Results are
/// deterministic for a given seed and input.
public enum KMeans {
    /// Distance used for assignment.
    public enum Metric: Sendable, Equatable {
        /// Squared Euclidean distance; inertia is the sum of squared distances.
        case euclidean
        /// Spherical k-means for unit-norm rows: centroids are re-normalised after every update and
        /// inertia is Σ(1 − cos). Rows must be L2-normalised (``Matrix/normalizedRows()``).
        case cosine
    }

    /// How initial centres are chosen.
    public enum Initialization: Sendable, Equatable {
        /// Greedy k-means++: 2 + ⌊ln k⌋ candidates per step, the one that lowers the potential most wins.
        case kMeansPlusPlus
        /// These exact centres (k × d); with several restarts every restart uses them.
        case centroids(Matrix)
    }

    /// How each iteration finds the nearest centres. Both are exact Lloyd iterations from the same start.
    public enum Algorithm: Sendable, Equatable {
        /// Every iteration computes all n·k distances with the fused GEMM pass: 2·n·k·d flops.
        case lloyd
        /// Hamerly's bounds (``HamerlyBounds``) skip the rows whose nearest centre provably did not change;
        /// the rest are recomputed with GEMM. The same labels, bit-identical centroids and the same
        /// iteration count as `.lloyd`, under every BLAS kernel (both follow ``NearestCentre``). O(n·d)
        /// per iteration once few rows move; 16 bytes of bounds per row.
        case hamerly
    }

    /// How the work of one assignment pass is spread over cores.
    public enum Parallelism: Sendable, Equatable {
        /// Row tiles in parallel on all cores, OpenBLAS single-threaded inside (default).
        case tiles
        /// One tile at a time, OpenBLAS multi-threaded inside each GEMM.
        case blas
        /// One tile at a time on the calling thread, OpenBLAS's thread count left as the caller set it.
        /// For callers that run several fits at once, one per core (``ChooseK``), inside
        /// `BLAS.withThreads(1)`; results do not depend on the number of cores.
        case serial

        /// Worker threads over row tiles, and the OpenBLAS thread count to set around the work (nil:
        /// leave it as it is).
        var plan: (workers: Int, blasThreads: Int?) {
            switch self {
            case .tiles: (Parallel.workerCount, 1)
            case .blas: (1, Parallel.workerCount)
            case .serial: (1, nil)
            }
        }
    }

    /// Parameters of a fit.
    public struct Options: Sendable {
        /// Number of clusters (1 ≤ k ≤ n).
        public var k: Int
        /// Maximum Lloyd iterations per restart.
        public var maxIterations: Int = 300
        /// Relative tolerance on the summed squared centre shift (× mean per-feature variance).
        /// 0 runs exactly `maxIterations` unless the labels stop changing.
        public var tolerance: Double = 1e-4
        /// Independent restarts; the one with the lowest inertia is kept.
        public var restarts: Int = 1
        /// Seed of the k-means++ sampling.
        public var seed: UInt64 = 0
        public var metric: Metric = .euclidean
        public var initialization: Initialization = .kMeansPlusPlus
        public var parallelism: Parallelism = .tiles
        /// Which exact iteration: bounds that skip proven-unchanged rows (default) or plain Lloyd.
        public var algorithm: Algorithm = .hamerly
        /// Called after every Lloyd iteration with (restart, iteration, inertia of the labels just computed;
        /// after a bounded pass, Σ upper bound², which is ≥ the inertia).
        public var progress: (@Sendable (Int, Int, Double) -> Void)? = nil
        /// Polled before every iteration and k-means++ step: once set, the fit throws `CancellationError`.
        public var stop: StopFlag? = nil

        public init(k: Int) { self.k = k }
    }

    /// Validates `x` and `options` and runs the fit. O(restarts · iterations · n·k·d).
    ///
    /// - Throws: ``LinalgError`` for k ∉ 1...n, NaN/Inf input, wrong-shaped initial centres,
    ///   non-normalised rows in cosine mode, or fewer distinct points than k.
    public static func fit(_ x: Matrix, options: Options) throws -> KMeansModel {
        try validate(x, options: options)
        let tolScaled = options.tolerance * meanColumnVariance(x)
        var best: KMeansModel?
        var rng = SeededGenerator(seed: options.seed)
        let xNorms = x.rowSquaredNorms()
        for restart in 0..<max(1, options.restarts) {
            let initial: Matrix
            switch options.initialization {
            case .centroids(let c): initial = c
            case .kMeansPlusPlus:
                initial = try kMeansPlusPlus(x, k: options.k, rng: &rng, xNorms: xNorms,
                                             parallelism: options.parallelism, stop: options.stop).centroids
            }
            let model = try lloyd(x, xNorms: xNorms, initial: initial, options: options,
                                  tolScaled: tolScaled, restart: restart)
            if best == nil || model.inertia < best!.inertia { best = model }
        }
        return best!
    }

    static func validate(_ x: Matrix, options: Options) throws {
        guard x.rows >= 1 else { throw LinalgError.tooFewRows(operation: "KMeans.fit", needed: 1, got: 0) }
        guard x.cols >= 1 else { throw LinalgError.invalidParameter(name: "x", reason: "has no columns") }
        guard options.k >= 1 && options.k <= x.rows else {
            throw LinalgError.invalidClusterCount(k: options.k, rows: x.rows)
        }
        guard options.maxIterations >= 1 else {
            throw LinalgError.invalidParameter(name: "maxIterations", reason: "must be ≥ 1")
        }
        guard options.tolerance >= 0 else {
            throw LinalgError.invalidParameter(name: "tolerance", reason: "must be ≥ 0")
        }
        try x.checkFinite()
        if case .centroids(let c) = options.initialization {
            guard c.rows == options.k && c.cols == x.cols else {
                throw LinalgError.shapeMismatch(operation: "KMeans initial centroids",
                                                expected: "\(options.k)×\(x.cols)", got: "\(c.rows)×\(c.cols)")
            }
            try c.checkFinite()
        }
        if options.metric == .cosine {
            let norms = x.rowSquaredNorms()
            if let bad = norms.firstIndex(where: { abs($0 - 1) > 1e-3 }) {
                throw LinalgError.invalidParameter(
                    name: "x", reason: "cosine k-means needs unit-norm rows; row \(bad) has norm \(norms[bad].squareRoot()) — normalise the rows first")
            }
        }
    }

    /// Mean over columns of the per-column variance (population), as scikit-learn scales `tol`.
    static func meanColumnVariance(_ x: Matrix) -> Double {
        let d = x.cols, n = x.rows
        let mean = PCA.columnSums(x).map { $0 / Double(n) }
        var sq = [Double](repeating: 0, count: d)
        x.withUnsafeBufferPointer { p in
            for r in 0..<n { for j in 0..<d { let v = Double(p[r * d + j]) - mean[j]; sq[j] += v * v } }
        }
        return sq.reduce(0, +) / Double(n) / Double(d)
    }

    // MARK: Seeding

    /// Greedy k-means++ seeding (Arthur & Vassilvitskii 2007 with scikit-learn's greedy refinement).
    ///
    /// Each of the k−1 steps samples 2 + ⌊ln k⌋ candidates with probability ∝ D², computes their
    /// distances to all points with one GEMM per tile and keeps the candidate that lowers the
    /// potential most. O(k · trials · n · d).
    /// - Returns: the centres and the inertia of the points against them.
    public static func kMeansPlusPlus(_ x: Matrix, k: Int, seed: UInt64) throws -> (centroids: Matrix, inertia: Double) {
        guard k >= 1 && k <= x.rows else { throw LinalgError.invalidClusterCount(k: k, rows: x.rows) }
        try x.checkFinite()
        var rng = SeededGenerator(seed: seed)
        return try kMeansPlusPlus(x, k: k, rng: &rng, xNorms: x.rowSquaredNorms(), parallelism: .tiles)
    }

    static func kMeansPlusPlus(_ x: Matrix, k: Int, rng: inout SeededGenerator, xNorms: [Float],
                               parallelism: Parallelism, stop: StopFlag? = nil) throws -> (centroids: Matrix, inertia: Double) {
        let n = x.rows, d = x.cols
        let trials = 2 + Int(log(Double(k)))
        var chosen = [Int(rng.next() % UInt64(n))]
        var closest = distancesToRows(x, xNorms: xNorms, rows: chosen, parallelism: parallelism)
        var potential = closest.reduce(0.0) { $0 + Double($1) }
        var cumulative = [Double](repeating: 0, count: n)
        for _ in 1..<max(1, k) {
            try stop?.check()
            guard potential > 0 else { throw LinalgError.tooFewDistinctPoints(k: k) }
            var acc = 0.0
            for i in 0..<n { acc += Double(closest[i]); cumulative[i] = acc }
            var candidates: [Int] = []
            for _ in 0..<trials {
                let r = rng.nextUnit() * acc
                // first index whose cumulative sum exceeds r (points with zero distance are never drawn)
                var lo = 0, hi = n - 1
                while lo < hi { let mid = (lo + hi) / 2; if cumulative[mid] > r { hi = mid } else { lo = mid + 1 } }
                candidates.append(lo)
            }
            let dist = distancesToRows(x, xNorms: xNorms, rows: candidates, parallelism: parallelism)
            var bestT = 0, bestPot = Double.infinity
            for t in 0..<trials {
                var pot = 0.0
                dist.withUnsafeBufferPointer { dp in
                    closest.withUnsafeBufferPointer { cp in
                        for i in 0..<n { pot += Double(min(cp[i], dp[i * trials + t])) }
                    }
                }
                if pot < bestPot { bestPot = pot; bestT = t }
            }
            for i in 0..<n { closest[i] = min(closest[i], dist[i * trials + bestT]) }
            potential = bestPot
            chosen.append(candidates[bestT])
        }
        _ = d
        return (x.gathering(rows: chosen), potential)
    }

    /// Squared distances from every row of `x` to the listed rows of `x` (n × rows.count, row-major),
    /// clamped at 0, one GEMM per tile.
    static func distancesToRows(_ x: Matrix, xNorms: [Float], rows: [Int], parallelism: Parallelism) -> [Float] {
        let c = x.gathering(rows: rows)
        let cn = rows.map { xNorms[$0] }
        let n = x.rows, d = x.cols, m = rows.count
        var out = [Float](repeating: 0, count: n * m)
        let (workers, blasThreads) = parallelism.plan
        x.withUnsafeBufferPointer { xp in
            c.withUnsafeBufferPointer { cp in
                out.withUnsafeMutableBufferPointer { op in
                    let obase = op.baseAddress!
                    Parallel.rowTiles(rows: n, tileRows: 1024, workers: workers, blasThreads: blasThreads) { _, tiles in
                        for tile in tiles {
                            let r0 = tile.lowerBound, rowsInTile = tile.count
                            let o = obase + r0 * m
                            BLAS.gemm(.none, .transpose, m: rowsInTile, n: m, k: d, alpha: -2,
                                       a: xp.baseAddress! + r0 * d, lda: d, b: cp.baseAddress!, ldb: d,
                                       beta: 0, c: o, ldc: m)
                            for r in 0..<rowsInTile {
                                let xn = xNorms[r0 + r]
                                for j in 0..<m { o[r * m + j] = max(0, o[r * m + j] + xn + cn[j]) }
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    // MARK: Lloyd

    /// Lloyd iterations from `initial`. With ``Algorithm/hamerly`` the first iteration is the fused exact
    /// pass (which also sets the bounds); later ones run the bounded pass, except after a bounded pass
    /// that recomputed more than half of the rows (the fused pass is then as cheap and makes the bounds
    /// exact again) and when a bounded pass leaves a cluster empty (relocation needs every row's exact
    /// distance). The returned labels and distances always come from an exact pass.
    static func lloyd(_ x: Matrix, xNorms: [Float], initial: Matrix, options: Options,
                      tolScaled: Double, restart: Int) throws -> KMeansModel {
        let n = x.rows, k = options.k
        var centroids = options.metric == .cosine ? initial.normalizedRows() : initial
        var labels = [Int](repeating: -1, count: n)
        var distances = [Float](repeating: 0, count: n)
        var second: [Float] = []
        let engine = AssignmentEngine(parallelism: options.parallelism)
        let bounded = options.algorithm == .hamerly && k > 1 ? BoundedPass(parallelism: options.parallelism) : nil
        var bounds = HamerlyBounds(rows: bounded == nil ? 0 : n, cols: x.cols)
        var iterations = 0, strict = false, exactLast = true, rowsAssigned = 0, lastRecomputed = 0
        for it in 0..<options.maxIterations {
            try options.stop?.check()
            iterations = it + 1
            let previous = labels
            // Bounds pay off once most rows stay put; while more than half were recomputed last time, the
            // fused pass is as cheap and resets the bounds to exact values.
            let useBounds = it > 0 && lastRecomputed * 2 < n
            let boundedPass = useBounds ? bounded?.assign(x, xNorms: xNorms, centroids: centroids, labels: &labels, bounds: &bounds,
                                                                  wantInertia: options.progress != nil) : nil
            var pass = boundedPass?.0
            exactLast = pass == nil || pass!.counts.contains(0)
            rowsAssigned += exactLast ? n : boundedPass!.1.recomputed
            lastRecomputed = exactLast ? 0 : boundedPass!.1.recomputed   // fresh bounds after an exact pass
            if exactLast {
                pass = engine.assign(x, xNorms: xNorms, centroids: centroids, labels: &labels, distances: &distances,
                                     secondBuffer: &second, wantSecond: bounded != nil, accumulate: true)
                if bounded != nil {
                    bounds.reset(distances: distances, second: second, xNorms: xNorms, centroids: centroids)
                }
            }
            var sums = pass!.sums, counts = pass!.counts
            relocateEmptyClusters(x, labels: labels, distances: distances, sums: &sums, counts: &counts)
            let next = updatedCentroids(sums: sums, counts: counts, old: centroids, metric: options.metric)
            var shift = 0.0
            for i in 0..<(k * x.cols) { let v = Double(next.storage[i] - centroids.storage[i]); shift += v * v }
            if bounded != nil { bounds.move(labels: labels, from: centroids, to: next) }
            centroids = next
            options.progress?(restart, iterations, pass!.inertia)
            if labels == previous { strict = true; break }
            if shift <= tolScaled { break }
        }
        if !strict || !exactLast {
            var unused: [Float] = []
            _ = engine.assign(x, xNorms: xNorms, centroids: centroids, labels: &labels,
                              distances: &distances, secondBuffer: &unused, accumulate: false)
        }
        let inertia = distances.reduce(0.0) { $0 + Double($1) } / (options.metric == .cosine ? 2 : 1)
        return KMeansModel(centroids: centroids, labels: labels, inertia: inertia, iterations: iterations,
                           converged: strict || iterations < options.maxIterations, metric: options.metric,
                           parallelism: options.parallelism, rowsAssigned: rowsAssigned)
    }

    /// Means of the accumulated sums (a cluster left empty keeps its old centre); unit rows in cosine mode.
    static func updatedCentroids(sums: [Double], counts: [Int], old: Matrix, metric: Metric) -> Matrix {
        let k = old.rows, d = old.cols
        var next = Matrix(rows: k, cols: d)
        for j in 0..<k {
            if counts[j] == 0 {  // only possible when relocation found no candidate
                for c in 0..<d { next[j, c] = old[j, c] }
            } else {
                let inv = 1 / Double(counts[j])
                for c in 0..<d { next[j, c] = Float(sums[j * d + c] * inv) }
            }
        }
        return metric == .cosine ? next.normalizedRows() : next
    }

    /// scikit-learn's relocation: each empty cluster takes the point farthest from its centre.
    static func relocateEmptyClusters(_ x: Matrix, labels: [Int], distances: [Float],
                                      sums: inout [Double], counts: inout [Int]) {
        let empty = counts.indices.filter { counts[$0] == 0 }
        guard !empty.isEmpty else { return }
        let d = x.cols
        let far = distances.indices.sorted { distances[$0] > distances[$1] || (distances[$0] == distances[$1] && $0 < $1) }
        var next = 0
        for j in empty {
            while next < far.count && counts[labels[far[next]]] <= 1 { next += 1 }
            guard next < far.count else { return }
            let p = far[next]; next += 1
            let old = labels[p]
            for c in 0..<d {
                let v = Double(x[p, c])
                sums[old * d + c] -= v
                sums[j * d + c] = v
            }
            counts[old] -= 1
            counts[j] = 1
        }
    }
}

/// A fitted k-means model: centroids, training labels and inertia.
public struct KMeansModel: Sendable {
    /// Cluster centres (k × d); unit norm in cosine mode.
    public let centroids: Matrix
    /// Cluster of every training row.
    public let labels: [Int]
    /// Σ squared distance of each training row to its centre (Σ(1 − cos) in cosine mode).
    public let inertia: Double
    /// Lloyd iterations run by the kept restart.
    public let iterations: Int
    /// Whether it stopped before `maxIterations` (labels stable or shift within tolerance).
    public let converged: Bool
    public let metric: KMeans.Metric
    public let parallelism: KMeans.Parallelism
    /// Rows whose distances to all k centres were computed, summed over the kept restart's iterations
    /// (n per plain Lloyd pass; fewer with ``KMeans/Algorithm/hamerly``). The final exact pass is not counted.
    public var rowsAssigned: Int = 0

    /// Number of clusters.
    public var k: Int { centroids.rows }

    /// Nearest and second-nearest centre of each row of `x`. O(n·k·d).
    public func predict(_ x: Matrix) throws -> Assignment {
        guard x.cols == centroids.cols else {
            throw LinalgError.shapeMismatch(operation: "KMeansModel.predict", expected: "\(centroids.cols) columns",
                                            got: "\(x.cols) columns")
        }
        try x.checkFinite()
        var labels = [Int](repeating: 0, count: x.rows)
        var dist = [Float](repeating: 0, count: x.rows)
        var second = [Float](repeating: 0, count: x.rows)
        let engine = AssignmentEngine(parallelism: parallelism)
        _ = engine.assign(x, xNorms: x.rowSquaredNorms(), centroids: centroids, labels: &labels,
                          distances: &dist, secondBuffer: &second, wantSecond: true, accumulate: false)
        return Assignment(labels: labels, squaredDistances: dist, secondSquaredDistances: second)
    }
}

/// Nearest-centre assignment of a set of rows.
public struct Assignment: Sendable {
    /// Index of the nearest centre per row.
    public let labels: [Int]
    /// Squared Euclidean distance to the nearest centre (2 − 2cos for unit vectors).
    public let squaredDistances: [Float]
    /// Squared Euclidean distance to the second-nearest centre (+∞ when k = 1).
    public let secondSquaredDistances: [Float]
}

/// The fused assignment kernel shared by Lloyd, mini-batch k-means and prediction.
struct AssignmentEngine {
    let parallelism: KMeans.Parallelism

    struct Pass {
        var sums: [Double]   // k × d, empty when not accumulated
        var counts: [Int]    // k
        var inertia: Double
    }

    /// Rows per tile; scratch is tile × k floats per worker.
    static func tileRows(k: Int, parallelism: KMeans.Parallelism) -> Int {
        return parallelism == .blas ? 4096 : max(64, min(512, 65536 / max(k, 1)))
    }

    /// Assigns every row of `x` to its nearest centroid: SGEMM per tile (−2·x·cᵀ added to ‖c‖²), then
    /// ``NearestCentre``'s kernel-independent arg-min and, when `accumulate`, per-worker centroid sums in
    /// `Double` (``BoundedPass/lloydSums`` repeats them in the same order). Writes labels and squared
    /// distances; when `wantSecond`, `second` receives the second-smallest squared distance.
    func assign(_ x: Matrix, xNorms: [Float], centroids: Matrix, labels: inout [Int], distances: inout [Float],
                secondBuffer: inout [Float], wantSecond: Bool = false, accumulate: Bool) -> Pass {
        let n = x.rows, d = x.cols, k = centroids.rows
        let cNorms = centroids.rowSquaredNorms()
        let tile = Self.tileRows(k: k, parallelism: parallelism)
        let tiles = (n + tile - 1) / tile
        let (workers, blasThreads) = parallelism.plan
        let w = max(1, min(workers, tiles))
        var sums = [Double](repeating: 0, count: accumulate ? w * k * d : 0)
        var counts = [Int](repeating: 0, count: w * k)
        var inertias = [Double](repeating: 0, count: w)
        if wantSecond && secondBuffer.count != n { secondBuffer = [Float](repeating: 0, count: n) }
        x.withUnsafeBufferPointer { xp in
            centroids.withUnsafeBufferPointer { cp in
                cNorms.withUnsafeBufferPointer { cnp in
                    xNorms.withUnsafeBufferPointer { xnp in
                        labels.withUnsafeMutableBufferPointer { lp in
                            distances.withUnsafeMutableBufferPointer { dp in
                                secondBuffer.withUnsafeMutableBufferPointer { sp in
                                    sums.withUnsafeMutableBufferPointer { sump in
                                        counts.withUnsafeMutableBufferPointer { cntp in
                                            inertias.withUnsafeMutableBufferPointer { inp in
                                                let ctx = Context(x: xp.baseAddress!, xNorms: xnp.baseAddress!, n: n, d: d,
                                                                  c: cp.baseAddress!, cNorms: cnp.baseAddress!, k: k,
                                                                  labels: lp.baseAddress!, dist: dp.baseAddress!,
                                                                  second: wantSecond ? sp.baseAddress! : nil,
                                                                  sums: accumulate ? sump.baseAddress! : nil,
                                                                  counts: cntp.baseAddress!, inertias: inp.baseAddress!,
                                                                  tile: tile, gamma: NearestCentre.gamma(cols: d),
                                                                  cmax2: Double(cNorms.max() ?? 0))
                                                BLAS.withThreads(ifSet: blasThreads) {
                                                    Parallel.chunks(count: tiles, workers: w) { wi, tr in
                                                        Self.run(ctx, worker: wi, tiles: tr)
                                                    }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        var outSums = [Double](repeating: 0, count: accumulate ? k * d : 0)
        var outCounts = [Int](repeating: 0, count: k)
        for wi in 0..<w {
            for j in 0..<k { outCounts[j] += counts[wi * k + j] }
            if accumulate { for i in 0..<(k * d) { outSums[i] += sums[wi * k * d + i] } }
        }
        return Pass(sums: outSums, counts: outCounts, inertia: inertias.reduce(0, +))
    }

    struct Context: @unchecked Sendable {
        let x: UnsafePointer<Float>, xNorms: UnsafePointer<Float>, n: Int, d: Int
        let c: UnsafePointer<Float>, cNorms: UnsafePointer<Float>, k: Int
        let labels: UnsafeMutablePointer<Int>, dist: UnsafeMutablePointer<Float>
        let second: UnsafeMutablePointer<Float>?
        let sums: UnsafeMutablePointer<Double>?
        let counts: UnsafeMutablePointer<Int>, inertias: UnsafeMutablePointer<Double>
        let tile: Int
        /// ``NearestCentre`` allowance: E = gamma · (‖x‖² + cmax2).
        let gamma: Double, cmax2: Double
    }

    static func run(_ ctx: Context, worker: Int, tiles: Range<Int>) {
        let k = ctx.k, d = ctx.d
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: ctx.tile * k)
        defer { scratch.deallocate() }
        let sums = ctx.sums.map { $0 + worker * k * d }
        let counts = ctx.counts + worker * k
        var inertia = 0.0
        for t in tiles {
            let r0 = t * ctx.tile, rows = min(ctx.n, r0 + ctx.tile) - r0
            // scratch[r, j] = ‖c_j‖² − 2·x_r·c_j
            for r in 0..<rows { (scratch + r * k).update(from: ctx.cNorms, count: k) }
            BLAS.gemm(.none, .transpose, m: rows, n: k, k: d, alpha: -2, a: ctx.x + r0 * d, lda: d,
                       b: ctx.c, ldb: d, beta: 1, c: scratch, ldc: k)
            for r in 0..<rows {
                let i = r0 + r
                let e = ctx.gamma * (Double(ctx.xNorms[i]) + ctx.cmax2)
                let choice = NearestCentre.choose(scores: scratch + r * k, k: k, x: ctx.x + i * d, centres: ctx.c,
                                                  d: d, allowance: e)
                let idx = choice.index
                let dist = max(0, choice.score + ctx.xNorms[i])
                ctx.labels[i] = idx
                ctx.dist[i] = dist
                inertia += Double(dist)
                if let second = ctx.second { second[i] = max(0, choice.second + ctx.xNorms[i]) }
                counts[idx] += 1
                if let sums { Kernels.add(ctx.x + i * d, into: sums + idx * d, count: d) }
            }
        }
        ctx.inertias[worker] = inertia
    }
}
