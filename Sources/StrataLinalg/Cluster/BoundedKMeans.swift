import Foundation

/// Hamerly's bounds (Hamerly 2010) for exact Lloyd iterations: per row an upper bound on the distance
/// to its assigned centre and a lower bound on the distance to every other centre. A row whose bounds
/// prove that its nearest centre cannot have changed costs O(1); one whose bounds fail after tightening
/// the upper bound (one O(d) distance) is recomputed against all centres with a GEMM over the gathered
/// failing rows of its tile.
///
/// Exactness under floating point: every assignment, Lloyd's and the recomputed rows here, follows
/// ``NearestCentre``, whose answer depends on the row and the centres only (not on the BLAS kernel nor
/// on how many rows one GEMM holds). Its `Float` scores are within E = γ·(‖x‖² + max‖c‖²) of the truth;
/// a row is skipped only when upper² + 2E < lower², i.e. its centre is nearer than every other by more
/// than any rounding, so the rule would keep it too. Bounds are kept in `Double` and widened by the
/// same allowance whenever they come from `Float` distances.
///
/// After each pass the centroid sums are recomputed from the labels in Lloyd's own order
/// (``BoundedPass/lloydSums``: O(n·d) additions, against the O(n·k·d) of the distances it saves), so
/// equal labels give bit-identical centroids in every iteration, and a bounded fit follows Lloyd's
/// trajectory exactly: the same labels, centroids and iteration count (tested under every OpenBLAS
/// kernel this CPU runs, `scripts/kernel-matrix.sh`).
struct HamerlyBounds {
    /// ≥ true Euclidean distance from each row to its assigned centre.
    var upper: [Double]
    /// ≤ true Euclidean distance from each row to every centre other than its assigned one.
    var lower: [Double]
    /// Rounding allowance factor γ.
    let gamma: Double

    init(rows: Int, cols: Int) {
        upper = [Double](repeating: .infinity, count: rows)
        lower = [Double](repeating: 0, count: rows)
        gamma = NearestCentre.gamma(cols: cols)
    }

    /// Largest squared centre norm; with ‖x‖² it scales the allowance E.
    static func maxSquaredNorm(_ c: Matrix) -> Double {
        Double(c.rowSquaredNorms().max() ?? 0)
    }

    /// Bounds from an exact pass: squared distances to the nearest and second-nearest centres.
    mutating func reset(distances: [Float], second: [Float], xNorms: [Float], centroids: Matrix) {
        let cmax2 = Self.maxSquaredNorm(centroids)
        for i in upper.indices {
            let e = gamma * (Double(xNorms[i]) + cmax2)
            upper[i] = (Double(distances[i]) + e).squareRoot()
            lower[i] = max(0, Double(second[i]) - e).squareRoot()
        }
    }

    /// Moves the bounds after the centres moved from `old` to `new`: each upper bound grows by its
    /// centre's drift, each lower bound shrinks by the largest drift of another centre. O(n + k·d).
    mutating func move(labels: [Int], from old: Matrix, to new: Matrix) {
        let k = old.rows, d = old.cols
        var drift = [Double](repeating: 0, count: k)
        for j in 0..<k {
            var s = 0.0
            for c in 0..<d { let v = Double(new[j, c]) - Double(old[j, c]); s += v * v }
            drift[j] = s.squareRoot() * (1 + 1e-9)
        }
        var first = 0
        for j in 1..<max(k, 1) where drift[j] > drift[first] { first = j }
        var second = 0.0
        for j in 0..<k where j != first { second = max(second, drift[j]) }
        for i in upper.indices {
            let a = labels[i]
            upper[i] += drift[a]
            lower[i] = max(0, lower[i] - (a == first ? second : drift[first]))
        }
    }

    /// Half the distance from each centre to its nearest other centre (Hamerly's s), slightly low. O(k²·d).
    static func halfSeparation(_ c: Matrix) -> [Double] {
        let k = c.rows, d = c.cols
        var s = [Double](repeating: .infinity, count: k)
        for a in 0..<k {
            for b in (a + 1)..<max(k, a + 1) {
                var sum = 0.0
                for j in 0..<d { let v = Double(c[a, j]) - Double(c[b, j]); sum += v * v }
                let half = 0.5 * sum.squareRoot() * (1 - 1e-9)
                s[a] = min(s[a], half)
                s[b] = min(s[b], half)
            }
        }
        return s
    }
}

/// One bounded assignment pass over all rows (see ``HamerlyBounds``), with Lloyd's centroid sums.
struct BoundedPass {
    let parallelism: KMeans.Parallelism

    /// Rows that were skipped by the bounds, skipped after tightening, and recomputed.
    struct Stats {
        var skipped = 0, tightened = 0, recomputed = 0
    }

