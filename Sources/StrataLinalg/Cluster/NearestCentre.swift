/// The one nearest-centre rule behind every assignment (Lloyd's fused pass, the rows Hamerly's bounds
/// recompute, prediction, mini-batch k-means), made independent of the BLAS kernel.
///
/// SGEMM gives each row the scores s_j = ‖c_j‖² − 2x·c_j in `Float`. Their rounding depends on the
/// kernel OpenBLAS picks (Haswell, SkylakeX, Zen, its small-matrix path for a few gathered rows, …), so
/// an arg-min taken from them alone can differ between kernels, and between a full tile and a gathered
/// handful of rows, for a row whose two nearest centres are within rounding of each other. Each score is
/// within E = γ·(‖x‖² + max‖c‖²) of the true value, γ = (d + 4)·ε_Float (a worst-case dot-product bound,
/// blocking and FMA included), so the true nearest centre is always among the candidates whose score is
/// within 2E of the smallest (2.02E here, for the rounding of the bound itself). With one candidate —
/// nearly every row — that is the answer. With several, their squared distances are recomputed in
/// `Double` in a fixed order, without BLAS, and the smallest wins (the first index on an exact tie).
/// The result is a function of the row and the centres alone: the same on every CPU and BLAS build.
enum NearestCentre {
    /// γ for rows of `d` columns.
    static func gamma(cols d: Int) -> Double { Double(d + 4) * Double(Float.ulpOfOne) }

    /// The chosen centre, its score and the smallest score of every other centre (+∞ when k = 1).
    struct Choice {
        var index: Int
        var score: Float
        var second: Float
    }

    /// Applies the rule to one row. `scores` holds k values s_j; `x` is the row (d floats), `c` the
    /// centres (k × d, row-major); `allowance` is E for this row. O(k), plus O(t·d) for t > 1 candidates.
    @inline(__always)
    static func choose(scores row: UnsafePointer<Float>, k: Int, x: UnsafePointer<Float>,
                       centres c: UnsafePointer<Float>, d: Int, allowance e: Double) -> Choice {
        // One pass for the smallest score and the runner-up; a runner-up within the allowance means
        // several candidates (rare), and only then are distances recomputed.
        var best = row[0], second = Float.infinity, idx = 0
        for j in 1..<max(k, 1) {
            let v = row[j]
            if v < best { second = best; best = v; idx = j } else if v < second { second = v }
        }
        let limit = Double(best) + 2.02 * e
        if Double(second) <= limit {
            let exact = exactNearest(scores: row, k: k, limit: limit, x: x, centres: c, d: d)
            if exact != idx {
                idx = exact
                second = .infinity
                for j in 0..<k where j != idx && row[j] < second { second = row[j] }
            }
        }
        return Choice(index: idx, score: row[idx], second: second)
    }

    /// The candidate (score ≤ `limit`) with the smallest squared distance summed in `Double`, left to
    /// right; the first such index on an exact tie.
    static func exactNearest(scores row: UnsafePointer<Float>, k: Int, limit: Double, x: UnsafePointer<Float>,
                             centres c: UnsafePointer<Float>, d: Int) -> Int {
        var idx = -1, bestDistance = Double.infinity
        for j in 0..<k where Double(row[j]) <= limit {
            let cj = c + j * d
            var s = 0.0
            for t in 0..<d { let v = Double(x[t]) - Double(cj[t]); s += v * v }
            if s < bestDistance { bestDistance = s; idx = j }
        }
        return idx
    }
}