    /// Updates `labels` and `bounds` for `centroids` and returns Lloyd's centroid sums and counts for the
    /// new labels; the pass's inertia is Σ upper² (an upper bound) when `wantInertia`, NaN otherwise (an
    /// O(n) sum only progress reporting reads). O(n·d + r·k·d) for r recomputed rows.
    func assign(_ x: Matrix, xNorms: [Float], centroids: Matrix, labels: inout [Int],
                bounds: inout HamerlyBounds, wantInertia: Bool) -> (AssignmentEngine.Pass, Stats) {
        let n = x.rows, d = x.cols, k = centroids.rows
        let tile = AssignmentEngine.tileRows(k: k, parallelism: parallelism)
        let tiles = (n + tile - 1) / tile
        let (workers, blasThreads) = parallelism.plan
        let w = max(1, min(workers, tiles))
        var stats = [Stats](repeating: Stats(), count: w)
        let half = HamerlyBounds.halfSeparation(centroids)
        let cNorms = centroids.rowSquaredNorms()
        let cmax2 = HamerlyBounds.maxSquaredNorm(centroids)
        let gamma = bounds.gamma
        withPointers(x, xNorms, centroids, cNorms, half, &labels, &bounds, &stats) { p in
            let ctx = Context(p: p, n: n, d: d, k: k, tile: tile, gamma: gamma, cmax2: cmax2)
            BLAS.withThreads(ifSet: blasThreads) {
                Parallel.chunks(count: tiles, workers: w) { wi, tr in Self.run(ctx, worker: wi, tiles: tr) }
            }
        }
        var total = Stats()
        for wi in 0..<w {
            total.skipped += stats[wi].skipped; total.tightened += stats[wi].tightened
            total.recomputed += stats[wi].recomputed
        }
        let inertia = wantInertia ? bounds.upper.reduce(0.0) { $0 + $1 * $1 } : .nan
        let exact = Self.lloydSums(x, labels: labels, k: k, parallelism: parallelism)
        return (AssignmentEngine.Pass(sums: exact.sums, counts: exact.counts, inertia: inertia), total)
    }

    struct Pointers: @unchecked Sendable {
        let x: UnsafePointer<Float>, xNorms: UnsafePointer<Float>, c: UnsafePointer<Float>, cNorms: UnsafePointer<Float>
        let half: UnsafePointer<Double>, labels: UnsafeMutablePointer<Int>
        let upper: UnsafeMutablePointer<Double>, lower: UnsafeMutablePointer<Double>
        let stats: UnsafeMutablePointer<Stats>
    }

    struct Context: Sendable {
        let p: Pointers
        let n: Int, d: Int, k: Int, tile: Int
        let gamma: Double, cmax2: Double
    }

    private func withPointers(_ x: Matrix, _ xNorms: [Float], _ c: Matrix, _ cNorms: [Float], _ half: [Double],
                              _ labels: inout [Int], _ bounds: inout HamerlyBounds, _ stats: inout [Stats],
                              _ body: (Pointers) -> Void) {
        x.withUnsafeBufferPointer { xp in c.withUnsafeBufferPointer { cp in
        xNorms.withUnsafeBufferPointer { xnp in cNorms.withUnsafeBufferPointer { cnp in half.withUnsafeBufferPointer { hp in
        labels.withUnsafeMutableBufferPointer { lp in bounds.upper.withUnsafeMutableBufferPointer { up in
        bounds.lower.withUnsafeMutableBufferPointer { lop in stats.withUnsafeMutableBufferPointer { stp in
            body(Pointers(x: xp.baseAddress!, xNorms: xnp.baseAddress!, c: cp.baseAddress!, cNorms: cnp.baseAddress!,
                          half: hp.baseAddress!, labels: lp.baseAddress!, upper: up.baseAddress!, lower: lop.baseAddress!,
                          stats: stp.baseAddress!))
        } } } } } } } } }
    }

    /// One worker's tiles: bound tests, then a gathered GEMM for the rows that fail.
    static func run(_ ctx: Context, worker: Int, tiles: Range<Int>) {
        let k = ctx.k, d = ctx.d, p = ctx.p
        let gathered = UnsafeMutablePointer<Float>.allocate(capacity: ctx.tile * d)
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: ctx.tile * k)
        defer { gathered.deallocate(); scratch.deallocate() }
        var failing: [Int] = []
        failing.reserveCapacity(ctx.tile)
        var stats = Stats()
        for t in tiles {
            let r0 = t * ctx.tile, r1 = min(ctx.n, r0 + ctx.tile)
            failing.removeAll(keepingCapacity: true)
            for i in r0..<r1 where !provenUnchanged(ctx, row: i, stats: &stats) { failing.append(i) }
            if !failing.isEmpty { recompute(ctx, rows: failing, gathered: gathered, scratch: scratch) }
            stats.recomputed += failing.count
        }
        p.stats[worker] = stats
    }

    /// Whether row `i` provably keeps its centre: first from the bounds as they are, then after
    /// tightening the upper bound with one exact distance.
    @inline(__always)
    static func provenUnchanged(_ ctx: Context, row i: Int, stats: inout Stats) -> Bool {
        let p = ctx.p, a = p.labels[i]
        let e = ctx.gamma * (Double(p.xNorms[i]) + ctx.cmax2)
        var u = p.upper[i]
        if separated(u, p.lower[i], p.half[a], e) { stats.skipped += 1; return true }
        let exact = Double(Kernels.squaredDistanceLanes(p.x + i * ctx.d, p.c + a * ctx.d, count: ctx.d))
        u = (exact * (1 + ctx.gamma)).squareRoot()
        p.upper[i] = u
        if separated(u, p.lower[i], p.half[a], e) { stats.tightened += 1; return true }
        return false
    }

    /// upper² + 2E < z², z = max(lower, 2s − upper): every other centre is farther than the assigned
    /// one by more than Lloyd's rounding.
    @inline(__always)
    static func separated(_ u: Double, _ l: Double, _ s: Double, _ e: Double) -> Bool {
        let z = max(l, 2 * s - u)
        return z > 0 && u * u + 2 * e < z * z
    }

    /// Full assignment of the listed rows: gathered into one block, one SGEMM against all centres, the
    /// arg-min by ``NearestCentre`` as in ``AssignmentEngine``, new bounds from the chosen and the
    /// smallest other score.
    static func recompute(_ ctx: Context, rows: [Int], gathered: UnsafeMutablePointer<Float>,
                          scratch: UnsafeMutablePointer<Float>) {
        let k = ctx.k, d = ctx.d, p = ctx.p, m = rows.count
        for (r, i) in rows.enumerated() {
            (gathered + r * d).update(from: p.x + i * d, count: d)
            (scratch + r * k).update(from: p.cNorms, count: k)
        }
        BLAS.gemm(.none, .transpose, m: m, n: k, k: d, alpha: -2, a: gathered, lda: d, b: p.c, ldb: d,
                   beta: 1, c: scratch, ldc: k)
        for (r, i) in rows.enumerated() {
            let xn = Double(p.xNorms[i])
            let e = ctx.gamma * (xn + ctx.cmax2)
            let choice = NearestCentre.choose(scores: scratch + r * k, k: k, x: p.x + i * d, centres: p.c, d: d, allowance: e)
            p.labels[i] = choice.index
            p.upper[i] = (max(0, Double(choice.score) + xn) + e).squareRoot()
            p.lower[i] = max(0, Double(choice.second) + xn - e).squareRoot()
        }
    }
}

extension BoundedPass {
    /// Centroid sums and sizes for `labels` accumulated exactly as ``AssignmentEngine`` does (the same
    /// tiles, workers, row order and per-worker `Double` sums reduced in worker order), so the centroids
    /// made from them equal plain Lloyd's bit for bit. O(n·d).
    static func lloydSums(_ x: Matrix, labels: [Int], k: Int, parallelism: KMeans.Parallelism) -> (sums: [Double], counts: [Int]) {
        let n = x.rows, d = x.cols
        let tile = AssignmentEngine.tileRows(k: k, parallelism: parallelism)
        let tiles = (n + tile - 1) / tile
        let w = max(1, min(parallelism.plan.workers, tiles))
        var sums = [Double](repeating: 0, count: w * k * d)
        var counts = [Int](repeating: 0, count: w * k)
        x.withUnsafeBufferPointer { xp in labels.withUnsafeBufferPointer { lp in
            sums.withUnsafeMutableBufferPointer { sp in counts.withUnsafeMutableBufferPointer { cp in
                let ptrs = SumPointers(x: xp.baseAddress!, labels: lp.baseAddress!, sums: sp.baseAddress!, counts: cp.baseAddress!)
                Parallel.chunks(count: tiles, workers: w) { wi, tr in
                    let s = ptrs.sums + wi * k * d, c = ptrs.counts + wi * k
                    for i in (tr.lowerBound * tile)..<min(n, tr.upperBound * tile) {
                        let a = ptrs.labels[i]
                        c[a] += 1
                        Kernels.add(ptrs.x + i * d, into: s + a * d, count: d)
                    }
                }
            } }
        } }
        var outSums = [Double](repeating: 0, count: k * d)
        var outCounts = [Int](repeating: 0, count: k)
        for wi in 0..<w {
            for j in 0..<k { outCounts[j] += counts[wi * k + j] }
            for i in 0..<(k * d) { outSums[i] += sums[wi * k * d + i] }
        }
        return (outSums, outCounts)
    }

    struct SumPointers: @unchecked Sendable {
        let x: UnsafePointer<Float>, labels: UnsafePointer<Int>, sums: UnsafeMutablePointer<Double>, counts: UnsafeMutablePointer<Int>
    }
}
